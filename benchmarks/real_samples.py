"""Real model samples at full speed: CodeT's 16,400 CodeGen-16B HumanEval samples against ~15.6 synthesized tests.

The workload is ``../shared/data/codet/humaneval_codegen16B_acecode_format.jsonl`` as it is: 164 questions x 100
completions (HumanEval-style function bodies, so the program is question + completion), tests written by
CodeGen-16B and kept when the canonical solution passes them; 27 questions have no test left. Real samples
loop, recurse, crash and time out, unlike the quick asserts of ``benchmarks/execution.py``.

    acecoder          ``acecoder execute --program '{question}{completion}'`` (whole CLI; identical samples of a
                      question run once; again with ``--rerun-identical``, every copy run; default limits:
                      1 s CPU per test, 0.25 s CPU per program over its process tree)
    release style     the AceCoder release's data harness: a forked process per program, the program then every
                      test in one namespace, one wall-clock limit for the whole program (0.2 s for samples)
    evalplus style    a forked process per program, a wall-clock limit per test (1 s here), the whole program
                      capped at min(60, sum of the limits) + 1 s

Every runner's pass rates are compared with the ones released in the file (computed by its data harness:
a 1 s alarm per test, the remaining tests failed after two timeouts) and with acecoder's.

Run: ``.venv/bin/python benchmarks/real_samples.py [--workers N] [--rows K]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
SOURCE = DATA / "codet" / "humaneval_codegen16B_acecode_format.jsonl"


class _Limit(BaseException):
    pass


def _alarm(signum, frame):
    raise _Limit()


def _silence() -> None:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)


def _release_target(program, tests, wall, verdicts):
    """One program: exec it, then each test in its namespace, under one wall-clock alarm for everything."""
    _silence()
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, wall)
    try:
        namespace: dict = {"__name__": "__main__"}
        exec(program, namespace)
        for index, test in enumerate(tests):
            try:
                exec(test, namespace)
                verdicts[index] = 1
            except _Limit:
                raise
            except BaseException:
                pass
    except BaseException:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _evalplus_target(program, tests, per_test, verdicts):
    """One program: exec it, then each test under its own wall-clock alarm; a timeout fails that test only."""
    _silence()
    signal.signal(signal.SIGALRM, _alarm)
    namespace: dict = {"__name__": "__main__"}
    try:
        signal.setitimer(signal.ITIMER_REAL, per_test)
        exec(program, namespace)
    except BaseException:
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    for index, test in enumerate(tests):
        try:
            signal.setitimer(signal.ITIMER_REAL, per_test)
            exec(test, namespace)
            verdicts[index] = 1
        except BaseException:
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _process_pool(target, jobs, workers, limit_of, *extra):
    ctx = multiprocessing.get_context("fork")

    def one(job):
        program, tests = job
        verdicts = ctx.Array("b", [0] * len(tests))
        process = ctx.Process(target=target, args=(program, tests, *extra, verdicts))
        process.start()
        process.join(limit_of(tests))
        if process.is_alive():
            process.kill()
            process.join()
        return list(verdicts)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        out = list(pool.map(one, jobs))
    return time.perf_counter() - started, out


def run_release_style(jobs, workers, wall=0.2):
    return _process_pool(_release_target, jobs, workers, lambda tests: wall + 1.0, wall)


def run_evalplus_style(jobs, workers, per_test=1.0):
    return _process_pool(
        _evalplus_target, jobs, workers, lambda tests: min(60.0, per_test * (len(tests) + 1)) + 1.0, per_test
    )


def run_acecoder(path: Path, workers: int, *extra: str) -> tuple[float, list[list[int]], str]:
    output = path.with_name("out.jsonl")
    cli = Path(sys.executable).with_name("acecoder")
    command = [str(cli), "execute", str(path), str(output), "--program", "{question}{completion}"]
    command += ["--workers", str(workers), "--no-progress", "--no-resume", *extra]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"acecoder execute failed:\n{done.stdout}\n{done.stderr}")
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    verdicts = [inf["test_results"] for row in rows if row["test_cases"] for inf in row["inferences"]]
    return elapsed, verdicts, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--rows", type=int, default=None, help="only the first K questions")
    parser.add_argument(
        "--skip-evalplus", action="store_true", help="the evalplus-style runner takes longest"
    )
    args = parser.parse_args()
    if not SOURCE.exists():
        sys.exit(f"benchmark data not found: {SOURCE} (needs ../shared/data/codet)")
    rows = [json.loads(line) for line in SOURCE.read_text().splitlines()][: args.rows]
    jobs, released = [], []
    for row in rows:
        if not row["test_cases"]:
            continue
        for inference in row["inferences"]:
            jobs.append((row["question"] + inference["completion"], row["test_cases"]))
            released.append(inference["test_results"])
    programs = sum(len(r["inferences"]) for r in rows)
    tests = sum(len(t) for _, t in jobs)
    print(
        f"workload: {len(rows)} questions, {programs} programs ({len(jobs)} with tests), {tests} tests "
        f"({tests / len(jobs):.1f} per program); {args.workers} workers on {os.cpu_count()} cores; {sys.executable}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        ours_time, ours, summary = run_acecoder(path, args.workers)
        every_copy = run_acecoder(path, args.workers, "--rerun-identical")[:2]
    results = {"acecoder execute (whole CLI)": (ours_time, ours)}
    results["acecoder, --rerun-identical"] = every_copy
    results["release style (0.2 s per program)"] = run_release_style(jobs, args.workers)
    if not args.skip_evalplus:
        results["evalplus style (1 s per test)"] = run_evalplus_style(jobs, args.workers)
    print(summary.strip())
    print(
        f"\n{'runner':40s} {'seconds':>8s} {'programs/s':>11s} {'vs acecoder':>12s} {'= file':>8s} {'= ours':>8s}"
    )
    for name, (elapsed, verdicts) in results.items():
        same_file = sum(v == r for v, r in zip(verdicts, released, strict=True)) / len(jobs)
        same_ours = sum(v == o for v, o in zip(verdicts, ours, strict=True)) / len(jobs)
        print(
            f"{name:40s} {elapsed:8.1f} {programs / elapsed:11.0f} {elapsed / ours_time:11.2f}x "
            f"{same_file:8.2%} {same_ours:8.2%}"
        )
    print("(programs/s counts every program of the file, those of questions without tests included)")


if __name__ == "__main__":
    main()
