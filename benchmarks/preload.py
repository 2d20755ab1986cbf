"""Which modules should every sandbox server preload? The fork cost a preloaded module adds to every program
against the import cost it saves the programs that import it, measured on real samples.

A module the server imported before forking costs a program nothing to import; at the sampled-program budget
(0.25 CPU s) that decides verdicts, not only speed: a correct sample that imports pandas (~0.4 s in a fresh
process) would score 0. But a bigger server makes every fork, copy-on-write fault and exit dearer. Four
measurements, all through ``ExecutionEngine`` (2 workers unless ``--workers``):

1. **Who imports what**: top-level imports of CodeT's 16,400 CodeGen-16B HumanEval samples (question +
   completion), of the 1,024 samples of the reward benchmark (``benchmarks/rewards.py``) and of the 80 + 25 x 80
   completions of the released AceCode-87K rows (five instruct models).
2. **Import cost**: CPU seconds of a program that imports one module, minus an empty program's, in a forked
   child of a server with the stdlib preload (median of ``--copies`` distinct programs).
3. **Fork cost**: a trivial workload (``--trivial`` distinct programs x 4 asserts) with each preload set, the
   sets run in alternation for ``--rounds`` rounds: wall milliseconds per program (x workers: core-ms) and the
   programs' own CPU (over the process tree, from the cgroup).
4. **Real workloads**: with each preload set, CodeT's samples as binary rewards (``TestCaseReward``, the
   sampled-program budget) on their synthesized asserts (13,700 samples of the 137 questions with tests) and on
   HumanEval's official check (all 16,400), agreement with a generous 4 s budget; and the 1,024 x 16 reward
   batch (second call, as ``benchmarks/rewards.py`` times it).

Run: ``.venv/bin/python benchmarks/preload.py [--sets 'base;+numpy;+numpy,pandas'] [--skip-real]``
(a set is ``base`` or ``+modules``: the stdlib preload plus those modules; ``--interpreter`` runs the programs
with another Python).
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import os
import statistics
import sys
import time
from pathlib import Path

from acecoder.execution.limits import DEFAULT_PRELOAD

sys.path.insert(0, str(Path(__file__).parent))
from rewards import build_workload

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
CODET = DATA / "codet" / "humaneval_codegen16B_acecode_format.jsonl"
RELEASED = [
    DATA / "acecode" / "acecode87k_sample_open_instruct.jsonl",
    REPO / "data/samples/acecode_sample.jsonl",
]
CANDIDATES = ("numpy", "pandas", "matplotlib.pyplot", "scipy", "sympy", "sklearn", "torch", "PIL", "requests")
STDLIB_EXTRA = ("json", "datetime", "random", "time", "os", "sys", "decimal", "fractions", "statistics")
DEFAULT_SETS = "base;+numpy;+numpy,pandas;+numpy,pandas,matplotlib.pyplot"


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def imports_of(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:  # top level: what runs when the program starts
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


# ---- 1. who imports what ------------------------------------------------------------------------------------


def survey() -> None:
    from acecoder.execution import extract_program

    codet = _load(CODET)
    sources = {
        "CodeT CodeGen-16B samples": [
            r["question"] + i["completion"] for r in codet for i in r["inferences"]
        ],
        "reward benchmark batch": [i["program"] for i in build_workload(1024, 16)],
        "released AceCode-87K rows": [
            extract_program(i["completion"])
            for p in RELEASED
            if p.exists()
            for r in _load(p)
            for i in r["inferences"]
        ],
    }
    for name, programs in sources.items():
        counts: collections.Counter = collections.Counter()
        for program in programs:
            counts.update(
                {m.split(".")[0] if m.split(".")[0] != "matplotlib" else m for m in imports_of(program)}
            )
        top = ", ".join(f"{m} {k}" for m, k in counts.most_common(18))
        print(f"  {name} ({len(programs):,} programs): {top}")


# ---- 2. import cost -----------------------------------------------------------------------------------------


def preload_set(spec: str) -> tuple[str, ...]:
    """``base`` (the engine's default preload, stdlib modules) or ``+m1,m2``: base plus those."""
    if spec == "base":
        return STDLIB_PRELOAD
    if not spec.startswith("+"):
        raise SystemExit(f"a preload set is 'base' or '+module,module', got {spec!r}")
    return STDLIB_PRELOAD + tuple(m for m in spec[1:].split(",") if m)


STDLIB_PRELOAD = DEFAULT_PRELOAD  # the engine's preload: every set is measured against it


def engine(preload: tuple[str, ...], workers: int, interpreter: str | None, **limits):
    from acecoder.execution import ExecutionEngine
    from acecoder.execution.limits import SAMPLED

    return ExecutionEngine(
        workers=workers, preload=preload, interpreter=interpreter, limits=SAMPLED.limits(**limits)
    )


def import_costs(modules, workers: int, copies: int, interpreter: str | None) -> dict[str, float]:
    from acecoder.execution import Job

    programs = {m: [f"import {m}  # {k}\n" for k in range(copies)] for m in ("", *modules)}
    programs[""] = [f"x = {k}\n" for k in range(copies)]
    out = {}
    with engine(preload_set("base"), workers, interpreter, program_timeout=None, setup_timeout=30.0) as e:
        for module, texts in programs.items():
            results = list(e.run(Job(t, ["assert True"]) for t in texts))
            failed = [r.setup_error for r in results if r.setup_error]
            cpu = statistics.median(r.cpu_time for r in results)
            out[module] = float("nan") if failed else cpu
    base = out.pop("")
    return {m: c - base for m, c in out.items()} | {"(empty program)": base}


# ---- 3. fork cost -------------------------------------------------------------------------------------------


TRIVIAL = "def inc(x):\n    return x + 1\n# {k}\n"
TRIVIAL_TESTS = ["assert inc(1) == 2", "assert inc(0) == 1", "assert inc(-1) == 0", "assert inc(41) == 42"]


def fork_costs(sets: list[str], workers: int, count: int, rounds: int, interpreter: str | None) -> None:
    from acecoder.execution import Job

    samples: dict[str, list[tuple[float, float]]] = {s: [] for s in sets}
    engines = {s: engine(preload_set(s), workers, interpreter).start() for s in sets}
    try:
        for r in range(rounds):
            for s in sets if r % 2 == 0 else reversed(sets):
                jobs = [Job(TRIVIAL.format(k=f"{r}-{k}"), TRIVIAL_TESTS) for k in range(count)]
                started = time.perf_counter()
                results = list(engines[s].run(jobs))
                wall = time.perf_counter() - started
                assert all(x.passed_all for x in results), [x.errors for x in results if not x.passed_all][:2]
                samples[s].append((wall / count * 1000, sum(x.cpu_time for x in results) / count * 1000))
    finally:
        for e in engines.values():
            e.close()
    base_wall = statistics.median(w for w, _ in samples[sets[0]])
    for s in sets:
        wall = statistics.median(w for w, _ in samples[s])
        cpu = statistics.median(c for _, c in samples[s])
        print(
            f"  {s:45s} {wall:6.2f} ms wall/program ({wall * workers:5.2f} core-ms; "
            f"{wall / base_wall:4.2f}x {sets[0]}), programs' CPU {cpu:5.2f} ms"
        )


# ---- 4. real workloads --------------------------------------------------------------------------------------


def codet_items(kind: str) -> list[tuple[str, list[str]]]:
    items = []
    for row in _load(CODET):
        if kind == "synthesized":
            tests = row["test_cases"]
        else:
            tests = [row["gt_test"] + f"\ncheck({row['entry_point']})\n"]
        if tests:
            items += [(row["question"] + i["completion"], tests) for i in row["inferences"]]
    return items


def rewards(items, preload, workers, interpreter, **limits) -> tuple[float, list[float | None]]:
    from acecoder.reward import TestCaseReward

    with TestCaseReward(engine=engine(preload, workers, interpreter, **limits)) as reward:
        started = time.perf_counter()
        values, _ = reward.evaluate([p for p, _ in items], [t for _, t in items])
        return time.perf_counter() - started, values


def real(sets: list[str], workers: int, interpreter: str | None, reference: float, kinds: set[str]) -> None:
    from acecoder.execution.limits import SAMPLED

    for kind in [k for k in ("synthesized", "official") if k in kinds]:
        items = codet_items(kind)
        ref_time, ref = rewards(items, preload_set(sets[-1]), workers, interpreter, program_timeout=reference)
        print(
            f"  CodeT, {kind} tests: {len(items):,} samples; reference ({reference:g} s budget, last set): "
            f"{ref_time:.1f} s, {sum(r or 0 for r in ref):.0f} rewarded 1"
        )
        for s in sets:
            seconds, ours = rewards(items, preload_set(s), workers, interpreter)
            differ = [i for i, (a, b) in enumerate(zip(ours, ref, strict=True)) if a != b]
            print(
                f"    {s:45s} {seconds:6.1f} s at {SAMPLED.program} s: rewards = reference on "
                f"{len(items) - len(differ):,}/{len(items):,} ({100 * (1 - len(differ) / len(items)):.2f}%); "
                f"differ: {_describe(differ, items, ours)}"
            )
    batch = [(i["program"], i["tests"]) for i in build_workload(1024, 16)]
    for s in sets if "batch" in kinds else ():
        times = []
        from acecoder.reward import TestCaseReward

        with TestCaseReward(engine=engine(preload_set(s), workers, interpreter)) as reward:
            # the first call on other programs (a comment added): the engine reuses recent programs' verdicts
            for suffix in ("\n# warm-up\n", ""):
                started = time.perf_counter()
                reward.evaluate([p + suffix for p, _ in batch], [t for _, t in batch])
                times.append(time.perf_counter() - started)
        print(f"  reward batch 1,024 x 16, {s:38s} first {times[0]:.2f} s, second {times[1]:.2f} s")


def _describe(differ: list[int], items, ours) -> str:
    counts: collections.Counter = collections.Counter()
    for i in differ:
        modules = imports_of(items[i][0]) - {"typing"}
        counts[(",".join(sorted(modules)) or "no import") + f" ->{ours[i]}"] += 1
    return ", ".join(f"{k}: {v}" for k, v in counts.most_common(8)) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sets", default=DEFAULT_SETS, help="preload sets, ';'-separated")
    parser.add_argument("--copies", type=int, default=7)
    parser.add_argument("--trivial", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reference", type=float, default=4.0, help="the generous program budget, CPU s")
    parser.add_argument("--interpreter")
    parser.add_argument("--real", default="synthesized,official,batch", help="real workloads to run")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--only", help="comma-separated parts to run: survey,imports,fork,real")
    args = parser.parse_args()
    sets = args.sets.split(";")
    parts = set((args.only or "survey,imports,fork,real").split(","))
    if args.skip_real:
        parts.discard("real")
    print(f"{args.workers} workers on {os.cpu_count()} cores; load average {os.getloadavg()}")
    if "survey" in parts:
        print("1. top-level imports (module: programs)")
        survey()
    if "imports" in parts:
        print("2. CPU seconds to import, in a forked sandbox child (stdlib preload)")
        for module, cost in import_costs(
            CANDIDATES + STDLIB_EXTRA, args.workers, args.copies, args.interpreter
        ).items():
            print(
                f"  {module:20s} {cost * 1000:7.1f} ms" if cost == cost else f"  {module:20s} not installed"
            )
    if "fork" in parts:
        print(
            f"3. per-program cost of each preload set ({args.trivial} trivial programs x {args.rounds} rounds)"
        )
        fork_costs(sets, args.workers, args.trivial, args.rounds, args.interpreter)
    if "real" in parts:
        print("4. real workloads")
        real(sets, args.workers, args.interpreter, args.reference, set(args.real.split(",")))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
