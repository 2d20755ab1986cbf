"""BigCodeBench's canonical solutions in its own runtime, on the engine: the pass rate and why tasks fail.

The runtime is the venv ``scripts/setup_bigcodebench_env.sh`` builds (BigCodeBench's pinned evaluation
libraries, Python 3.10). Every canonical solution is evaluated as a sample (``acecoder evaluate --benchmark
bigcodebench --interpreter .venv-bigcodebench/bin/python``), then each failing task is run once more through the
engine with a probe per test method that returns the failure text (captured values), so the report can say why.

Run: ``.venv/bin/python benchmarks/evaluation_bigcodebench.py [--workers 2] [--limit N]``
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv-bigcodebench" / "bin" / "python"
_REPORT = """

def __acecoder_report__(name):
    import unittest as _unittest
    result = _unittest.TestResult()
    _unittest.TestSuite([TestCases(name)]).run(result)
    problems = result.failures + result.errors
    return problems[0][1][-1500:] if problems else None
"""


def reason(text: str | None, setup: str | None) -> str:
    """A short cause from a failure's traceback (its last line)."""
    if setup:
        return f"program failed before the tests: {setup}"
    if not text:
        return "unknown"
    last = [line for line in str(text).strip().splitlines() if line.strip()][-1]
    return re.sub(r"0x[0-9a-f]+", "0x…", last)[:160]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--python", type=Path, default=PYTHON)
    parser.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bigcodebench")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted evaluation in --out")
    parser.add_argument(
        "--diagnose-only", action="store_true", help="reuse the finished evaluation in --out; only say why"
    )
    parser.add_argument(
        "--no-diagnose", action="store_true", help="skip the second pass that says why tasks fail"
    )
    args = parser.parse_args()
    if not args.python.exists():
        raise SystemExit(f"{args.python} is missing: build it with scripts/setup_bigcodebench_env.sh")
    from acecoder.evaluation.benchmarks import engine_preload, load_benchmark
    from acecoder.evaluation.programs import capture_job
    from acecoder.evaluation.verdicts import Judge
    from acecoder.execution import ExecutionEngine
    from acecoder.execution.engine import DEFAULT_PRELOAD

    bench = load_benchmark("bigcodebench")
    tasks = list(bench.tasks.values())[: args.limit or None]
    args.out.mkdir(parents=True, exist_ok=True)
    samples = args.out / "canonical.jsonl"
    if not (args.resume and samples.exists()):
        samples.write_text(
            "".join(
                json.dumps({"task_id": t.task_id, "solution": t.canonical_solution}) + "\n" for t in tasks
            )
        )
    out = args.out / "canonical_evaluated.jsonl"
    command = [
        sys.executable,
        "-c",
        "from acecoder.cli import main; main()",
        "evaluate",
        str(samples),
        str(out),
    ]
    command += [
        "--benchmark",
        "bigcodebench",
        "--interpreter",
        str(args.python),
        "--workers",
        str(args.workers),
    ]
    command += [
        "--no-progress",
        "--resume" if args.resume else "--no-resume",
        "--no-calibrated",
    ]  # the official ground-truth check: no stub
    started = time.monotonic()
    if not args.diagnose_only:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    rows = [json.loads(line) for line in out.open()]
    failing = [r for r in rows if r["base_status"] != "pass"]
    print(
        f"canonical solutions passing: {len(rows) - len(failing)}/{len(rows)} "
        f"({100 * (len(rows) - len(failing)) / len(rows):.1f}%)"
        + ("" if args.diagnose_only else f" in {elapsed:.0f} s on {args.workers} workers")
    )

    print("failing tasks:", " ".join(r["task_id"].split("/")[1] for r in failing))
    if args.no_diagnose:
        return
    judge = Judge(bench)
    causes: collections.Counter[str] = collections.Counter()
    details = []
    with ExecutionEngine(
        workers=args.workers, interpreter=str(args.python), preload=DEFAULT_PRELOAD + engine_preload(bench)
    ) as engine:
        jobs = []
        for row in failing:
            task = bench.tasks[row["task_id"]]
            names = judge.test_names(task)
            plain = judge.jobs(task.task_id, task.canonical_solution)[0]
            program = plain.program + _REPORT
            jobs.append(
                capture_job(program, [f"__acecoder_report__({n!r})" for n in names], limits=plain.limits)
            )
        for row, result in zip(failing, engine.run(jobs), strict=True):
            names = judge.test_names(bench.tasks[row["task_id"]])
            texts = [
                v if isinstance(v, str) else (str(v) if v is not None else None)
                for v in (result.values or [])
            ]
            why = [
                reason(t, result.setup_error)
                for n, t in zip(names, texts, strict=False)
                if t or result.setup_error
            ]
            why = why or [f"{e}" for e in result.errors if e]
            for cause in set(why):
                causes[cause] += 1
            details.append((row["task_id"], row["base_fail_tests"], why[:2]))
    print("\nmost common causes (tasks):")
    for cause, count in causes.most_common(25):
        print(f"  {count:4d}  {cause}")
    print("\nfailing tasks and why:")
    for task_id, tests, why in details:
        print(f"  {task_id}: {', '.join(tests)[:80]} -- {'; '.join(why)[:200]}")


if __name__ == "__main__":
    main()
