"""Do acecoder's verdicts on KodCode's pytest files agree with KodCode's released ones?

Data: ``../shared/data/kodcode/kodcode_demo_232.jsonl`` (KodCode-V1 rows, MIT): each row's trials, a model's
solution with its own pytest file and the released ``test_result`` (``Pass``, ``Fail``, ``Fail - Timed Out``) from
running that file with pytest. Each trial's file goes through acecoder's pytest conversion (what ``acecoder
import-tests kodcode`` does: one test per item, hooks and fixtures as pytest calls them) and its solution
through ``ExecutionEngine`` with the sampled-program budget; a trial passes when every item passes. Printed: the
agreement table, and every trial where the two disagree with the engine's error labels.

Run: ``.venv/bin/python benchmarks/kodcode_agreement.py [--workers 2]``
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
ROWS = SHARED / "kodcode" / "kodcode_demo_232.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if not ROWS.exists():
        sys.exit(f"benchmark data not found: {ROWS} (needs ../shared/data/kodcode)")
    from acecoder.execution import ExecutionEngine, Job
    from acecoder.importers.pytest_tests import convert_pytest

    jobs, trials, unconverted = [], [], 0
    for line in ROWS.read_text().splitlines():
        row = json.loads(line)
        for name, trial in row["trials"].items():
            try:
                tests = convert_pytest(trial["test_code"]).tests
            except SyntaxError:
                tests = []
            if not tests:
                unconverted += 1
                continue
            jobs.append(Job(trial["solution_code"], tuple(tests)))
            trials.append((row["question_id"], name, trial["test_result"]))
    started = time.perf_counter()
    with ExecutionEngine(workers=args.workers) as engine:
        results = list(engine.run(jobs))
    seconds = time.perf_counter() - started
    table: collections.Counter = collections.Counter()
    disagreements = []
    for (question, name, label), result in zip(trials, results, strict=True):
        released = "pass" if label == "Pass" else "fail"
        ours = "pass" if result.passed_all else "fail"
        table[(label, ours)] += 1
        if released != ours:
            disagreements.append((question, name, label, ours, result.errors[:4], result.setup_error))
    agree = sum(n for (label, ours), n in table.items() if (label == "Pass") == (ours == "pass"))
    print(
        f"{len(jobs):,} trials of {ROWS.name} ({unconverted} without a convertible test), {args.workers} workers"
    )
    for (label, ours), n in sorted(table.items()):
        print(f"  released {label:18s} acecoder {ours:5s} {n:5d}")
    print(f"agreement: {agree:,}/{len(jobs):,} ({100 * agree / len(jobs):.2f}%) in {seconds:.1f} s")
    for question, name, label, ours, errors, setup in disagreements:
        print(
            f"  differs: {question} {name}: released {label}, acecoder {ours}; errors {errors} {setup or ''}"
        )


if __name__ == "__main__":
    main()
