"""Expected outputs of the canonical solutions (evalplus's ``get_groundtruth``), computed once per dataset version.

Each task's canonical program runs in the engine with every ``base_input`` and ``plus_input`` as a captured call
(values come back to this process; nothing is compared inside the sandbox). Per input it reports the output, the
CPU seconds the call took (the reference time the sample's time limit is derived from) and whether the input
satisfies the task's contract (evalplus generated its inputs under these contracts; an input that violates one
is counted and kept, as evalplus keeps it). Results are cached under the user cache directory, keyed by the
dataset's content hash, so later runs start at once.
"""

from __future__ import annotations

import ast
import os
import pickle
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acecoder.data.io import write_atomic
from acecoder.evaluation.benchmarks import Benchmark, Task
from acecoder.evaluation.compare import MBPP_OUTPUT_NOT_NONE_TASKS, needs_values
from acecoder.evaluation.programs import INPUTS, capture_job, limits_with, main_guard_off, with_inputs
from acecoder.evaluation.transport import REDUCE, TEXT, decode_output
from acecoder.execution import Executor, JobResult, Limits
from acecoder.execution.limits import BENCHMARK

FORMAT = 8  # bump when what is cached changes (8: digests of long strings and number lists)
# Each input's call returns (output, CPU seconds of the call, satisfies the contract, CPU seconds spent reducing a
# big output to its digest: a sample's test pays that too, so it is added to its time limit).
_HELPER = """

def __acecoder_reference__(*args):
    import copy as _copy, time as _time
    valid = True
    if __acecoder_contract__ is not None:
        try:
            __acecoder_contract__(*_copy.deepcopy(args))
        except Exception:  # evalplus's generator rejected an input on any exception of the contract
            valid = False
    started = _time.process_time()
    output = {entry}(*_copy.deepcopy(args))
    called = _time.process_time()
    output = {reduce}(output)
    return {text}((output, called - started, valid, _time.process_time() - called))
"""
REFERENCE = "__acecoder_reference__"
REFERENCE_LIMITS = limits_with(
    Limits(timeout=BENCHMARK.reference_input, setup_timeout=BENCHMARK.reference_setup),
    program_timeout=None,
    value_bytes=512 * 1024 * 1024,
)


@dataclass
class Expected:
    """One task's reference: outputs and CPU seconds per input, and the inputs that broke the contract."""

    base: list[Any]
    base_time: list[float]
    plus: list[Any]
    plus_time: list[float]
    invalid_base: list[int] = field(default_factory=list)
    invalid_plus: list[int] = field(default_factory=list)
    base_output_time: list[float] = field(default_factory=list)
    plus_output_time: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Inputs the canonical solution itself failed on (evalplus would stop there; here they are reported)."""


def cache_dir() -> Path:
    """``$ACECODER_CACHE_DIR``, else ``$XDG_CACHE_HOME/acecoder``, else ``~/.cache/acecoder``."""
    explicit = os.environ.get("ACECODER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "acecoder"


def cache_path(benchmark: Benchmark) -> Path:
    name = benchmark.spec.family + ("-plus" if benchmark.has_plus else "")
    return cache_dir() / "evaluation" / f"{name}-{benchmark.digest}-gt{FORMAT}.pkl"


def contract_check(task: Task) -> str | None:
    """A function ``__acecoder_contract__`` with the entry point's parameters whose body is the task's contract
    (the input-validity asserts evalplus generated its inputs under) and ``return True``; None without a
    contract. It runs in the canonical program's namespace (contracts may call its helpers, e.g. ``poly``)."""
    if not task.contract.strip():
        return None
    try:
        tree = ast.parse(task.canonical_solution)
    except SyntaxError:
        return None
    node = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == task.entry_point), None
    )
    if node is None:
        return None
    body = textwrap.indent(textwrap.dedent(task.contract.strip("\n")), "    ")
    source = f"def __acecoder_contract__({ast.unparse(node.args)}):\n{body}\n    return True\n"
    try:
        compile(source, "<contract>", "exec")
    except SyntaxError:
        return None  # a contract that does not compile checks nothing
    return source


def reference_program(task: Task) -> str:
    contract = contract_check(task) or "__acecoder_contract__ = None\n"
    program = main_guard_off(task.canonical_solution)
    return program + "\n" + contract + _HELPER.format(entry=task.entry_point, reduce=REDUCE, text=TEXT)


def _reference_jobs(task: Task, family: str):
    program = reference_program(task)
    for inputs in (task.base_input, task.plus_input):
        tests = [f"{REFERENCE}(*{INPUTS}[{i}])" for i in range(len(inputs))]
        reduce = not needs_values(family, task.entry_point)
        yield capture_job(with_inputs(program, inputs, reduce=reduce), tests, limits=REFERENCE_LIMITS)


def _unpack(task: Task, result: JobResult, inputs: list, family: str, part: str, expected: Expected):
    outputs, times, extra, invalid = [], [], [], []
    if result.infra_error:
        raise RuntimeError(
            f"{task.task_id}: the engine failed computing expected outputs ({result.infra_error})"
        )
    values = result.values or [None] * len(inputs)
    for i, value in enumerate(values):
        value = decode_output(value)
        if result.test_results[i] and isinstance(value, tuple) and len(value) == 4:
            output, seconds, valid, output_seconds = value
            if not valid:
                invalid.append(i)
        else:
            reason = result.setup_error or result.errors[i] or "no value"
            expected.errors.append(f"{part} input {i}: {reason}")
            output, seconds, output_seconds = value, 0.0, 0.0
        if family == "mbpp" and task.entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
            output = output is not None
        outputs.append(output)
        times.append(float(seconds))
        extra.append(float(output_seconds))
    return outputs, times, extra, invalid


def compute_expected(
    benchmark: Benchmark,
    executor: Executor,
    *,
    on_task: Callable[[str], None] | None = None,
) -> dict[str, Expected]:
    """Run every canonical solution on its inputs in the engine; return each task's :class:`Expected`."""
    family = benchmark.spec.family
    tasks = list(benchmark.tasks.values())
    jobs = (job for task in tasks for job in _reference_jobs(task, family))
    results = executor.run(jobs)
    expected: dict[str, Expected] = {}
    for task in tasks:
        base_result, plus_result = next(results), next(results)
        entry = Expected([], [], [], [])
        entry.base, entry.base_time, entry.base_output_time, entry.invalid_base = _unpack(
            task, base_result, task.base_input, family, "base", entry
        )
        entry.plus, entry.plus_time, entry.plus_output_time, entry.invalid_plus = _unpack(
            task, plus_result, task.plus_input, family, "plus", entry
        )
        expected[task.task_id] = entry
        if on_task is not None:
            on_task(task.task_id)
    return expected


def load_expected(
    benchmark: Benchmark,
    executor_factory: Callable[[], Executor],
    *,
    refresh: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Expected]:
    """Expected outputs from the cache, or computed (with an executor from ``executor_factory``) and cached."""
    path = cache_path(benchmark)
    if path.exists() and not refresh:
        try:
            with open(path, "rb") as f:
                cached = pickle.load(f)
            if set(cached) == set(benchmark.tasks):
                log(f"expected outputs: {path}")
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass  # unreadable or stale: recompute
    log(f"computing the expected outputs of {len(benchmark.tasks)} canonical solutions (once per dataset)")
    started = time.monotonic()
    expected = compute_expected(benchmark, executor_factory())
    seconds = time.monotonic() - started
    write_atomic(path, pickle.dumps(expected, protocol=pickle.HIGHEST_PROTOCOL))
    log(f"cached expected outputs: {path} (computed in {seconds:.1f} s)")
    return expected


def reference_issues(expected: dict[str, Expected]) -> dict[str, int]:
    """Counts worth reporting: inputs breaking contracts and inputs the canonical solution failed on."""
    return {
        "inputs_violating_contract": sum(
            len(e.invalid_base) + len(e.invalid_plus) for e in expected.values()
        ),
        "canonical_failures": sum(len(e.errors) for e in expected.values()),
    }
