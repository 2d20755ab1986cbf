"""Do verdicts depend on load? ``acecoder execute`` on CodeT's 16,400 real samples, alone and side by side.

The issue that asked for this: two ``execute`` runs of the same file at the same time once reported different
verdicts (961 vs 1,024 timeouts), because a wall-clock backstop stopped programs that were only waiting for a
CPU. The engine now judges a program that uses CPU by its CPU (the idle backstop counts wall time minus the
process tree's CPU and its run-queue wait), so the verdicts of every run below should be identical.

Runs, each the real CLI (``acecoder execute FILE OUT --program '{question}{completion}' --workers 2``):

1. one run alone (the reference);
2. ``--concurrent`` runs at the same time (default 2);
3. ``--crowd`` runs at the same time beside ``--hogs`` CPU hogs (default 4 runs + 1 hog), unless ``--crowd 0``.

Printed: per run, the programs whose verdicts (every test's result) differ from the reference, passed tests and
timeouts, wall seconds, and the load average. Exit status 1 when any verdict differs.

Run: ``.venv/bin/python benchmarks/load_stability.py [--limit 16400] [--concurrent 2] [--crowd 4 --hogs 1]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
SOURCE = SHARED / "codet" / "humaneval_codegen16B_acecode_format.jsonl"


def _hog(stop: float) -> None:
    while time.monotonic() < stop:
        pass


def _command(source: Path, out: Path, workers: int) -> list[str]:
    return [
        str(REPO / ".venv" / "bin" / "acecoder"),
        "execute",
        str(source),
        str(out),
        "--program",
        "{question}{completion}",
        "--workers",
        str(workers),
        "--no-progress",
        "--errors",
    ]


def _verdicts(path: Path) -> tuple[dict[tuple[str, int], tuple], int]:
    """Each sample's (test results, pass rate), and the number of tests that timed out."""
    out, timeouts = {}, 0
    for line in path.read_text().splitlines():
        row = json.loads(line)
        for i, inf in enumerate(row.get("inferences") or []):
            out[(row["id"], i)] = tuple(inf.get("test_results") or ()), inf.get("pass_rate")
            timeouts += sum(str(e).startswith("timeout") for e in inf.get("test_errors") or () if e)
    return out, timeouts


def _run_together(source: Path, work: Path, label: str, runs: int, workers: int, hogs: int) -> list[dict]:
    outs = [work / f"{label}-{i}.jsonl" for i in range(runs)]
    stop = time.monotonic() + 3600
    hog_procs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(hogs)]
    for p in hog_procs:
        p.start()
    started = time.monotonic()
    procs = [
        subprocess.Popen(_command(source, out, workers), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for out in outs
    ]
    results = []
    for proc, out in zip(procs, outs, strict=True):
        _, err = proc.communicate()
        if proc.returncode != 0:
            sys.exit(f"{label}: execute exited {proc.returncode}: {err.decode()[-2000:]}")
        results.append({"out": out, "seconds": time.monotonic() - started, "load": os.getloadavg()[0]})
    for p in hog_procs:
        p.terminate()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--limit", type=int, default=0, help="only the first N rows' samples (0: all 164 rows)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--crowd", type=int, default=4)
    parser.add_argument("--hogs", type=int, default=1)
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"benchmark data not found: {SOURCE} (needs ../shared/data/codet)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = SOURCE
        if args.limit:
            source = work / "rows.jsonl"
            source.write_text("".join(SOURCE.read_text().splitlines(keepends=True)[: args.limit]))
        print(
            f"{os.cpu_count()} cores, {args.workers} workers per run, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        plan = [("alone", 1, 0), ("concurrent", args.concurrent, 0)]
        if args.crowd:
            plan.append(("crowd", args.crowd, args.hogs))
        reference = None
        differing = 0
        print(
            "| runs at once | CPU hogs | run | programs | differ from alone | passed tests | timeouts | seconds | load |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, runs, hogs in plan:
            for i, result in enumerate(_run_together(source, work, label, runs, args.workers, hogs)):
                verdicts, timeouts = _verdicts(result["out"])
                reference = reference or verdicts
                diff = [k for k in reference if verdicts.get(k) != reference[k]]
                differing += len(diff)
                passed = sum(sum(v[0]) for v in verdicts.values())
                print(
                    f"| {runs} | {hogs} | {i + 1} | {len(verdicts)} | {len(diff)} | {passed:,} | {timeouts} "
                    f"| {result['seconds']:.0f} | {result['load']:.1f} |",
                    flush=True,
                )
                for key in diff[:5]:
                    print(f"    differs: {key}: alone {reference[key]} vs {verdicts.get(key)}")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
