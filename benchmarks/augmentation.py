"""Does test augmentation make the binary reward true? Precision and recall against HumanEval+ / MBPP+ labels.

Data (../shared/data, read here only to build rows and labels; augmentation itself sees only each row):

* CodeT's HumanEval rows (``codet/humaneval_codegen16B_acecode_format.jsonl``, MIT): CodeGen-written asserts the
  canonical solution passes (the AceCode recipe), 100 CodeGen-16B samples per question; the 137 questions with
  tests. Reference: ``question+canonical_solution``. Labels: HumanEval+ verdicts of all 16,400 samples from
  ``acecoder evaluate --benchmark humaneval+`` (computed once, ``--he-labels``), and the official HumanEval
  verdicts the file carries (``gt_passed``).
* MBPP (held out: nothing here was tuned on it): the 378 MBPP+ v0.2.0 tasks as rows (question = the prompt,
  tests = MBPP's 3 asserts as MBPP+ restates them for its signatures, reference = the canonical solution; the
  bundled pre-release file) with the six models' greedy samples and evalplus's MBPP+ labels
  (``evalplus/greedy_samples_6models_humaneval_mbpp_labeled.jsonl``).

The binary reward is ``pass_rate == 1`` under ``acecoder execute``'s defaults (1 s per test, 0.25 s per program).
Printed: precision and recall before and after augmentation (reference; consensus of the row's passing samples),
tests per row, mutation scores, time; with ``--ablate`` the same with each domain rule turned off; with
``--operators`` which mutation operators made the new tests right programs fail; pairs and the hard subset
before and after; best-of-N by pass rate before/after against the ``codet`` ranking of ``acecoder evaluate``
(``--codet``); and the time to augment 400 rows with up to 100 new tests each.

Run: ``.venv/bin/python benchmarks/augmentation.py [--workers 2] [--ablate [RULE ...]] [--codet] [--no-consensus]
[--only humaneval|mbpp|timing] [--out runs/augmentation]``; the reference variant's executed rows (per-sample test
results) are kept in ``OUT/<dataset>/reference_executed.jsonl`` for a look at what the tests still miss."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
CODET = SHARED / "codet"
CODET_ROWS = CODET / "humaneval_codegen16B_acecode_format.jsonl"
CODET_LABELED = CODET / "humaneval_codegen16B_100samples_labeled.jsonl"
CODET_TESTS = CODET / "HumanEval_codegen16B_temp0.8_topp0.95_num100_max300_test_case.jsonl"
GREEDY = SHARED / "evalplus" / "greedy_samples_6models_humaneval_mbpp_labeled.jsonl"
HE_PLUS = REPO / "src" / "acecoder" / "resources" / "benchmarks" / "HumanEvalPlus-v0.1.10.jsonl.gz"
MBPP_PLUS = REPO / "src" / "acecoder" / "resources" / "benchmarks" / "MbppPlus-prerelease-399.jsonl.gz"
MBPP_IDS = REPO / "src" / "acecoder" / "resources" / "benchmarks" / "MbppPlus-v0.2.0-task-ids.txt"


def load(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


# -- data ------------------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    name: str
    rows: list[dict[str, Any]]
    plus: dict[tuple[str, int], bool]
    base: dict[tuple[str, int], bool]
    reference: str
    template: str | None


def he_labels(workers: int, out: Path, path: Path | None) -> dict[tuple[str, int], dict[str, bool]]:
    """HumanEval+ and base verdicts of the 16,400 CodeT samples from ``acecoder evaluate``."""
    target = path or out / "codet_heplus.jsonl"
    if not target.exists():
        print(f"computing HumanEval+ labels of the 16,400 samples into {target} (slow, once)", flush=True)
        command = [
            sys.executable,
            "-c",
            "from acecoder.cli import main; main()",
            "evaluate",
            str(CODET_LABELED),
        ]
        command += [
            str(target),
            "--benchmark",
            "humaneval+",
            "--k",
            "1",
            "--workers",
            str(workers),
            "--no-progress",
        ]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    labels = {}
    for row in load(target):
        labels[(row["task_id"], int(row["sample_idx"]))] = {
            "plus": row["plus_status"] == "pass",
            "base": row["base_status"] == "pass",
        }
    return labels


def codet_dataset(labels: dict[tuple[str, int], dict[str, bool]], reference: str = "plus") -> Dataset:
    """CodeT's rows with tests; ``reference``: ``plus`` (HumanEval+'s canonical solution, which its labels are
    defined by: it fixes a few of HumanEval's) or ``base`` (HumanEval's, the row's ``canonical_solution``)."""
    with gzip.open(HE_PLUS, "rt", encoding="utf-8") as f:
        plus_solutions = {t["task_id"]: t["prompt"] + t["canonical_solution"] for t in map(json.loads, f)}
    rows = []
    for row in load(CODET_ROWS):
        if not row["test_cases"]:
            continue
        row = {k: v for k, v in row.items() if k != "gt_test"}  # the official tests never reach augmentation
        row["plus_solution"] = plus_solutions[row["id"]]
        row["inferences"] = [
            {k: v for k, v in inf.items() if k in ("model_name", "completion_id", "completion")}
            for inf in row["inferences"]
        ]
        rows.append(row)
    plus = {k: v["plus"] for k, v in labels.items()}
    base = {k: v["base"] for k, v in labels.items()}
    field = "plus_solution" if reference == "plus" else "question+canonical_solution"
    return Dataset("HumanEval (CodeT)", rows, plus, base, field, "{question}{completion}")


def mbpp_dataset() -> Dataset:
    """MBPP+ v0.2.0's 378 tasks as rows: the question (its prompt), MBPP's 3 asserts as MBPP+ restates them
    (``assertion``: the signatures the samples were written for), the canonical solution as the reference."""
    ids = [line.strip() for line in MBPP_IDS.read_text().splitlines() if line.strip()]
    with gzip.open(MBPP_PLUS, "rt", encoding="utf-8") as f:
        tasks = {t["task_id"]: t for t in map(json.loads, f)}
    samples: dict[str, list[dict[str, Any]]] = {}
    for sample in load(GREEDY):
        if sample["dataset"] == "mbpp":
            samples.setdefault(sample["task_id"], []).append(sample)
    rows, plus, base = [], {}, {}
    for task_id in ids:
        task = tasks.get(task_id)
        if task is None or task_id not in samples:
            continue
        inferences = []
        for i, s in enumerate(samples[task_id]):
            inferences.append({"model_name": s["model"], "completion_id": i, "completion": s["solution"]})
            plus[(task_id, i)] = s["plus_status"] == "pass"
            base[(task_id, i)] = s["base_status"] == "pass"
        asserts = [
            line.strip() for line in task["assertion"].splitlines() if line.strip().startswith("assert")
        ]
        rows.append(
            {
                "id": task_id,
                "source": "mbpp",
                "question": task["prompt"].strip().strip("'").strip(),
                "test_cases": asserts,
                "canonical_solution": task["canonical_solution"],
                "inferences": inferences,
            }
        )
    return Dataset("MBPP (held out)", rows, plus, base, "canonical_solution", None)


# -- measuring -------------------------------------------------------------------------------------------------


def execute(rows: list[dict[str, Any]], template: str | None, workers: int) -> list[dict[str, Any]]:
    """Pass rates as ``acecoder execute`` computes them by default."""
    from acecoder.execution import ExecutionEngine, execute_rows
    from acecoder.execution.limits import SAMPLED

    limits = SAMPLED.limits()
    fresh = [json.loads(json.dumps(r)) for r in rows]
    with ExecutionEngine(workers=workers, limits=limits) as engine:
        return list(execute_rows(fresh, engine, program_template=template))


def confusion(rows: list[dict[str, Any]], labels: dict[tuple[str, int], bool]) -> dict[str, Any]:
    tp = fp = fn = tn = 0
    for row in rows:
        for inf in row["inferences"]:
            truth = labels[(row["id"], int(inf["completion_id"]))]
            reward = inf.get("pass_rate") == 1.0
            tp += reward and truth
            fp += reward and not truth
            fn += truth and not reward
            tn += not reward and not truth
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall}


def augment(
    rows: list[dict[str, Any]],
    out: Path,
    *,
    reference: str | None,
    consensus: bool,
    template: str | None,
    workers: int,
    **settings: Any,
) -> tuple[list[dict[str, Any]], dict[str, Any], float]:
    from acecoder.augmentation import ConsensusSource, OracleSource, augment_tests_file
    from acecoder.execution import ExecutionEngine
    from acecoder.synthesis import FieldOracle

    source_path = out.with_name(out.name + ".in.jsonl")
    write(source_path, rows)
    if consensus:
        source: Any = ConsensusSource(program_template=template)
    else:
        assert reference is not None
        source = OracleSource(FieldOracle(reference))
    started, cpu = time.monotonic(), cpu_seconds()
    with ExecutionEngine(workers=workers) as engine:
        summary = augment_tests_file(source_path, out, source, engine, resume=False, **settings)
    elapsed = time.monotonic() - started
    summary = {**summary.as_dict(), "cpu_seconds": cpu_seconds() - cpu}
    return load(out), summary, elapsed


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the engine's sandbox servers, once closed): what
    the work costs whatever else loads the machine."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_avg() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def fmt(c: dict[str, Any]) -> str:
    return f"P {c['precision']:.3f} R {c['recall']:.3f} (TP {c['tp']}, FP {c['fp']}, FN {c['fn']})"


def tests_per_row(rows: list[dict[str, Any]]) -> float:
    return sum(len(r["test_cases"]) for r in rows) / len(rows)


def mutation(rows: list[dict[str, Any]]) -> str:
    scores = [r["mutation_score"] for r in rows if r.get("mutation_score", {}).get("after") is not None]
    if not scores:
        return "-"
    before = sum(s["before"] for s in scores) / len(scores)
    after = sum(s["after"] for s in scores) / len(scores)
    return f"{before:.3f} -> {after:.3f} ({len(scores)} rows)"


def operator_costs(rows: list[dict[str, Any]], labels: dict[tuple[str, int], bool]) -> Counter[str]:
    """For each right program a new test fails: the operator that made that test (first failing new test)."""
    costs: Counter[str] = Counter()
    for row in rows:
        provenance = row.get("test_provenance") or []
        for inf in row["inferences"]:
            if not labels[(row["id"], int(inf["completion_id"]))]:
                continue
            results = inf.get("test_results") or []
            originals_pass = all(r for r, p in zip(results, provenance, strict=False) if p == "original")
            if not originals_pass:
                continue
            for r, p in zip(results, provenance, strict=False):
                if p != "original" and not r:
                    first = p.split(":", 1)[-1].split("+")[0]
                    costs[first.split(".item")[0] if first.startswith("list.item") else first] += 1
                    break
    return costs


# -- pairs, hard subset, best-of-N -----------------------------------------------------------------------------


def pairs_effect(before: list[dict[str, Any]], after: list[dict[str, Any]], labels: dict) -> dict[str, Any]:
    from acecoder.pairs.build import PairConfig, pairs_for_row
    from acecoder.pairs.hard import hard_rows

    def pairs(rows: list[dict[str, Any]]) -> dict[tuple[str, int, int], tuple[bool, bool]]:
        out = {}
        for row in rows:
            infs = row["inferences"]
            for p in pairs_for_row(row, PairConfig()):
                chosen = labels[(row["id"], int(infs[p.chosen_index]["completion_id"]))]
                rejected = labels[(row["id"], int(infs[p.rejected_index]["completion_id"]))]
                out[(row["id"], p.chosen_index, p.rejected_index)] = (chosen, rejected)
        return out

    def quality(ps: dict) -> dict[str, int]:
        c = Counter(
            "right" if a and not b else "both_right" if a else "inverted" if b else "both_wrong"
            for a, b in ps.values()
        )
        return {"pairs": len(ps), **dict(c)}

    pb, pa = pairs(before), pairs(after)
    hb, _ = hard_rows(before)
    ha, _ = hard_rows(after)
    ids_b, ids_a = {r["id"] for r in hb}, {r["id"] for r in ha}
    return {
        "pairs_before": quality(pb),
        "pairs_after": quality(pa),
        "pairs_kept": len(set(pb) & set(pa)),
        "pairs_removed": len(set(pb) - set(pa)),
        "pairs_added": len(set(pa) - set(pb)),
        "hard_before": len(ids_b),
        "hard_after": len(ids_a),
        "hard_both": len(ids_b & ids_a),
    }


def best_of(
    rows: list[dict[str, Any]], labels: dict, ns: tuple[int, ...] = (1, 4, 16, 100)
) -> dict[int, float]:
    from acecoder.evaluation.metrics import best_of_n

    out = {}
    for n in ns:
        values = []
        for row in rows:
            scores = [inf.get("pass_rate") for inf in row["inferences"]]
            correct = [labels[(row["id"], int(inf["completion_id"]))] for inf in row["inferences"]]
            if n <= len(scores):
                values.append(best_of_n(scores, correct, n))
        if values:  # (MBPP's rows have six samples)
            out[n] = 100 * sum(values) / len(values)
    return out


def codet_best_of(rows: list[dict[str, Any]], out: Path, workers: int) -> dict[str, Any]:
    """``acecoder evaluate --benchmark humaneval+ --rank-by codet --rank-by pass_rate`` on the executed rows."""
    source = out / "codet_for_evaluate.jsonl"
    write(source, rows)
    target = out / "codet_evaluated.jsonl"
    command = [
        sys.executable,
        "-c",
        "from acecoder.cli import main; main()",
        "evaluate",
        str(source),
        str(target),
    ]
    command += ["--benchmark", "humaneval+", "--rank-by", "codet", "--rank-by", "pass_rate", "--codet-tests"]
    command += [str(CODET_TESTS), "--k", "1", "--workers", str(workers), "--no-progress", "--no-resume"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "codet_evaluated.summary.json").read_text())["groups"]["all"]


# -- main ------------------------------------------------------------------------------------------------------


def measure(data: Dataset, args: argparse.Namespace, results: dict[str, Any]) -> None:
    out = args.out / data.name.split()[0].lower()
    print(f"\n## {data.name}: {len(data.rows)} rows, {sum(len(r['inferences']) for r in data.rows)} samples")
    t = time.monotonic()
    cached = out / "before_executed.json"
    if cached.exists():  # the rows and the engine's verdicts do not change between runs
        before = json.loads(cached.read_text())
    else:
        before = execute(data.rows, data.template, args.workers)
        out.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(before))
    print(
        f"before: {tests_per_row(before):.1f} tests/row; executed in {time.monotonic() - t:.0f} s ({load_avg()})"
    )
    plus_b, base_b = confusion(before, data.plus), confusion(before, data.base)
    print(f"  vs plus labels: {fmt(plus_b)}\n  vs base labels: {fmt(base_b)}")
    entry: dict[str, Any] = {"rows": len(data.rows), "before": {"plus": plus_b, "base": base_b}}
    variants = [("reference", {"reference": data.reference, "consensus": False}, {})]
    if not args.no_consensus:
        variants.append(("consensus", {"reference": None, "consensus": True}, {}))
    for n in args.sweep:
        variants.append(
            (
                f"reference, max {n} new",
                {"reference": data.reference, "consensus": False},
                {"max_new_tests": n},
            )
        )
    if args.ablate is not None:
        from acecoder.augmentation import ALL_RULES

        for rule in args.ablate or ALL_RULES:
            rules = tuple(r for r in ALL_RULES if r != rule)
            variants.append(
                (f"without {rule}", {"reference": data.reference, "consensus": False}, {"rules": rules})
            )
    for name, how, settings in variants:
        settings = {"max_new_tests": args.max_new_tests, **settings}
        if name.startswith("without"):
            settings["mutation_score"] = False
        path = out / (name.replace(" ", "_").replace(",", "") + ".jsonl")
        augmented, summary, seconds = augment(
            before_rows(data), path, template=data.template, workers=args.workers, **how, **settings
        )
        t = time.monotonic()
        after = execute(augmented, data.template, args.workers)
        exec_seconds = time.monotonic() - t
        if name == "reference":  # the verdicts, for a look at the programs the tests still miss
            write(out / "reference_executed.jsonl", after)
        plus_a, base_a = confusion(after, data.plus), confusion(after, data.base)
        print(
            f"{name}: {tests_per_row(after):.1f} tests/row, mutation {mutation(after)}; augmented in {seconds:.0f} s, "
            f"executed in {exec_seconds:.0f} s ({load_avg()})\n  vs plus labels: {fmt(plus_a)}\n  vs base labels: "
            f"{fmt(base_a)}\n  unchanged: {summary['unchanged']}; dropped: {dict(list(summary['dropped'].items())[:8])}"
        )
        entry[name] = {
            "plus": plus_a,
            "base": base_a,
            "tests_per_row": tests_per_row(after),
            "mutation": mutation(after),
            "seconds": seconds,
            "unchanged": summary["unchanged"],
        }
        if name == "reference":
            if args.operators:
                costs = operator_costs(after, data.plus)
                print(
                    f"  right programs failed by a new test, by the operator that made it: {dict(costs.most_common(12))}"
                )
                entry["operator_costs"] = dict(costs)
            effect = pairs_effect(before, after, data.plus)
            print(f"  pairs and hard subset: {effect}")
            entry["pairs"] = effect
            bo_b, bo_a = best_of(before, data.plus), best_of(after, data.plus)
            print(f"  best-of-N by pass rate vs plus labels: before {bo_b}, after {bo_a}")
            entry["best_of"] = {"before": bo_b, "after": bo_a}
            if args.codet and data.name.startswith("HumanEval"):
                figures = codet_best_of(after, out, args.workers)
                print(f"  acecoder evaluate (humaneval+) on the augmented rows: {json.dumps(figures)[:1500]}")
                entry["codet"] = figures
        if name == "consensus":
            entry["best_of_consensus"] = best_of(after, data.plus)
            print(f"  best-of-N by pass rate (consensus tests) vs plus labels: {entry['best_of_consensus']}")
    results[data.name] = entry


def before_rows(data: Dataset) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(r)) for r in data.rows]


def timing(args: argparse.Namespace, codet: Dataset, mbpp: Dataset, results: dict[str, Any]) -> None:
    """400 distinct rows (CodeT's 137, then MBPP's) with up to 100 new tests each, with and without scores."""
    rows = before_rows(codet) + before_rows(mbpp)
    rows = rows[:400]
    for row in rows:
        solution = row.pop("canonical_solution")
        row["reference"] = solution if row["source"] == "mbpp" else row["question"] + solution
        row.pop("inferences", None)
    out = args.out / "timing"
    for score in (False, True):
        _, summary, seconds = augment(
            rows, out / f"score_{score}.jsonl", reference="reference", consensus=False, template=None,
            workers=args.workers, max_new_tests=100, mutation_score=score,
        )  # fmt: skip
        print(
            f"\ntiming: {len(rows)} rows, up to 100 new tests, mutation score {'on' if score else 'off'}: "
            f"{seconds:.1f} s wall, {summary['cpu_seconds']:.1f} CPU seconds, {summary['tests_added']} tests added "
            f"({load_avg()}, {args.workers} workers)"
        )
        results.setdefault("timing", {})[f"mutation_score_{score}"] = {
            "seconds": seconds,
            "cpu_seconds": summary["cpu_seconds"],
            "added": summary["tests_added"],
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "augmentation")
    parser.add_argument(
        "--he-labels", type=Path, default=None, help="acecoder evaluate output on the 16,400 samples"
    )
    parser.add_argument("--max-new-tests", type=int, default=50)
    parser.add_argument("--sweep", type=int, nargs="*", default=[], help="also these --max-new-tests values")
    parser.add_argument(
        "--ablate",
        nargs="*",
        default=None,
        metavar="RULE",
        help="each domain rule (or these) turned off in turn",
    )
    parser.add_argument("--operators", action="store_true")
    parser.add_argument("--no-consensus", action="store_true", help="skip the consensus reference (slow)")
    parser.add_argument("--codet", action="store_true", help="acecoder evaluate with the codet ranker (slow)")
    parser.add_argument("--only", choices=["humaneval", "mbpp", "timing"], action="append")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ["humaneval", "mbpp", "timing"])
    results: dict[str, Any] = {}
    codet = (
        codet_dataset(he_labels(args.workers, args.out, args.he_labels))
        if only & {"humaneval", "timing"}
        else None
    )
    mbpp = mbpp_dataset()
    if "humaneval" in only:
        measure(codet, args, results)
    if "mbpp" in only:
        measure(mbpp, args, results)
    if "timing" in only:
        timing(args, codet, mbpp, results)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
