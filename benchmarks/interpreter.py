"""Is the sandbox faster on a newer CPython? The same engine runs the same real workloads with each interpreter
(``ExecutionEngine(interpreter=...)``, what ``--interpreter`` sets), the interpreters in alternation.

Workloads (all from ../shared/data/codet):

* quick asserts: the workload of ``benchmarks/execution.py`` (HumanEval canonical solutions x CodeT's quick
  asserts, ``--copies`` distinct copies each);
* CodeT's real samples: the 13,700 CodeGen-16B samples of the 137 questions with tests, on those tests, at
  ``execute``'s sampled-program budget;
* the reward batch of ``benchmarks/rewards.py``: 1,024 samples x 16 tests through ``TestCaseReward`` (binary),
  the second call timed.

For each: median wall seconds over ``--rounds`` rounds, the median CPU seconds of the sandbox servers and their
programs (what the interpreter changes; the machine's load moves it far less than wall time), and the verdicts'
agreement with the first interpreter.
An interpreter needs the libraries the samples import to judge them alike (a venv on it with numpy, pandas,
matplotlib...); without them, programs that import them fail on it, fast, and the agreement says how many.

Run: ``.venv/bin/python benchmarks/interpreter.py --interpreters .venv/bin/python,/path/to/python3.12 [--rounds 3]``
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import execution
import preload
import rewards


def version(interpreter: str) -> str:
    done = subprocess.run(
        [interpreter, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True
    )
    return done.stdout.decode().strip() or "?"


def run_jobs(interpreter: str, items, workers: int, binary: bool) -> tuple[float, list]:
    from acecoder.execution import ExecutionEngine
    from acecoder.reward import TestCaseReward

    with TestCaseReward(engine=ExecutionEngine(workers=workers, interpreter=interpreter)) as reward:
        if (
            binary
        ):  # the reward batch: the second call (the first on other programs: the engine reuses results)
            reward.evaluate([p + "\n# warm-up\n" for p, _ in items], [t for _, t in items])
        jobs = reward.jobs([p for p, _ in items], [t for _, t in items])
        if not binary:  # every test, as `execute` runs them (pass rates)
            jobs = [lambda build=build: _all_tests(build()) for build in jobs]
        cpu, started = sandbox_cpu(), time.perf_counter()
        results = reward.dispatcher.run(jobs)
        elapsed = time.perf_counter() - started
        cpu = sandbox_cpu() - cpu
    return elapsed, cpu, [tuple(r.test_results) for r in results]


def sandbox_cpu() -> float:
    """CPU seconds of this process's sandbox servers and the programs they ran and reaped (``/proc``): what the
    interpreter changes, and a figure the machine's load moves far less than wall time."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == os.getpid() and b"acecoder_sandbox" in cmdline:
            total += sum(int(f) for f in fields[11:15]) / tick  # its own and its reaped children's CPU
    return total


def _all_tests(job):
    from dataclasses import replace

    return replace(job, stop_on_failure=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--interpreters", required=True, help="comma-separated Pythons; the first is the baseline"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--workloads", default="quick,codet,rewards")
    args = parser.parse_args()
    interpreters = args.interpreters.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        workloads = {
            "quick": (execution.build_workload(args.copies, Path(tmp) / "quick.jsonl"), False),
            "codet": (preload.codet_items("synthesized"), False),
            "rewards": ([(i["program"], i["tests"]) for i in rewards.build_workload(1024, 16)], True),
        }
    print(f"{args.workers} workers on {os.cpu_count()} cores; load average {os.getloadavg()}")
    for name in args.workloads.split(","):
        items, binary = workloads[name]
        times: dict[str, list[float]] = {i: [] for i in interpreters}
        cpus: dict[str, list[float]] = {i: [] for i in interpreters}
        verdicts: dict[str, list] = {}
        for r in range(args.rounds):
            for interpreter in interpreters if r % 2 == 0 else reversed(interpreters):
                seconds, cpu, verdicts[interpreter] = run_jobs(interpreter, items, args.workers, binary)
                times[interpreter].append(seconds)
                cpus[interpreter].append(cpu)
        base = statistics.median(times[interpreters[0]])
        base_cpu = statistics.median(cpus[interpreters[0]])
        print(
            f"{name}: {len(items):,} programs, {args.rounds} alternating rounds, load {os.getloadavg()[0]:.1f}"
        )
        for interpreter in interpreters:
            median, cpu = statistics.median(times[interpreter]), statistics.median(cpus[interpreter])
            same = sum(a == b for a, b in zip(verdicts[interpreter], verdicts[interpreters[0]], strict=True))
            print(
                f"  {version(interpreter):8s} {interpreter:50s} median {median:6.2f} s "
                f"({base / median:4.2f}x the first; runs {', '.join(f'{t:.2f}' for t in times[interpreter])}); "
                f"sandbox CPU median {cpu:6.2f} s ({base_cpu / cpu:4.2f}x the first; runs "
                f"{', '.join(f'{c:.2f}' for c in cpus[interpreter])}); verdicts = the first's on {same:,}/{len(items):,}"
            )
            differ = [
                k
                for k, (a, b) in enumerate(zip(verdicts[interpreter], verdicts[interpreters[0]], strict=True))
                if a != b
            ]
            if differ:
                imports = collections.Counter(
                    ",".join(sorted(preload.imports_of(items[k][0]) - {"typing"})) or "no import"
                    for k in differ
                )
                print(f"    differing programs by their imports: {dict(imports.most_common(8))}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
