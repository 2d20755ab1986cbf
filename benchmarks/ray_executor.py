"""The Ray executor against the local pool on the same rows: start-up, throughput and overhead per program, and
the sizing for re-executing AceCode-87K on a cluster.

Workload: the bundled real sample (1 released AceCode-87K row with 80 completions, 24 CodeT HumanEval rows with
16 CodeGen-16B samples each; ~19 asserts per program), its programs repeated ``--copies`` times. Runners, all with
the same limits and 2 sandbox workers in all, engines started before the clock starts:

    local      ExecutionEngine(workers=2)                         (the default executor)
    ray 1x2    RayExecutor: one actor per node (this machine) with 2 workers   (the default placement)
    ray 2x1    RayExecutor(actors=2, workers=1)

Every runner's verdicts are checked against the local pool's. The cluster's own start (``ray.init`` of a local
cluster, actors) is timed separately. The sizing uses the local pool's programs/s per core.

Run: ``.venv/bin/python benchmarks/ray_executor.py [--copies K] [--repeat R]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from acecoder.data import read_rows
from acecoder.execution import ExecutionEngine, Limits
from acecoder.execution.ray_executor import RayExecutor
from acecoder.execution.rows import row_jobs

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
ACECODE_PROGRAMS = 87_149 * 80  # rows x completions of the release
# Public on-demand price used for the sizing (AWS EC2 c7i.48xlarge, 192 vCPUs, Linux, us-east-1).
PRICE_NAME, PRICE_PER_HOUR, PRICE_VCPUS = "AWS EC2 c7i.48xlarge on-demand, us-east-1", 8.568, 192


def timed(runner, jobs, repeat: int) -> tuple[float, list]:
    times, results = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        results = list(runner.run(jobs))
        times.append(time.perf_counter() - start)
    return statistics.median(times), results


def verdicts(results) -> list:
    return [(r.test_results, r.errors) for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=4, help="times each program of the sample is run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per runner (median reported)")
    args = parser.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    limits = Limits(timeout=1.0)
    jobs = [job for row in read_rows(SAMPLE) for job in row_jobs(row)] * args.copies
    tests = sum(len(j.tests) for j in jobs)
    print(
        f"workload: {len(jobs)} programs, {tests} tests ({tests / len(jobs):.1f} per program); load {os.getloadavg()}"
    )

    rows = []
    with ExecutionEngine(workers=2, limits=limits) as engine:
        local_s, local = timed(engine, jobs, args.repeat)
    rows.append(("local pool, 2 workers", None, local_s))

    import ray

    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    init_s = time.perf_counter() - start
    try:
        for label, options in (
            ("ray, 1 actor x 2 workers (default)", {}),
            ("ray, 2 actors x 1 worker", {"actors": 2, "workers": 1}),
        ):
            start = time.perf_counter()
            executor = RayExecutor(limits=limits, **options).start()
            start_s = time.perf_counter() - start
            try:
                seconds, results = timed(executor, jobs, args.repeat)
            finally:
                executor.close()
            assert verdicts(results) == verdicts(local), f"{label}: verdicts differ from the local pool"
            rows.append((label, start_s, seconds))
    finally:
        ray.shutdown()

    print(f"\nlocal Ray cluster start (ray.init, num_cpus=2): {init_s:.1f} s\n")
    print("| runner | executor start s | run s | programs/s | overhead per program vs local |")
    print("|---|---:|---:|---:|---:|")
    for label, start_s, seconds in rows:
        overhead = "-" if start_s is None else f"{(seconds - local_s) / len(jobs) * 1e3:+.2f} ms"
        start_text = "-" if start_s is None else f"{start_s:.1f}"
        print(f"| {label} | {start_text} | {seconds:.2f} | {len(jobs) / seconds:.0f} | {overhead} |")

    per_core = len(jobs) / local_s / 2
    cores = ACECODE_PROGRAMS / 3600 / per_core
    machines = cores / PRICE_VCPUS
    print(f"\nper core (local pool): {per_core:.0f} programs/s ({tests / len(jobs):.1f} tests each)")
    print(f"AceCode-87K: {ACECODE_PROGRAMS:,} programs in one hour -> {ACECODE_PROGRAMS / 3600:,.0f} programs/s "
          f"-> {cores:,.0f} cores ({machines:.2f} x {PRICE_VCPUS}-vCPU machines)")  # fmt: skip
    print(f"cost at {PRICE_NAME} (${PRICE_PER_HOUR}/h for {PRICE_VCPUS} vCPUs): "
          f"${cores / PRICE_VCPUS * PRICE_PER_HOUR:,.2f} for the hour (whole machines: "
          f"{-(-cores // PRICE_VCPUS):.0f} x ${PRICE_PER_HOUR} = ${-(-cores // PRICE_VCPUS) * PRICE_PER_HOUR:,.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
