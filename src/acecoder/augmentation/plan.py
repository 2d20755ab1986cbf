"""What a batch of augmentation works with: the settings, one row's outcome, and a row's plan on its way through
the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from acecoder.augmentation.calls import Call, Target
from acecoder.augmentation.domain import RULES
from acecoder.augmentation.mutate import Rejections
from acecoder.execution.limits import AUGMENT

if TYPE_CHECKING:
    from acecoder.augmentation.sources import RowReference
    from acecoder.execution import JobResult

OUTPUT_RULE = "output"
"""No None result where the references give None on no seen input (None often answers an invalid input)."""
ALL_RULES = (*RULES, OUTPUT_RULE)
DEFAULT_MAX_NEW_TESTS = 50
MAX_INPUT_CHARS = 20_000
"""Longest input (as text) generated: every input of a row travels to the engine in one program."""
REFERENCE_LIMITS = AUGMENT.limits()
FAILING_TESTS = ("drop", "skip")
EXTRA_POOL = 40  # generated inputs beyond the new tests that decide whether a mutant is equivalent


@dataclass
class Settings:
    """What decides the new tests (all of it is part of a run's fingerprint)."""

    max_new_tests: int = DEFAULT_MAX_NEW_TESTS
    candidates: int | None = None
    """Inputs generated per row before the checks (default: 3 x max_new_tests, at least 30)."""
    rules: tuple[str, ...] = ALL_RULES
    max_input_seconds: float = 0.01
    """Inputs the reference needs longer for are dropped (a slower right program could time out on them)."""
    mutation_score: bool = True
    max_mutants: int = 12
    min_mutation_score: float | None = None
    seed: int = 0
    failing_tests: str = "drop"
    """When no reference passes every one of the row's tests: ``drop`` the tests a reference fails (listed in the
    row's ``augmentation.removed_tests``) and augment from the rest; ``skip``: leave the row unchanged."""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.rules) - set(ALL_RULES))
        if unknown:
            raise ValueError(f"unknown domain rule(s) {unknown}; known: {', '.join(ALL_RULES)}")
        if self.failing_tests not in FAILING_TESTS:
            raise ValueError(f"failing_tests must be one of {FAILING_TESTS}, got {self.failing_tests!r}")
        if self.max_new_tests < 0:
            raise ValueError(f"max_new_tests must not be negative, got {self.max_new_tests}")
        if self.min_mutation_score is not None and not 0 <= self.min_mutation_score <= 1:
            raise ValueError(f"min_mutation_score must be in [0, 1], got {self.min_mutation_score}")

    @property
    def n_candidates(self) -> int:
        return self.candidates if self.candidates is not None else max(30, 3 * self.max_new_tests)


@dataclass
class RowOutcome:
    """One input row's fate; ``row`` is the output row (None when dropped for a low mutation score)."""

    id: str
    source: str
    line: int | None
    n_before: int
    row: dict[str, Any] | None = None
    n_new: int = 0
    problem: dict[str, Any] | None = None
    """Why the row was left unchanged: ``{"field", "reason", "detail"}``."""
    rejected: str | None = None
    candidates: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    reference: str = ""
    mutation: dict[str, Any] | None = None

    def to_record(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RowOutcome:
        return cls(**record)


@dataclass
class Plan:
    """A row on its way: what was read and generated, waiting for the engine."""

    index: int
    row: dict[str, Any]
    tests: list[str]
    ref: RowReference
    targets: list[Target]
    calls: list[Call] = field(default_factory=list)
    """Seen calls first (``n_seen``), then candidates."""
    provenance: list[str] = field(default_factory=list)
    n_seen: int = 0
    probed: int = 0
    """Seen inputs found by probing the reference (the asserts showed none of some kind)."""
    rejected: Rejections = field(default_factory=Rejections)
    results: list[JobResult] = field(default_factory=list)


def problem(outcome: RowOutcome, reason: str, field_name: str, detail: str) -> RowOutcome:
    outcome.problem = {"reason": reason, "field": field_name, "detail": detail}
    return outcome
