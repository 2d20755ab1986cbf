"""Throughput of stdin tests: acecoder's engine against LiveCodeBench's harness, verl's ``prime_code`` and a
subprocess per test, all on 2 workers; and the latency of a rollout batch through ``TestCaseReward``.

    python benchmarks/stdin_throughput.py --lcb-checkout /tmp/lcb --verl-checkout /tmp/verl [--programs 128]

The workload: ``--programs`` distinct correct stdin programs (four I/O idioms: ``input()``,
``sys.stdin.readline``, ``sys.stdin.read().split()``, ``sys.stdin.buffer``) for one problem (sum of the numbers
read), each with ``--tests`` tests of a few hundred numbers. Competitors, imported from throwaway checkouts
(never copied here):

* LiveCodeBench: ``lcb_runner.evaluation.compute_code_generation_metrics.check_correctness`` per sample (a
  process and a ``multiprocessing.Manager`` each; tests exec'd in the process), in a pool of 2 processes as its
  ``evaluate_generations`` runs it;
* verl ``prime_code``: ``verl/utils/reward_score/prime_code``'s ``compute_score(..., continuous=True)`` per sample,
  as verl's ``default_compute_score`` calls it (a process and a Manager each, APPS's ``run_test``; a failing sample
  is then re-run one process per test, for its first 10 tests only), 2 at a time (its ``pyext`` dependency does not build on Python 3.11: a
  stand-in with ``RuntimeModule.from_string``'s behaviour is installed);
* a subprocess per test: ``python -I -c PROGRAM`` with the test's stdin, 2 at a time.

acecoder: ``ExecutionEngine(workers=2)``, one job per program, its tests as ``StdinTest`` (compiled once, one
fork per test, outputs compared by the judge). Then ``--rollout`` programs x ``--tests`` tests through
``TestCaseReward`` (binary), each sample a concurrent call as verl and OpenRLHF make them: p50/p99 latency and the
batch's wall time. The engine parts need an engine that runs stdin tests (``SUPPORTS_TEST_KINDS``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

IDIOMS = (
    "n = int(input())\nnums = list(map(int, input().split()))\nprint(sum(nums))  # {i}\n",
    "import sys\nn = int(sys.stdin.readline())\nprint(sum(map(int, sys.stdin.readline().split())))  # {i}\n",
    "import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data[1:])))  # {i}\n",
    "import sys\ndata = sys.stdin.buffer.read().split()\nsys.stdout.write(str(sum(map(int, data[1:]))) + '\\n')  # {i}\n",
)


def workload(programs: int, tests: int, seed: int = 0) -> tuple[list[str], list[tuple[str, str]]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(tests):
        nums = [rng.randint(-(10**9), 10**9) for _ in range(300)]
        cases.append((f"{len(nums)}\n{' '.join(map(str, nums))}\n", f"{sum(nums)}\n"))
    return [IDIOMS[i % len(IDIOMS)].format(i=i) for i in range(programs)], cases


# ---------------------------------------------------------------------------------------------- harnesses
def _lcb_one(args):
    checkout, sample, code = args
    if checkout not in sys.path:
        sys.path.insert(0, checkout)
    from lcb_runner.evaluation.compute_code_generation_metrics import check_correctness

    results, _ = check_correctness(sample, code, timeout=6, debug=False)
    return all(r is True for r in results)


def run_lcb(checkout: Path, programs, cases, workers: int) -> list[bool]:
    sample = {"input_output": json.dumps({"inputs": [c[0] for c in cases], "outputs": [c[1] for c in cases]})}
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_lcb_one, [(str(checkout), sample, p) for p in programs]))


def _pyext_stand_in() -> None:
    """``pyext.RuntimeModule.from_string`` (a module from source), which prime_code imports; the ``pyext`` package
    (0.6, 2014) does not build on Python 3.11, so this does what its ``from_string`` does."""
    import types

    if "pyext" in sys.modules:
        return
    try:
        import pyext  # noqa: F401

        return
    except ImportError:
        pass

    class RuntimeModule:
        @staticmethod
        def from_string(name: str, doc: str, source: str) -> types.ModuleType:
            module = types.ModuleType(name, doc)
            exec(source, module.__dict__)
            return module

    stand_in = types.ModuleType("pyext")
    stand_in.RuntimeModule = RuntimeModule  # type: ignore[attr-defined]
    sys.modules["pyext"] = stand_in


def _verl_module(checkout: Path):
    _pyext_stand_in()
    folder = checkout / "verl" / "utils" / "reward_score" / "prime_code"
    spec = importlib.util.spec_from_file_location(
        "prime_code", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["prime_code"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _verl_one(args):
    checkout, tests, code = args
    module = sys.modules.get("prime_code") or _verl_module(Path(checkout))
    success, _ = module.compute_score(
        code, tests, continuous=True
    )  # as verl's default_compute_score calls it
    return success == 1


def run_verl(checkout: Path, programs, cases, workers: int) -> list[bool]:
    tests = json.dumps({"inputs": [c[0] for c in cases], "outputs": [c[1] for c in cases]})
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_verl_one, [(str(checkout), tests, p) for p in programs]))


def _subprocess_one(args) -> bool:
    code, cases = args
    for stdin, stdout in cases:
        done = subprocess.run(
            [sys.executable, "-I", "-c", code], input=stdin, capture_output=True, text=True, timeout=30
        )
        if done.returncode != 0 or done.stdout.strip() != stdout.strip():
            return False
    return True


def run_subprocess(programs, cases, workers: int) -> list[bool]:
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(_subprocess_one, [(p, cases) for p in programs]))


def run_engine(programs, cases, workers: int) -> list[bool]:
    from acecoder.execution import ExecutionEngine, Job, Limits
    from acecoder.execution.testkinds import StdinTest

    tests = [StdinTest(i, o, "livecodebench") for i, o in cases]
    with ExecutionEngine(workers=workers, limits=Limits(timeout=6.0, program_timeout=None)) as engine:
        return [r.passed_all for r in engine.run(Job(p, tests) for p in programs)]


def rollout(programs: int, cases, workers: int) -> dict:
    from acecoder.reward import TestCaseReward

    tests = [{"stdin": i, "stdout": o, "comparator": "livecodebench"} for i, o in cases]
    answers = [f"```python\n{IDIOMS[i % len(IDIOMS)].format(i=i)}```" for i in range(programs)]
    with TestCaseReward("binary", workers=workers) as reward:
        latencies: list[float] = []

        def one(answer: str) -> float:
            started = time.monotonic()
            (value,), _ = reward.evaluate([answer], [tests])
            latencies.append(time.monotonic() - started)
            return value

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(64) as pool:
            values = list(pool.map(one, answers))
        wall = time.monotonic() - started
    latencies.sort()
    return {
        "samples": programs,
        "passed": sum(v == 1.0 for v in values),
        "wall_s": wall,
        "p50_s": latencies[len(latencies) // 2],
        "p99_s": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lcb-checkout", type=Path)
    parser.add_argument("--verl-checkout", type=Path)
    parser.add_argument("--programs", type=int, default=128)
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--rollout", type=int, default=1024)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated harnesses to leave out")
    args = parser.parse_args()
    import acecoder.execution

    engine_ok = getattr(acecoder.execution, "SUPPORTS_TEST_KINDS", False)
    programs, cases = workload(args.programs, args.tests)
    skip = set(filter(None, args.skip.split(",")))
    harnesses = {
        "acecoder engine": (lambda: run_engine(programs, cases, args.workers)) if engine_ok else None,
        "LiveCodeBench check_correctness": (lambda: run_lcb(args.lcb_checkout, programs, cases, args.workers))
        if args.lcb_checkout
        else None,
        "verl prime_code": (lambda: run_verl(args.verl_checkout, programs, cases, args.workers))
        if args.verl_checkout
        else None,
        "subprocess per test": lambda: run_subprocess(programs, cases, args.workers),
    }
    load = os.getloadavg()
    print(
        f"{args.programs} programs x {args.tests} tests, {args.workers} workers; load average {load[0]:.1f}"
    )
    print("| harness | tests/s | all pass | seconds | load average after |\n|---|---:|---:|---:|---:|")
    for name, run in harnesses.items():
        if name in skip:
            continue
        if run is None:
            print(
                f"| {name} | (not run: {'engine without stdin tests' if 'engine' in name else 'no checkout given'}) | | | |"
            )
            continue
        started = time.monotonic()
        verdicts = run()
        seconds = time.monotonic() - started
        tests_per_s = args.programs * args.tests / seconds
        print(
            f"| {name} | {tests_per_s:,.0f} | {sum(verdicts)}/{len(verdicts)} | {seconds:.1f} "
            f"| {os.getloadavg()[0]:.1f} |",
            flush=True,
        )
    if engine_ok and "rollout" not in skip:
        figures = rollout(args.rollout, workload(1, args.tests, seed=1)[1], args.workers)
        print(
            f"\nrollout through TestCaseReward: {figures['samples']} samples x {args.tests} tests, "
            f"{figures['passed']} passed; wall {figures['wall_s']:.1f}s, p50 {figures['p50_s']:.2f}s, "
            f"p99 {figures['p99_s']:.2f}s (load average {os.getloadavg()[0]:.1f})"
        )
    elif not engine_ok:
        print("\nrollout through TestCaseReward: not run (the engine does not run stdin tests yet)")


if __name__ == "__main__":
    main()
