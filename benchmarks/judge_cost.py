"""What the trusted judge costs: this engine against an earlier one (tests in the program's process), A/B.

The earlier engine is any commit of this repository, checked out with ``git worktree add`` (default: the last
commit before the judge, ``db665e7``). Each workload runs through ``ExecutionEngine.run`` in a fresh process per
side, alternating sides for ``--rounds`` rounds; reported: wall seconds, programs/s and the CPU seconds of the
whole tree (engine, judges, sandbox servers and their children) per program, as medians, and the ratio of the
two sides from the same rounds. Verdicts of both sides are compared program by program.

Workloads (real data in ../shared/data):

* ``quick``: HumanEval canonical solutions x CodeT's synthesized asserts (split asserts; ~16 per program);
* ``check``: HumanEval canonical solutions x their official ``check(candidate)`` (the previous engine ran these
  in the program's process; this one judges a check of plain asserts as split asserts and runs the rest in
  the judge);
* ``driven``: the same programs with tests the judge must run itself (a loop around the program's calls).

Run: ``.venv/bin/python benchmarks/judge_cost.py [--baseline-commit db665e7] [--rounds 3] [--workers 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))

_SIDE = r"""
import gzip, json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from acecoder.execution import ExecutionEngine, Job, Limits
workload, workers, copies = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = sys.argv[5]
tasks = [json.loads(line) for line in gzip.open(data + "/humaneval/HumanEval.jsonl.gz", "rt")]
canonical = {t["task_id"]: t["prompt"] + t["canonical_solution"] for t in tasks}
jobs = []
if workload == "quick":
    rows = [json.loads(line) for line in open(data + "/codet/humaneval_codegen16B_acecode_format.jsonl")]
    for copy in range(copies):
        for row in rows:
            if row.get("test_cases") and row["id"] in canonical:
                jobs.append(Job(canonical[row["id"]] + f"\n# copy {copy}\n", row["test_cases"]))
else:
    for copy in range(copies):
        for t in tasks:
            program = t["prompt"] + t["canonical_solution"] + f"\n# copy {copy}\n"
            if workload == "check":
                jobs.append(Job(program, [t["test"] + f"\ncheck({t['entry_point']})\n"]))
            else:  # a test the judge runs itself: the official check, inside a loop
                jobs.append(Job(program, [t["test"] + f"\nfor _ in range(1):\n    check({t['entry_point']})\n"]))
limits = Limits(timeout=10.0, program_timeout=None)
started = time.monotonic()
with ExecutionEngine(workers=workers, limits=limits) as engine:
    list(engine.run(jobs[:4]))  # warm
    begin = time.monotonic()
    results = list(engine.run(jobs))
    wall = time.monotonic() - begin
own = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
print(json.dumps({"programs": len(jobs), "wall": wall, "cpu": cpu, "verdicts": [r.test_results for r in results]}))
"""


def _side(src: Path, workload: str, workers: int, copies: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _SIDE, str(src), workload, str(workers), str(copies), str(DATA)],
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    if out.returncode != 0:
        raise SystemExit(f"{src}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-commit", default="db665e7")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--workloads", default="quick,check,driven")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        baseline = Path(scratch) / "baseline"
        subprocess.run(
            [
                "git",
                "-C",
                str(REPO),
                "worktree",
                "add",
                "--detach",
                "-q",
                str(baseline),
                args.baseline_commit,
            ],
            check=True,
        )
        try:
            sides = {
                "judge (this tree)": REPO / "src",
                f"in-process ({args.baseline_commit})": baseline / "src",
            }
            print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, {args.workers} workers")
            for workload in args.workloads.split(","):
                runs: dict[str, list[dict]] = {name: [] for name in sides}
                for _ in range(args.rounds):
                    for name, src in sides.items():
                        runs[name].append(_side(src, workload, args.workers, args.copies))
                ours, theirs = (runs[name] for name in sides)
                same = sum(a == b for a, b in zip(ours[0]["verdicts"], theirs[0]["verdicts"], strict=True))
                print(f"\n{workload}: {ours[0]['programs']} programs, verdicts equal on {same}")
                for name, results in runs.items():
                    wall = statistics.median(r["wall"] for r in results)
                    cpu = statistics.median(r["cpu"] for r in results) / results[0]["programs"] * 1000
                    print(
                        f"  {name:28s} {wall:7.2f} s  {results[0]['programs'] / wall:6.0f} programs/s  {cpu:5.2f} ms CPU/program"
                    )
                ratio = statistics.median(t["wall"] / o["wall"] for o, t in zip(ours, theirs, strict=True))
                print(f"  speed of the judge against in-process (same rounds): {ratio:.2f}x")
        finally:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)], check=False
            )


if __name__ == "__main__":
    main()
