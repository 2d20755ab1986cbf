"""A small reward model trained on real data, on CPU: held-out pair accuracy and best-of-N on held-out questions.

Data: CodeT's HumanEval file in the AceCode-87K shape (../shared/data/codet/humaneval_codegen16B_acecode_format.jsonl):
164 questions, 100 CodeGen-16B samples each, pass rates over CodeGen-written tests that the canonical solution
passes (synthetic tests, as AceCode's), and each sample's verdict on the official HumanEval tests (``gt_passed``).

1. The 137 questions with synthetic tests are split by question (seeded): 80% train, 20% held out.
2. ``acecoder pairs`` (the AceCoder rule, ``--format trl --prompt-template sampling``, at most
   ``--pairs-per-question`` per question) builds train and held-out pair files separately.
3. A Qwen2-architecture model is built from scratch (random weights; a BPE tokenizer trained on the train
   questions and programs only) and trained with ``acecoder train-rm`` (TRL's RewardTrainer, held-out pairs
   given with ``--eval-pairs``).
4. ``acecoder score`` adds ``rm_score`` to every sample of the held-out questions; best-of-N picks the sample
   with the highest score and counts it right when it passes the official HumanEval tests.

Compared on the held-out questions (mean over questions of the official-test pass rate of the pick):
average (a random sample), best-of-N by rm_score, by the longest and the shortest program (does the RM only
learn length?), by the synthetic-test pass rate (what executing the tests gives), and the oracle (any sample
passes). N = 100 (every sample) and N = 16 (the mean over random subsets of 16).

Run (about 12 CPU minutes on one thread; longer in wall time on a loaded machine):
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/reward_model_real_data.py [--out runs/rm_real]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
SOURCE = DATA / "codet" / "humaneval_codegen16B_acecode_format.jsonl"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]


def run(*args: str | Path) -> str:
    """An acecoder verb as a user runs it; its output is shown and returned."""
    started = time.monotonic()
    done = subprocess.run([*CLI, *map(str, args)], stdout=subprocess.PIPE, text=True)  # progress: stderr
    if done.returncode:
        sys.exit(f"acecoder {args[0]} failed (exit status {done.returncode})")
    print(f"$ acecoder {' '.join(map(str, args))}   ({time.monotonic() - started:.0f}s)\n{done.stdout}")
    return done.stdout


def build_model(folder: Path, texts: list[str], args: argparse.Namespace) -> Path:
    """A randomly initialised Qwen2 model and a BPE tokenizer trained on ``texts``."""
    sys.path.insert(0, str(REPO / "tests"))
    from tiny_models import build_tiny_chat_model

    return build_tiny_chat_model(
        folder, hidden_size=args.hidden, num_layers=args.layers, num_heads=4, head_dim=args.hidden // 4,
        vocab_size=args.vocab, initializer_range=0.02, seed=args.seed, texts=texts,
    )  # fmt: skip


def pick_rate(samples: list[dict], key) -> float:
    """Official-test pass rate of the best sample by ``key`` (ties: the mean over the tied samples)."""
    best = max(key(s) for s in samples)
    tied = [s for s in samples if key(s) == best]
    return sum(s["gt_passed"] for s in tied) / len(tied)


RULES = {
    "average (random sample)": None,
    "best-of-N by rm_score": lambda s: s["rm_score"],
    "best-of-N by longest program": lambda s: len(s["completion"]),
    "best-of-N by shortest program": lambda s: -len(s["completion"]),
    "best-of-N by synthetic-test pass rate": lambda s: s["pass_rate"],
    "oracle (any sample passes)": lambda s: s["gt_passed"],
}


def best_of_n(rows: list[dict], n: int | None, draws: int, seed: int) -> dict[str, float]:
    """Mean over questions of each rule's pick, for N = all samples or the mean over random N-subsets."""
    rng = random.Random(seed)
    totals = dict.fromkeys(RULES, 0.0)
    for row in rows:
        infs = row["inferences"]
        subsets = [infs] if n is None else [rng.sample(infs, n) for _ in range(draws)]
        for name, key in RULES.items():
            values = [
                sum(s["gt_passed"] for s in sub) / len(sub) if key is None else pick_rate(sub, key)
                for sub in subsets
            ]
            totals[name] += statistics.mean(values)
    return {name: total / len(rows) for name, total in totals.items()}


def auc(scores: list[float], passed: list[bool]) -> float | None:
    """Probability that a passing sample outscores a failing one (ties count half); None without both."""
    pos = [s for s, ok in zip(scores, passed, strict=True) if ok]
    neg = [s for s, ok in zip(scores, passed, strict=True) if not ok]
    if not pos or not neg:
        return None
    return sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))


def ranking(rows: list[dict]) -> dict[str, float]:
    """Mean per-question AUC against the official verdicts (questions with passing and failing samples), and
    the mean per-question rank correlation of rm_score with program length."""
    from statistics import correlation

    def ranks(values: list[float]) -> list[int]:
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0] * len(values)
        for rank, index in enumerate(order):
            out[index] = rank
        return out

    aucs: dict[str, list[float]] = {"rm_score": [], "pass_rate": []}
    length = []
    for row in rows:
        infs = row["inferences"]
        passed = [s["gt_passed"] for s in infs]
        for key, values in aucs.items():
            value = auc([s[key] for s in infs], passed)
            if value is not None:
                values.append(value)
        length.append(
            correlation(ranks([s["rm_score"] for s in infs]), ranks([len(s["completion"]) for s in infs]))
        )
    return {
        "questions_with_both_verdicts": len(aucs["rm_score"]),
        "auc_rm_score": statistics.mean(aucs["rm_score"]),
        "auc_synthetic_pass_rate": statistics.mean(aucs["pass_rate"]),
        "rank_correlation_rm_score_length": statistics.mean(length),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "rm_real")
    parser.add_argument("--heldout", type=float, default=0.2, help="fraction of questions held out")
    parser.add_argument("--pairs-per-question", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--max-length", type=int, default=768)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--report-only", action="store_true", help="recompute the figures of a finished --out"
    )
    args = parser.parse_args()
    if args.report_only:
        from acecoder.data import read_rows

        questions = {k: len(read_rows(args.out / f"{k}_rows.jsonl")) for k in ("train", "heldout")}
        previous = args.out / "summary.json"
        seconds = json.loads(previous.read_text())["seconds"] if previous.is_file() else 0.0
        report(args.out, args, questions, seconds)
        return
    if not SOURCE.is_file():
        sys.exit(f"{SOURCE} is absent (set ACECODER_SHARED_DATA)")
    started = time.monotonic()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    from acecoder.data import read_rows, write_rows

    rows = [r for r in read_rows(SOURCE) if r["test_cases"]]
    rng = random.Random(args.seed)
    order = sorted(r["id"] for r in rows)
    rng.shuffle(order)
    held_ids = set(order[: round(args.heldout * len(order))])
    train_rows = [r for r in rows if r["id"] not in held_ids]
    held_rows = [r for r in rows if r["id"] in held_ids]
    write_rows(out / "train_rows.jsonl", train_rows)
    write_rows(out / "heldout_rows.jsonl", held_rows)
    print(f"questions with tests: {len(rows)}   train: {len(train_rows)}   held out: {len(held_rows)}\n")

    cap = ["--max-per-question", str(args.pairs_per_question), "--seed", str(args.seed)]
    fmt = ["--format", "trl", "--prompt-template", "sampling", "--no-progress"]
    run("pairs", out / "train_rows.jsonl", out / "train_pairs.jsonl", *cap, *fmt)
    run("pairs", out / "heldout_rows.jsonl", out / "heldout_pairs.jsonl", *cap, *fmt)

    texts = [r["question"] for r in train_rows] + [
        i["completion"] for r in train_rows for i in r["inferences"]
    ]
    base = build_model(out / "base", texts, args)
    run(
        "train-rm", out / "train_pairs.jsonl", out / "rm", "--model", base,
        "--eval-pairs", out / "heldout_pairs.jsonl", "--epochs", args.epochs, "--lr", args.lr,
        "--batch-size", 16, "--grad-accum", 1, "--max-length", args.max_length, "--threads", 1,
        "--set", "warmup_ratio=0.05", "--set", "logging_steps=25", "--set", f"seed={args.seed}",
    )  # fmt: skip
    run("score", out / "heldout_rows.jsonl", out / "heldout_scored.jsonl", "--model", out / "rm",
        "--batch-size", 16, "--threads", 1, "--no-progress")  # fmt: skip

    report(out, args, {"train": len(train_rows), "heldout": len(held_rows)}, time.monotonic() - started)


def gain_interval(rows: list[dict], n: int | None, seed: int) -> tuple[float, float, float]:
    """Mean per-question gain of best-of-N by rm_score over the average sample, with a 95% bootstrap interval
    over questions."""
    draws = 1 if n is None else 200
    gains = []
    for row in rows:
        picks = best_of_n([row], n, draws, seed)
        gains.append(picks["best-of-N by rm_score"] - picks["average (random sample)"])
    rng = random.Random(seed)
    means = sorted(statistics.mean(rng.choices(gains, k=len(gains))) for _ in range(5000))
    return statistics.mean(gains), means[124], means[-125]


def report(out: Path, args: argparse.Namespace, questions: dict[str, int], seconds: float) -> None:
    """Best-of-N and ranking figures from a finished run's files; written to ``out/summary.json``."""
    from acecoder.data import read_rows

    metrics = json.loads((out / "rm" / "metrics.json").read_text())
    scored = read_rows(out / "heldout_scored.jsonl")
    results = {
        "questions": questions,
        "pairs": metrics["pair_counts"],
        "heldout_pair_accuracy": metrics["heldout"],
        "eval_history": metrics["training"]["eval_history"],
        "train_seconds": metrics["training"]["seconds"],
        "best_of_100": best_of_n(scored, None, 1, args.seed),
        "best_of_16": best_of_n(scored, 16, 200, args.seed),
        "rm_gain_over_average": {
            "N=16": gain_interval(scored, 16, args.seed),
            "N=100": gain_interval(scored, None, args.seed),
        },
        "ranking": ranking(scored),
        "model": {"hidden": args.hidden, "layers": args.layers, "vocab": args.vocab},
        "args": {k: str(v) for k, v in vars(args).items()},
        "seconds": round(seconds, 1),
    }
    (out / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    h = metrics["heldout"]
    print(f"held-out pair accuracy: {h['accuracy']:.4f} on {h['pairs']} pairs of {h['questions']} questions")
    print(f"\n| pick on {len(scored)} held-out questions | N = 16 | N = 100 |\n|---|---:|---:|")
    for name in RULES:
        print(f"| {name} | {results['best_of_16'][name]:.3f} | {results['best_of_100'][name]:.3f} |")
    for n, (mean, low, high) in results["rm_gain_over_average"].items():
        print(
            f"best-of-N by rm_score minus average, {n}: {mean:+.3f} (95% bootstrap over questions {low:+.3f} to {high:+.3f})"
        )
    r = results["ranking"]
    print(
        f"\nper-question AUC vs the official verdicts ({r['questions_with_both_verdicts']} questions with both): "
        f"rm_score {r['auc_rm_score']:.3f}, synthetic-test pass rate {r['auc_synthetic_pass_rate']:.3f}; "
        f"rank correlation of rm_score with program length {r['rank_correlation_rm_score_length']:+.3f}"
    )
    print(f"\ntotal time: {results['seconds']:.0f}s; wrote {out / 'summary.json'}")


if __name__ == "__main__":
    main()
