"""A CPU-sized demonstration that `acecoder train-rl`'s loop learns from test-case rewards, over several seeds.

For each seed:

1. Starts the execution engine (before any model exists in this process; one engine serves every seed).
2. Builds a tiny Qwen2-architecture model and tokenizer from scratch (no download) for a toy function-writing
   task: "Write f(x) that returns x plus 7" with assert tests, asked with the project's sampling template
   (instruction, question and first two tests in a docstring, the assistant prefill opening a python fence).
   60 questions (3 operations x constants 1-20); the seed picks a random quarter as held-out questions. The
   tokenizer is trained on the training questions' texts only.
3. Fine-tunes it briefly with TRL's SFTTrainer on the training questions, so it writes some correct programs
   and many wrong ones.
4. Trains it with `acecoder.reward.rl_train.train_rl` (TRL GRPO + the binary test reward) on the same training
   questions.
5. Reports the pass rate on the held-out questions (operations and constants never trained on together) after
   each stage: greedy (one program per question) and sampled at temperature 1.0 (8 per question).

With several seeds it prints a table: mean and range over the seeds, how many seeds learned (and why the
others did not), and the time per seed. Each seed's report is kept in OUT/seed-N/report.json: a rerun of the
same command reuses the seeds already finished with the same settings (`--fresh` redoes them).

`--validation` is for tuning the recipe: it never reads the held-out questions, holds out a quarter of the
training questions instead and reports on those (this is how the SFT recipe was chosen).

Run from the repository root (about 2 minutes per seed on the 2-core machine with one thread):

    OMP_NUM_THREADS=1 .venv/bin/python examples/rl_cpu_demo.py --seeds 0-4 --out runs/rl_demo
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

OPS = {"plus": "+", "minus": "-", "times": "*"}
INPUTS = (0, 1, 2, 5, 10, 13)
SAMPLES = 8  # sampled programs per held-out question
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
    "{% if not (loop.last and m['role'] == 'assistant') %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
STAGES = ("base", "sft", "rl")
METRICS = ("greedy_pass_rate", "sampled_pass_rate")
# A seed "learned" when RL raised both its training reward and its held-out sampled pass rate by this much.
LEARN_MARGIN = 0.02
NO_SIGNAL = 0.05  # training reward of the first RL steps below this: few groups hold any passing sample
SATURATED = 0.9  # held-out sampled pass rate after SFT at or above this: little left to learn


def task(op: str, k: int) -> dict:
    symbol = OPS[op]
    values = {x: eval(f"{x} {symbol} {k}") for x in INPUTS}  # the toy oracle
    return {
        "id": f"{op}-{k}",
        "question": f"Write a function f(x) that returns x {op} {k}.",
        "test_cases": [f"assert f({x}) == {y}" for x, y in values.items()],
        "answer": f"\ndef f(x):\n    return x {symbol} {k}\n```",
    }


def split_tasks(seed: int, validation: bool = False) -> tuple[list[dict], list[dict]]:
    """Training and evaluation questions: every (operation, constant) pair, a random quarter held out.

    With ``validation`` the held-out quarter is dropped unseen and a quarter of the remaining training questions
    is held out in its place (for tuning), so nothing about the held-out questions can leak into a recipe."""
    tasks = [task(op, k) for op in OPS for k in range(1, 21)]
    random.Random(seed).shuffle(tasks)
    held = len(tasks) // 4
    train, evaluation = tasks[held:], tasks[:held]
    if validation:
        inner = len(train) // 4
        train, evaluation = train[inner:], train[:inner]
    return train, evaluation


def parse_seeds(spec: str) -> list[int]:
    """``"0-4"``, ``"0,3,7"`` or ``"0-2,9"`` -> the seeds, in order, without repeats."""
    seeds: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part[1:]:
                low, high = (int(x) for x in part.split("-", 1))
                if high < low:
                    raise ValueError
                chosen = range(low, high + 1)
            else:
                chosen = [int(part)]
        except ValueError:
            raise ValueError(f"--seeds: {part!r} is not a seed or a range like 0-4") from None
        seeds += [s for s in chosen if s not in seeds]
    if any(s < 0 for s in seeds):
        raise ValueError("--seeds: seeds are non-negative integers")
    return seeds


def build_model(out: Path, texts: list[str], seed: int) -> Path:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

    tok = Qwen2Tokenizer().train_new_from_iterator(
        texts, vocab_size=600, new_special_tokens=["<|im_start|>", "<|im_end|>"]
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.eos_token, tok.pad_token = "<|im_end|>", "<|endoftext|>"
    tok.save_pretrained(out)
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=32,
        max_position_embeddings=512,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out)
    return out


def sft(model_dir: Path, out: Path, prompts: list[str], answers: list[str], args, seed: int) -> Path:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_dict({"prompt": prompts, "completion": [a + "<|im_end|>" for a in answers]})
    config = SFTConfig(
        output_dir=str(out),
        max_steps=args.sft_steps,
        per_device_train_batch_size=16,
        learning_rate=args.sft_learning_rate,
        lr_scheduler_type=args.sft_schedule,
        warmup_steps=args.sft_warmup,  # a float below 1: a share of the steps
        logging_steps=max(args.sft_steps // 5, 1),
        save_strategy="no",
        report_to="none",
        bf16=False,
        use_cpu=True,
        seed=seed,
        max_length=256,
    )
    trainer = SFTTrainer(model=str(model_dir), args=config, train_dataset=data)
    trainer.train()
    trainer.save_model(str(out))
    trainer.processing_class.save_pretrained(str(out))
    return out


def evaluate(model_dir: Path, rows: list[dict], prompts: list[str], reward, samples: int = SAMPLES) -> dict:
    """Pass rates on ``rows``: greedy (one program each) and sampled at temperature 1.0 (``samples`` each)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    batch = tok(prompts, return_tensors="pt", padding=True)
    torch.manual_seed(0)
    with torch.no_grad():
        greedy = model.generate(**batch, max_new_tokens=24, do_sample=False)
        sampled = model.generate(
            **batch,
            max_new_tokens=24,
            do_sample=True,
            temperature=1.0,
            top_p=1.0,
            num_return_sequences=samples,
        )
    width = batch["input_ids"].shape[1]
    greedy_text = tok.batch_decode(greedy[:, width:], skip_special_tokens=True)
    sampled_text = tok.batch_decode(sampled[:, width:], skip_special_tokens=True)
    tests = [r["test_cases"] for r in rows]
    greedy_rewards = reward(completions=greedy_text, test_cases=tests)
    sampled_rewards = reward(completions=sampled_text, test_cases=[t for t in tests for _ in range(samples)])
    if None in greedy_rewards or None in sampled_rewards:
        raise RuntimeError("the execution engine failed on some programs (reward None); nothing to report")
    return {
        "greedy_pass_rate": round(sum(greedy_rewards) / len(rows), 4),
        "sampled_pass_rate": round(sum(sampled_rewards) / len(sampled_rewards), 4),
        "example": greedy_text[0],
    }


def code_version() -> str:
    """A digest of the code that decides a seed's result (not of the table code, so a reused report survives
    edits to the printing)."""
    import inspect

    parts = [
        inspect.getsource(f) for f in (task, split_tasks, build_model, sft, evaluate, rl_config, run_seed)
    ]
    return hashlib.sha256("".join(parts).encode()).hexdigest()[:16]


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("torch", "transformers", "trl", "acecoder")}


def settings(args, seed: int) -> dict[str, Any]:
    """What decides a seed's result: the recipe, the seed, the code and the libraries (a reused report must
    match all of them)."""
    return {
        "seed": seed,
        "validation": args.validation,
        "sft_steps": args.sft_steps,
        "sft_learning_rate": args.sft_learning_rate,
        "sft_schedule": args.sft_schedule,
        "sft_warmup": args.sft_warmup,
        "rl_steps": args.rl_steps,
        "learning_rate": args.learning_rate,
        "code": code_version(),
        "versions": library_versions(),
    }


def rl_config(args, seed: int):
    from acecoder.reward.rl_config import RLConfig

    return RLConfig(
        reward="binary",
        test_timeout=0.5,
        reward_workers=1,
        trainer={
            "num_generations": 8,
            "generation_batch_size": 64,  # 8 questions x 8 samples per step
            "per_device_train_batch_size": 64,
            "gradient_accumulation_steps": 1,
            "num_iterations": 1,
            "learning_rate": args.learning_rate,
            "lr_scheduler_type": "constant",
            "beta": 0.01,
            "epsilon": 0.2,
            "scale_rewards": "batch",
            "loss_type": "dapo",
            "temperature": 1.0,
            "top_p": 1.0,
            "max_completion_length": 24,
            "logging_steps": 1,
            "save_steps": 1000,
            "seed": seed,
        },
    )


def run_seed(seed: int, args, reward) -> dict[str, Any]:
    """One seed from scratch: base model, SFT, RL; each stage evaluated. Returns (and writes) its report."""
    import torch
    from transformers import AutoTokenizer

    from acecoder.reward.rl_data import render_prompt
    from acecoder.sampling import SAMPLING_TEMPLATE

    out = args.out / f"seed-{seed}"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    started, cpu_started, load_before = time.time(), time.process_time(), os.getloadavg()[0]
    torch.set_num_threads(1)
    train, held = split_tasks(seed, args.validation)
    corpus = [  # the tokenizer's texts: training prompts as the chat template renders them, and their answers
        f"<|im_start|>user\n{SAMPLING_TEMPLATE.user_message(r['question'], r['test_cases'])}<|im_end|>\n"
        f"<|im_start|>assistant\n{SAMPLING_TEMPLATE.prefill}{r['answer']}<|im_end|>"
        for r in train
    ] * 5
    base = build_model(out / "base", corpus, seed)
    tok = AutoTokenizer.from_pretrained(base)
    train_prompts = [render_prompt(SAMPLING_TEMPLATE, tok, r) for r in train]
    held_prompts = [render_prompt(SAMPLING_TEMPLATE, tok, r) for r in held]
    report: dict[str, Any] = {
        "settings": settings(args, seed),
        "train_questions": len(train),
        "held_out_questions": len(held),
    }
    report["base"] = evaluate(base, held, held_prompts, reward)
    print(f"seed {seed} base model:", report["base"], flush=True)

    t = time.time()
    tuned = sft(base, out / "sft", train_prompts, [r["answer"] for r in train], args, seed)
    report["sft_seconds"] = round(time.time() - t, 1)
    report["sft"] = evaluate(tuned, held, held_prompts, reward)
    print(f"seed {seed} after SFT:", report["sft"], flush=True)
    # on the training questions: how much is left for RL to learn from (GRPO needs groups with mixed rewards)
    report["sft_train"] = evaluate(tuned, train, train_prompts, reward)
    print(f"seed {seed} after SFT, training questions:", report["sft_train"], flush=True)

    if args.rl_steps > 0:
        rows_file = out / "train_rows.jsonl"
        rows_file.write_text(
            "".join(json.dumps({k: r[k] for k in ("id", "question", "test_cases")}) + "\n" for r in train)
        )
        from acecoder.reward.rl_train import train_rl

        t = time.time()
        result = train_rl(
            rl_config(args, seed), str(tuned), rows_file, out / "rl", max_steps=args.rl_steps, resume=False
        )
        report["rl_seconds"] = round(time.time() - t, 1)
        report["rl"] = evaluate(result.final_model, held, held_prompts, reward)
        print(f"seed {seed} after RL:", report["rl"], flush=True)
        logs = [json.loads(line) for line in (out / "rl" / "rl_log.jsonl").read_text().splitlines()]
        rewards = [log["reward"] for log in logs if "reward" in log]
        report["train_reward_first_5_steps"] = round(sum(rewards[:5]) / max(len(rewards[:5]), 1), 3)
        report["train_reward_last_5_steps"] = round(sum(rewards[-5:]) / max(len(rewards[-5:]), 1), 3)
    report["total_seconds"] = round(time.time() - started, 1)
    report["cpu_seconds"] = round(time.process_time() - cpu_started, 1)  # this process (the trainer) only
    report["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report


def reusable(path: Path, wanted: dict[str, Any]) -> dict[str, Any] | None:
    """A finished seed's report when it was made with exactly these settings, else None."""
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("settings") == wanted else None


# -- the table over seeds (pure functions of the reports; tested without running anything) --


def spread(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def verdict(report: dict[str, Any]) -> tuple[bool, str]:
    """Did RL improve this seed? (True, "") or (False, why not)."""
    if "rl" not in report:
        return False, "no RL run (--rl-steps 0)"
    first, last = report["train_reward_first_5_steps"], report["train_reward_last_5_steps"]
    sft_sampled, rl_sampled = report["sft"]["sampled_pass_rate"], report["rl"]["sampled_pass_rate"]
    if rl_sampled - sft_sampled >= LEARN_MARGIN and last - first >= LEARN_MARGIN:
        return True, ""
    train_sampled = report.get("sft_train", {}).get("sampled_pass_rate", first)
    if train_sampled >= SATURATED or sft_sampled >= SATURATED:
        return False, (
            f"nothing left to learn: after SFT the sampled pass rate is {train_sampled:.2f} on the training "
            f"questions and {sft_sampled:.2f} held out"
        )
    if min(first, train_sampled) < NO_SIGNAL and last - first < LEARN_MARGIN:
        return False, (
            f"no signal: training reward {first:.2f} in the first RL steps (almost no group has a passing "
            "sample, so GRPO's advantages are zero)"
        )
    if last - first < LEARN_MARGIN:
        return False, f"training reward did not rise ({first:.2f} -> {last:.2f})"
    return False, (
        f"training reward rose ({first:.2f} -> {last:.2f}) but the held-out sampled pass rate did not "
        f"({sft_sampled:.2f} -> {rl_sampled:.2f}): no transfer to unseen questions"
    )


def summarize(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and range over seeds of every stage's pass rates, the training reward, the times; who learned."""
    if not reports:
        raise ValueError("no seed reports to summarize")
    summary: dict[str, Any] = {"seeds": [r["settings"]["seed"] for r in reports]}
    for stage in STAGES:
        have = [r for r in reports if stage in r]
        if have:
            summary[stage] = {m: spread([r[stage][m] for r in have]) for m in METRICS}
    if all("sft_train" in r for r in reports):
        summary["sft_train"] = {m: spread([r["sft_train"][m] for r in reports]) for m in METRICS}
    with_rl = [r for r in reports if "rl" in r]
    if with_rl:
        for key in ("train_reward_first_5_steps", "train_reward_last_5_steps", "rl_seconds"):
            summary[key] = spread([r[key] for r in with_rl])
        verdicts = [(r["settings"]["seed"], *verdict(r)) for r in with_rl]
        summary["learned"] = sum(ok for _, ok, _ in verdicts)
        summary["did_not_learn"] = {str(seed): why for seed, ok, why in verdicts if not ok}
    for key in ("sft_seconds", "total_seconds", "cpu_seconds"):
        if all(key in r for r in reports):
            summary[key] = spread([r[key] for r in reports])
    loads = [x for r in reports for x in r.get("load_average", [])]
    if loads:
        summary["load_average"] = spread(loads)
    return summary


def _cell(s: dict[str, float], digits: int = 2) -> str:
    return f"{s['mean']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def format_table(summary: dict[str, Any], reports: list[dict[str, Any]]) -> str:
    """The Markdown tables the README shows: mean (min-max) over seeds, then one row per seed."""
    n = len(summary["seeds"])
    lines = [
        f"| stage ({n} seeds: mean (min-max)) | held-out greedy pass rate | held-out sampled pass rate "
        "| training reward (mean of 5 steps) | seconds |",
        "|---|---:|---:|---:|---:|",
    ]
    names = {"base": "random weights", "sft": "after SFT", "rl": "after RL"}
    for stage in STAGES:
        if stage not in summary:
            continue
        reward_cell, seconds = "", ""
        if stage == "sft":
            seconds = _cell(summary["sft_seconds"], 0)
            if "train_reward_first_5_steps" in summary:
                reward_cell = _cell(summary["train_reward_first_5_steps"]) + " (first RL steps)"
        if stage == "rl":
            reward_cell = _cell(summary["train_reward_last_5_steps"]) + " (last steps)"
            seconds = _cell(summary["rl_seconds"], 0)
        greedy, sampled = (_cell(summary[stage][m]) for m in METRICS)
        lines.append(f"| {names[stage]} | {greedy} | {sampled} | {reward_cell} | {seconds} |")
    lines += [
        "",
        "| seed | held-out greedy SFT -> RL | held-out sampled SFT -> RL | training questions sampled after SFT "
        "| training reward first -> last 5 steps | seconds | learned |",
        "|---:|---|---|---:|---|---:|---|",
    ]
    for r in reports:
        seed = r["settings"]["seed"]
        rl = r.get("rl", {})
        arrow = " -> "
        greedy = f"{r['sft']['greedy_pass_rate']:.2f}" + (
            arrow + f"{rl['greedy_pass_rate']:.2f}" if rl else ""
        )
        sampled = f"{r['sft']['sampled_pass_rate']:.2f}" + (
            arrow + f"{rl['sampled_pass_rate']:.2f}" if rl else ""
        )
        rewards = (
            f"{r['train_reward_first_5_steps']:.2f} -> {r['train_reward_last_5_steps']:.2f}" if rl else ""
        )
        train = f"{r['sft_train']['sampled_pass_rate']:.2f}" if "sft_train" in r else ""
        ok, why = verdict(r)
        lines.append(
            f"| {seed} | {greedy} | {sampled} | {train} | {rewards} | {r['total_seconds']:.0f} | "
            f"{'yes' if ok else 'no: ' + why} |"
        )
    footer = [f"\nseconds per seed (whole seed, evaluations included): {_cell(summary['total_seconds'], 0)}"]
    if "sft_train" in summary:
        greedy, sampled = (_cell(summary["sft_train"][m]) for m in METRICS)
        footer.insert(0, f"\nafter SFT, on the training questions: greedy {greedy}, sampled {sampled}")
    if "cpu_seconds" in summary:
        footer.append(f"CPU seconds per seed (the trainer's process): {_cell(summary['cpu_seconds'], 0)}")
    if "load_average" in summary:
        footer.append(f"1-minute load average during the runs: {_cell(summary['load_average'], 1)}")
    if "learned" in summary:
        footer.append(f"seeds where RL learned: {summary['learned']} of {len(summary['seeds'])}")
    return "\n".join(lines + footer)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/rl_demo"))
    parser.add_argument("--seeds", default="0-4", help="seeds to run: 0-4 (default), 0,3,7 or 0-2,9")
    parser.add_argument("--seed", dest="seeds", help="one seed (same as --seeds N)")
    parser.add_argument("--sft-steps", type=int, default=400)
    parser.add_argument("--sft-learning-rate", type=float, default=3e-3)
    parser.add_argument("--sft-schedule", default="cosine", help="a transformers lr_scheduler_type")
    parser.add_argument("--sft-warmup", type=float, default=0.1, help="warm-up share of the SFT steps")
    parser.add_argument("--rl-steps", type=int, default=100, help="0: SFT only")
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="RL learning rate")
    parser.add_argument(
        "--validation",
        action="store_true",
        help="tune on the training questions: hold out a quarter of them, never read the held-out ones",
    )
    parser.add_argument("--fresh", action="store_true", help="redo seeds that already have a report")
    args = parser.parse_args(argv)
    try:
        args.seeds = parse_seeds(str(args.seeds))
    except ValueError as error:
        parser.error(str(error))
    if args.sft_steps < 1 or args.rl_steps < 0:
        parser.error("--sft-steps must be at least 1 and --rl-steps at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from acecoder.execution import Limits
    from acecoder.reward import TestCaseReward

    # The engine first, while this process has no model in it; it scores every evaluation of every seed.
    reward = TestCaseReward("binary", Limits(timeout=0.5), workers=1)
    reports = []
    try:
        for seed in args.seeds:
            report_file = args.out / f"seed-{seed}" / "report.json"
            done = None if args.fresh else reusable(report_file, settings(args, seed))
            if done is not None:
                print(f"seed {seed}: reusing {report_file} (same settings)", flush=True)
            reports.append(done or run_seed(seed, args, reward))
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; finished seeds are kept in {args.out} and a rerun reuses them", file=sys.stderr
        )
        return 130
    finally:
        reward.close()
    summary = summarize(reports)
    command = "examples/rl_cpu_demo.py " + " ".join(sys.argv[1:] if argv is None else argv)
    (args.out / "seeds.json").write_text(
        json.dumps({"command": command, "summary": summary, "reports": reports}, indent=1) + "\n"
    )
    print(json.dumps(summary, indent=1))
    print()
    print(format_table(summary, reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
