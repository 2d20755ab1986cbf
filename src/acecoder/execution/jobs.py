"""The engine's public job types: a job (a program and its tests), its result, and counts over results."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from acecoder.execution.limits import Limits
from acecoder.execution.testkinds import AnyTest


@dataclass(frozen=True)
class Job:
    """One program to run against its tests: assert strings (Python source run after the program, over its
    names), stdin tests or functional calls (:mod:`acecoder.execution.testkinds`).

    ``stop_on_failure``: stop at the first test that fails (later tests fail as "skipped"; a wrong value found by
    the judge does not stop the sandbox, an exception or timeout does). ``capture``: keep the value of each
    test that is a bare expression in ``JobResult.values``. ``timeouts``: CPU seconds per test, overriding
    ``limits.timeout``."""

    program: str
    tests: Sequence[AnyTest]
    limits: Limits | None = None
    stop_on_failure: bool = False
    capture: bool = False
    timeouts: Sequence[float] | None = None


@dataclass
class JobResult:
    """Verdicts of one program: ``test_results[i]`` is 1 when test i passed, else 0 with ``errors[i]`` saying why."""

    test_results: list[int]
    errors: list[str | None]
    setup_error: str | None = None
    """Why the program itself failed before any test ran (syntax error, exception, exit, timeout), if it did."""
    infra_error: str | None = None
    """The engine, not the program, failed: the verdicts are not to be trusted as the program's."""
    output: str = ""
    wall_time: float = 0.0
    restarts: int = 0
    cpu_time: float = 0.0
    """CPU seconds the program and its tests used (over its whole process tree when cgroups are available)."""
    modes: list[str] = field(default_factory=list)
    """How each test was judged: "split" (probes in the sandbox, check in the judge), "judge" (the test ran in
    the judge, the program reached through calls), "stdin" (the whole program run on the test's input, its
    output compared in the judge) or "process" (inside the program's process, only where the caller allows it:
    :attr:`Limits.in_process_tests`)."""
    values: list[Any] | None = None
    """With ``Job(capture=True)``: each bare-expression test's value (see :mod:`acecoder.execution.values`)."""
    reused: bool = False
    """The verdicts of an identical job (same program, tests, limits and options) earlier in the same run,
    which ran once for both (``ExecutionEngine(dedupe=False)`` runs every copy); its CPU and wall time are 0."""

    @property
    def pass_rate(self) -> float | None:
        """passed / tests; None without tests and when the engine (not the program) failed."""
        if self.infra_error or not self.test_results:
            return None
        return sum(self.test_results) / len(self.test_results)

    @property
    def passed_all(self) -> bool:
        return bool(self.test_results) and all(self.test_results)


class Executor(Protocol):
    """What runs jobs: the local engine today, a Ray pool of engines for clusters."""

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]: ...

    def close(self) -> None: ...


class SandboxError(RuntimeError):
    """A sandbox server could not start or keeps dying."""


@dataclass
class ExecutionSummary:
    """Counts over many results, for progress displays and end-of-run summaries."""

    programs: int = 0
    tests: int = 0
    passed: int = 0
    all_passed: int = 0
    timeouts: int = 0
    infra_errors: int = 0
    budget_exhausted: int = 0
    """Programs that spent their whole CPU budget (``Limits.program_timeout``) before their last test."""
    split_tests: int = 0
    """Tests judged from split probes (the rest ran in the judge, or inside the program's process where the
    caller allows it)."""
    in_process: int = 0
    """Tests run inside the program's process (only with ``Limits.in_process_tests``)."""
    reused: int = 0
    """Programs identical to one run earlier in the same run, given its verdicts (see ``JobResult.reused``)."""
    errors: dict[str, int] = field(default_factory=dict)
    setup_errors: dict[str, int] = field(default_factory=dict)

    def add(self, result: JobResult) -> None:
        self.programs += 1
        self.reused += result.reused
        self.tests += len(result.test_results)
        self.passed += sum(result.test_results)
        self.all_passed += result.passed_all
        self.split_tests += result.modes.count("split")
        self.in_process += result.modes.count("process")
        if result.infra_error:
            self.infra_errors += 1
        if result.setup_error:
            self.setup_errors[result.setup_error] = self.setup_errors.get(result.setup_error, 0) + 1
        self.budget_exhausted += "timeout:budget" in result.errors
        for error in result.errors:
            if error is None:
                continue
            kind = error.split(":", 1)[0] if error.startswith(("setup:", "test:", "timeout:")) else error
            self.errors[kind] = self.errors.get(kind, 0) + 1
            self.timeouts += kind == "timeout"

    @property
    def pass_rate(self) -> float:
        return self.passed / self.tests if self.tests else 0.0
