"""Execution throughput: the whole ``acecoder execute`` CLI against three ways peers run programs.

Workload: HumanEval canonical solutions with CodeT's synthesized tests (CodeGen-16B asserts kept when the
canonical solution passes them), from ../shared/data/codet; each solution appears ``--copies`` times as an
inference, each copy made distinct by a trailing comment (acecoder runs identical programs of a run once), so
~1,100 programs x ~16 quick asserts. All runners use the same interpreter and the same number of
workers, and every runner's verdicts are checked against ours.

    (a) a fresh interpreter per program (subprocess per program)
    (b) a multiprocessing.Process per program (the human-eval / evalplus / AceCoder way), three variants:
        human-eval's check_correctness (a Manager list per program), evalplus's untrusted_check (a shared
        Array), and the leanest possible (a Pipe only, no temporary directory or time limit)
    (c) a bare, unisolated fork per program from a small pre-started worker per core (no limits, no isolation)

Run: ``.venv/bin/python benchmarks/execution.py [--workers N] [--copies K]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

OURS = "acecoder execute (CLI, start-up included)"
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
SOURCE = DATA / "codet" / "humaneval_codegen16B_acecode_format.jsonl"

# Runs one program then each test in its namespace; prints one 0/1 per test. Used by (a), (b) and (c).
RUNNER = """
def run(program, tests):
    ns = {"__name__": "__main__"}
    try:
        exec(program, ns)
    except BaseException:
        return [0] * len(tests)
    verdicts = []
    for test in tests:
        try:
            exec(test, ns)
            verdicts.append(1)
        except BaseException:
            verdicts.append(0)
    return verdicts
"""
_runner_ns: dict = {}
exec(RUNNER, _runner_ns)
run_program = _runner_ns["run"]

FRESH_INTERPRETER = (
    RUNNER
    + """
import json, sys
job = json.load(sys.stdin)
print("".join(map(str, run(job["program"], job["tests"]))))
"""
)

BARE_FORK_WORKER = (
    RUNNER
    + """
import json, os, struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    header = inp.read(4)
    if len(header) < 4:
        break
    job = json.loads(inp.read(struct.unpack(">I", header)[0]))
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, bytes(run(job["program"], job["tests"])))
        os._exit(0)
    os.close(w)
    verdicts = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        verdicts += chunk
    os.close(r)
    os.waitpid(pid, 0)
    reply = json.dumps(list(verdicts)).encode()
    out.write(struct.pack(">I", len(reply)) + reply)
    out.flush()
"""
)


def quick_tests(program: str, tests: list[str], limit: float = 0.005) -> list[str]:
    """The tests that run in under ``limit`` seconds here (the issue's workload is quick asserts: one task's
    tests, HumanEval/75's, take 1.4 s per program and would otherwise be the whole benchmark)."""
    namespace: dict = {"__name__": "__main__"}
    exec(program, namespace)
    kept = []
    for test in tests:
        started = time.perf_counter()
        try:
            exec(test, namespace)
        except Exception:
            pass
        if time.perf_counter() - started < limit:
            kept.append(test)
    return kept


def build_workload(copies: int, path: Path) -> list[tuple[str, list[str]]]:
    if not SOURCE.exists():
        sys.exit(f"benchmark data not found: {SOURCE} (needs ../shared/data/codet)")
    jobs, rows = [], []
    for line in SOURCE.read_text().splitlines():
        task = json.loads(line)
        if not task["test_cases"]:
            continue
        program = task["question"] + task["canonical_solution"]
        tests = quick_tests(program, task["test_cases"])
        if not tests:
            continue
        task["test_cases"] = tests
        # Distinct copies: the engine runs identical programs of a run once, and this measures running them.
        programs = [f"{program}\n# copy {i}\n" for i in range(copies)]
        inferences = [
            {"model_name": "canonical", "completion_id": i, "completion": text}
            for i, text in enumerate(programs)
        ]
        rows.append(
            {
                "id": task["id"],
                "question": task["question"],
                "test_cases": task["test_cases"],
                "inferences": inferences,
            }
        )
        jobs += [(text, task["test_cases"]) for text in programs]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return jobs


def run_acecoder(input_path: Path, workers: int) -> tuple[float, list[list[int]]]:
    output = input_path.with_name("out.jsonl")
    cli = Path(sys.executable).with_name("acecoder")
    started = time.perf_counter()
    subprocess.run(
        [
            str(cli),
            "execute",
            str(input_path),
            str(output),
            "--workers",
            str(workers),
            "--no-progress",
            "--no-resume",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - started
    verdicts = [
        inf["test_results"]
        for line in output.read_text().splitlines()
        for inf in json.loads(line)["inferences"]
    ]
    return elapsed, verdicts


def run_fresh_interpreter(jobs, workers: int) -> tuple[float, list[list[int]]]:
    def one(job):
        program, tests = job
        done = subprocess.run(
            [sys.executable, "-s", "-B", "-c", FRESH_INTERPRETER],
            input=json.dumps({"program": program, "tests": tests}),
            capture_output=True,
            text=True,
            timeout=60,
        )
        return [int(c) for c in done.stdout.strip()]

    return _timed_pool(one, jobs, workers)


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    """human-eval's time_limit: a wall-clock ITIMER_REAL alarm around the whole program."""

    def handler(signum, frame):
        raise _Timeout()

    signal.setitimer(signal.ITIMER_REAL, seconds)
    signal.signal(signal.SIGALRM, handler)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _unsafe_execute(program, tests, timeout, report):
    """The child's side of human-eval / evalplus: a temporary working directory, output swallowed, a time
    limit, then the program and its tests."""
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        with (
            open(os.devnull, "w") as sink,
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            try:
                with _time_limit(timeout):
                    verdicts = run_program(program, tests)
            except _Timeout:
                verdicts = [0] * len(tests)
        report(verdicts)


def _human_eval_target(program, tests, timeout, shared):
    _unsafe_execute(program, tests, timeout, shared.append)


def _evalplus_target(program, tests, timeout, shared):
    def report(verdicts):
        shared[: len(verdicts)] = verdicts

    _unsafe_execute(program, tests, timeout, report)


def _pipe_target(program, tests, conn):
    conn.send(run_program(program, tests))
    conn.close()


def run_human_eval_style(jobs, workers: int, timeout: float = 3.0) -> tuple[float, list[list[int]]]:
    """human-eval's check_correctness: a multiprocessing.Manager list and a Process per program, joined with
    a timeout, run from a thread pool (evaluate_functional_correctness)."""
    ctx = multiprocessing.get_context("fork")

    def one(job):
        program, tests = job
        with ctx.Manager() as manager:
            shared = manager.list()
            process = ctx.Process(target=_human_eval_target, args=(program, tests, timeout, shared))
            process.start()
            process.join(timeout + 1)
            if process.is_alive():
                process.kill()
            return list(shared[0]) if shared else [0] * len(tests)

    return _timed_pool(one, jobs, workers)


def run_evalplus_style(jobs, workers: int, timeout: float = 3.0) -> tuple[float, list[list[int]]]:
    """evalplus's untrusted_check: shared multiprocessing.Array verdicts and a Process per program."""
    ctx = multiprocessing.get_context("fork")

    def one(job):
        program, tests = job
        shared = ctx.Array("b", [0] * len(tests))
        process = ctx.Process(target=_evalplus_target, args=(program, tests, timeout, shared))
        process.start()
        process.join(timeout + 1)
        if process.is_alive():
            process.kill()
        return list(shared)

    return _timed_pool(one, jobs, workers)


def run_lean_process(jobs, workers: int) -> tuple[float, list[list[int]]]:
    """The leanest Process per program: a Pipe for the verdicts, nothing else."""
    ctx = multiprocessing.get_context("fork")

    def one(job):
        program, tests = job
        receiver, sender = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_pipe_target, args=(program, tests, sender))
        process.start()
        sender.close()
        verdicts = receiver.recv() if receiver.poll(60) else [0] * len(tests)
        process.join(60)
        receiver.close()
        return verdicts

    return _timed_pool(one, jobs, workers)


def _timed_pool(one, jobs, workers: int) -> tuple[float, list[list[int]]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        verdicts = list(pool.map(one, jobs))
    return time.perf_counter() - started, verdicts


def run_bare_fork(jobs, workers: int) -> tuple[float, list[list[int]]]:
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-s", "-B", "-c", BARE_FORK_WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for _ in range(workers)
    ]
    shards = [list(range(i, len(jobs), workers)) for i in range(workers)]
    verdicts: list = [None] * len(jobs)

    def drive(worker: int) -> None:
        proc = procs[worker]
        for index in shards[worker]:
            program, tests = jobs[index]
            data = json.dumps({"program": program, "tests": tests}).encode()
            proc.stdin.write(struct.pack(">I", len(data)) + data)
            proc.stdin.flush()
            size = struct.unpack(">I", proc.stdout.read(4))[0]
            verdicts[index] = json.loads(proc.stdout.read(size))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(drive, range(workers)))
    for proc in procs:
        proc.stdin.close()
        proc.wait()
    return time.perf_counter() - started, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        input_path = Path(tmp) / "workload.jsonl"
        jobs = build_workload(args.copies, input_path)
        n_tests = sum(len(t) for _, t in jobs)
        print(
            f"workload: {len(jobs)} programs (HumanEval canonical solutions x {args.copies}), {n_tests} quick "
            f"tests ({n_tests / len(jobs):.1f} per program); {args.workers} workers on {os.cpu_count()} cores; "
            f"{sys.executable}"
        )
        runners = {
            OURS: lambda: run_acecoder(input_path, args.workers),
            "(a) fresh interpreter per program": lambda: run_fresh_interpreter(jobs, args.workers),
            "(b) Process per program, human-eval style": lambda: run_human_eval_style(jobs, args.workers),
            "(b) Process per program, evalplus style": lambda: run_evalplus_style(jobs, args.workers),
            "(b) Process per program, lean (Pipe only)": lambda: run_lean_process(jobs, args.workers),
            "(c) bare fork per program, no isolation": lambda: run_bare_fork(jobs, args.workers),
        }
        timings: dict[str, list[float]] = {name: [] for name in runners}
        verdicts_of: dict[str, list[list[int]]] = {}
        for _ in range(args.repeat):  # interleaved, so a slow spell of the machine hits every runner alike
            for name, runner in runners.items():
                elapsed, verdicts = runner()
                timings[name].append(elapsed)
                verdicts_of[name] = verdicts
        results = {name: (statistics.median(timings[name]), verdicts_of[name]) for name in runners}
        print(f"median of {args.repeat} interleaved runs each")
    ours_time, ours_verdicts = results[OURS]
    print(f"{'runner':45s} {'seconds':>8s} {'programs/s':>11s} {'acecoder speed-up':>18s} {'agree':>6s}")
    for name, (elapsed, verdicts) in results.items():
        agree = sum(a == b for a, b in zip(verdicts, ours_verdicts, strict=True)) / len(jobs)
        print(
            f"{name:45s} {elapsed:8.2f} {len(jobs) / elapsed:11.0f} {elapsed / ours_time:17.2f}x {agree:6.1%}"
        )
    bare_time = results["(c) bare fork per program, no isolation"][0]
    print(f"acecoder throughput as a share of the bare fork's: {bare_time / ours_time:.0%}")


if __name__ == "__main__":
    main()
