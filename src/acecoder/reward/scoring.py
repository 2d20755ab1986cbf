"""How a completion becomes a job and a job's verdicts become a reward.

Two modes, the same everywhere (TRL, verl, OpenRLHF, the reward server):

* ``binary`` (default, the paper's rule reward): 1.0 when the program passes every test, else 0.0. The program
  stops at its first failing test (``Job(stop_on_failure=True)`` when the engine offers it), so a wrong program
  costs one failing test, not all of them.
* ``pass_rate``: passed / total tests.

A reward is ``None`` only when the engine, not the program, failed (``JobResult.infra_error``) even after
retries; what each trainer then gets is :mod:`acecoder.reward.failures`'s choice, never a silent 0.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from acecoder.data.schema import DataError
from acecoder.execution import Job, JobResult, Limits, testkinds
from acecoder.execution.testkinds import AnyTest
from acecoder.sampling.extract import extract_code

MODES = ("binary", "pass_rate")

# The engine stops a program at its first failing test when ``Job`` has this field (the lead is adding it).
SUPPORTS_STOP_ON_FAILURE = "stop_on_failure" in {f.name for f in dataclasses.fields(Job)}


def check_mode(mode: str) -> str:
    """The canonical mode name (``pass-rate`` is accepted for ``pass_rate``)."""
    canonical = mode.replace("-", "_")
    if canonical not in MODES:
        raise ValueError(f"reward mode must be one of {', '.join(MODES)}, got {mode!r}")
    return canonical


def completion_text(completion: Any) -> str:
    """The answer text of a TRL completion: a string, or conversational messages (the assistant turns' text)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, Sequence):
        parts = [
            _content(m)
            for m in completion
            if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"
        ]
        if parts or not completion:
            return "".join(parts)
    raise TypeError(
        f"a completion must be a string or a list of {{role, content}} messages, got {type(completion).__name__}"
    )


def _content(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):  # content blocks: [{"type": "text", "text": ...}]
        return "".join(b.get("text", "") for b in content if isinstance(b, Mapping))
    raise TypeError(f"message content must be a string or a list of blocks, got {type(content).__name__}")


def parse_tests(value: Any, *, where: str = "test_cases") -> list[AnyTest]:
    """A sample's tests: a list of tests (assert strings, stdin tests, functional calls, in any mix; see
    :mod:`acecoder.execution.testkinds`), or a JSON string holding one (verl's ``ground_truth``). An empty list
    is an error: a sample without tests has no reward, never a pass."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not a JSON list of tests ({e.msg} at column {e.colno})") from None
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):  # numpy arrays from Parquet columns
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where}: expected a list of tests, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{where}: no tests to score against")
    try:
        return testkinds.parse_tests(list(value), where=where)
    except DataError as e:
        raise ValueError(f"{e.field}: {e.reason}") from None


# CPython 3.11's ast module is not thread-safe ("SystemError: AST constructor recursion depth mismatch" when two
# threads build ASTs at once; seen once in this project's suite with verl-style threads). Rewards therefore
# extract programs in the dispatcher thread, where the engine also parses tests, and extractions from other
# threads (reward-model rewards) take turns with each other.
_PARSE_LOCK = threading.Lock()


def program_of(
    answer: str,
    *,
    continuation: bool | None = None,
    strip_tests: bool = True,
    tests: Sequence[AnyTest] = (),
) -> str:
    """The program an answer stands for, extracted exactly as ``acecoder sample`` does. Trailing module-level
    statements that look like tests (``print(...)``, input-reading assignments feeding them) are the program
    itself when ``tests`` run it on a standard input: they are kept then."""
    strip = strip_tests and not testkinds.has_stdin_tests(tests)
    with _PARSE_LOCK:
        return extract_code(answer, continuation=continuation, strip_tests=strip)


def make_job(
    program: str,
    tests: Sequence[AnyTest],
    mode: str,
    limits: Limits | None = None,
    *,
    stop_on_failure: bool | None = None,
) -> Job:
    """The engine job for one program; binary mode stops at the first failing test when the engine can."""
    stop = mode == "binary" if stop_on_failure is None else stop_on_failure
    if stop and SUPPORTS_STOP_ON_FAILURE:
        return Job(program, tuple(tests), limits, stop_on_failure=True)  # type: ignore[call-arg]
    return Job(program, tuple(tests), limits)


def reward_of(result: JobResult, mode: str) -> float | None:
    """The reward of one verdict: None for an infrastructure error, else binary or pass rate."""
    if result.infra_error:
        return None
    if mode == "binary":
        return 1.0 if result.passed_all else 0.0
    return float(result.pass_rate or 0.0)


def passed_fraction(result: JobResult) -> float | None:
    """Tests passed / tests (tests skipped after a first failure count as not passed); None on infra errors."""
    if result.infra_error or not result.test_results:
        return None
    return sum(result.test_results) / len(result.test_results)


def timed_out(result: JobResult) -> bool:
    """Whether the program or a test ran out of time (``timeout``, ``setup:timeout``, ``timeout:budget``...)."""
    errors = [result.setup_error, *result.errors]
    return any(e is not None and "timeout" in e.split(":") for e in errors)


@dataclass
class BatchStats:
    """What one batch of rewards looked like, for per-step metrics."""

    samples: int = 0
    scored: int = 0
    all_passed: int = 0
    passed_tests: float = 0.0
    timeouts: int = 0
    setup_errors: int = 0
    infra_errors: int = 0
    """Samples the engine still failed on after retries."""
    retried: int = 0
    """Engine failures retried (a sample retried twice counts twice)."""
    neutral: int = 0
    """Samples given the neutral reward (see :mod:`acecoder.reward.failures`)."""
    infra_reasons: list[str] = field(default_factory=list)
    rewards: list[float | None] = field(default_factory=list)
    pass_rates: list[float | None] = field(default_factory=list)
    """Per sample: tests passed / tests (in binary mode, tests skipped after the first failure count as failed)."""
    timed_out: list[bool] = field(default_factory=list)
    failed: list[bool] = field(default_factory=list)
    """Per sample: the engine failed on it (after retries)."""

    def add(self, result: JobResult, reward: float | None) -> None:
        self.samples += 1
        self.rewards.append(reward)
        self.failed.append(result.infra_error is not None)
        self.pass_rates.append(passed_fraction(result))
        self.timed_out.append(timed_out(result))
        if result.infra_error:
            self.infra_errors += 1
            self.infra_reasons.append(result.infra_error)
            return
        self.scored += 1
        self.all_passed += result.passed_all
        self.passed_tests += self.pass_rates[-1] or 0.0
        self.timeouts += self.timed_out[-1]
        self.setup_errors += result.setup_error is not None

    def metrics(self, prefix: str = "tests/") -> dict[str, float]:
        """Fractions over the scored samples (``infra_errors`` is a count)."""
        n = max(self.scored, 1)
        return {
            f"{prefix}all_pass_rate": self.all_passed / n,
            f"{prefix}pass_rate": self.passed_tests / n,
            f"{prefix}timeout_rate": self.timeouts / n,
            f"{prefix}setup_error_rate": self.setup_errors / n,
            f"{prefix}infra_errors": float(self.infra_errors),
            f"{prefix}infra_retries": float(self.retried),
        }
