"""Test-case rewards for TRL (GRPO, RLOO): run each completion's program against its row's tests.

    reward = TestCaseReward()                      # starts the sandbox servers now, before any model loads
    trainer = GRPOTrainer(model, reward_funcs=reward, train_dataset=rows_with_test_cases, ...)

TRL calls the reward with ``prompts``, ``completions`` (strings, or conversational message lists),
``completion_ids``, ``trainer_state``, ``log_metric`` and every dataset column; this one reads ``test_cases``
(a list of tests of any kind: assert strings, stdin tests, functional calls; or a JSON string of one) and
ignores the rest. Per-batch metrics (all-pass rate, pass rate,
timeouts, infrastructure errors) go to TRL's ``log_metric`` when it is passed.

The engine's workers are separate processes started with their own interpreter (never forked from the trainer),
in ``__init__`` unless ``start=False`` (then at the first call): build the reward before the model so the
servers start while the process is small.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from acecoder.execution import ExecutionEngine, Job, JobResult, Limits
from acecoder.execution.testkinds import AnyTest
from acecoder.reward.dispatcher import EngineDispatcher
from acecoder.reward.failures import FailurePolicy
from acecoder.reward.scoring import (
    BatchStats,
    check_mode,
    completion_text,
    make_job,
    parse_tests,
    program_of,
    reward_of,
)


class TestCaseReward:
    """A TRL reward function: 1.0/0.0 for passing every test (``binary``) or the fraction passed
    (``pass_rate``); None (excluded by TRL) only when the engine failed even after retries, never a silent 0.

    ``dispatcher``: share one engine between several rewards (default: a new one with ``workers`` and
    ``limits``). ``tests_key``: the dataset column with the tests. ``continuation``/``strip_tests``: how the
    program is extracted from an answer (:func:`acecoder.sampling.extract_code`, as ``acecoder sample`` does).
    ``name``: the reward's name in TRL (``rewards/<name>/mean`` and the completions table; TRL merges the
    columns of rewards that share a name). Default: ``tests_<mode>`` (``tests_<mode>_async`` for
    :class:`AsyncTestCaseReward`, plus ``_<tests_key>`` for another tests column), numbered ``_2``, ``_3``...
    when a live reward in this process already has it. ``metric_prefix``: the names of the metrics sent to
    ``log_metric`` (default ``<name>/``).

    Engine failures (not the program's) are retried ``retries`` more times; what still fails gets None
    (``on_infra_error="exclude"``, TRL leaves it out), ``neutral_reward`` (``"neutral"``) or raises
    :class:`~acecoder.reward.failures.RewardInfraError` (``"raise"``); see :mod:`acecoder.reward.failures`.
    """

    __test__ = False  # not a pytest class

    def __init__(
        self,
        mode: str = "binary",
        limits: Limits | None = None,
        workers: int | None = None,
        *,
        dispatcher: EngineDispatcher | None = None,
        engine: ExecutionEngine | None = None,
        tests_key: str = "test_cases",
        continuation: bool | None = None,
        strip_tests: bool = True,
        stop_on_failure: bool | None = None,
        name: str | None = None,
        metric_prefix: str | None = None,
        max_pending: int = 4096,
        start: bool = True,
        retries: int = 2,
        on_infra_error: str = "exclude",
        neutral_reward: float = 0.0,
    ):
        self.mode = check_mode(mode)
        if retries < 0:
            raise ValueError(f"retries must be at least 0, got {retries}")
        self.retries = retries
        self.failures = FailurePolicy(on_infra_error, neutral_reward)
        self.limits = limits
        self.tests_key = tests_key
        self.continuation, self.strip_tests, self.stop_on_failure = continuation, strip_tests, stop_on_failure
        self.__name__ = _unique_name(self._default_name(), self) if name is None else _claim_name(name, self)
        self.metric_prefix = metric_prefix if metric_prefix is not None else f"{self.__name__}/"
        self._owns_dispatcher = dispatcher is None
        self.dispatcher = dispatcher or EngineDispatcher(
            engine, workers=workers, limits=limits, max_pending=max_pending, start=start
        )
        self.last_stats: BatchStats | None = None  # the last call's statistics

    def _default_name(self) -> str:
        column = "" if self.tests_key == "test_cases" else f"_{self.tests_key}"
        return f"tests_{self.mode}{self._name_suffix}{column}"

    _name_suffix = ""

    def jobs(self, completions: Sequence[Any], test_cases: Sequence[Any]) -> list[Callable[[], Job]]:
        """One job builder per completion, for :meth:`EngineDispatcher.submit`: answers and tests are checked
        here (bad input raises in the caller), the program is extracted in the dispatcher thread."""
        if len(completions) != len(test_cases):
            raise ValueError(f"got {len(completions)} completions but {len(test_cases)} {self.tests_key}")
        return [
            partial(self._job, completion_text(c), parse_tests(t, where=f"{self.tests_key}[{i}]"))
            for i, (c, t) in enumerate(zip(completions, test_cases, strict=True))
        ]

    def _job(self, answer: str, tests: list[AnyTest]) -> Job:
        program = program_of(
            answer, continuation=self.continuation, strip_tests=self.strip_tests, tests=tests
        )
        return make_job(program, tests, self.mode, self.limits, stop_on_failure=self.stop_on_failure)

    def evaluate(self, completions: Sequence[Any], test_cases: Sequence[Any]) -> tuple[list, BatchStats]:
        """Rewards and batch statistics (thread-safe: any number of threads may evaluate at once); engine
        failures are retried, then handled by ``on_infra_error``."""
        builders = self.jobs(completions, test_cases)
        results = _results(builders, self.dispatcher.run(builders, return_exceptions=True))
        retried = 0
        for _ in range(self.retries):
            again = [builders[i] for i in _failed(results)]
            if not again:
                break
            retried += len(again)
            _merge(results, _results(again, self.dispatcher.run(again, return_exceptions=True)))
        return self.tally(results, retried=retried)

    async def aevaluate(
        self, completions: Sequence[Any], test_cases: Sequence[Any]
    ) -> tuple[list, BatchStats]:
        """:meth:`evaluate` from a coroutine, without blocking its event loop."""
        builders = self.jobs(completions, test_cases)
        results = _results(builders, await self.dispatcher.arun(builders, return_exceptions=True))
        retried = 0
        for _ in range(self.retries):
            again = [builders[i] for i in _failed(results)]
            if not again:
                break
            retried += len(again)
            _merge(results, _results(again, await self.dispatcher.arun(again, return_exceptions=True)))
        return self.tally(results, retried=retried)

    def tally(
        self, results: Sequence[JobResult], *, retried: int = 0
    ) -> tuple[list[float | None], BatchStats]:
        """Rewards and statistics of finished jobs, engine failures handled by ``on_infra_error``."""
        stats = BatchStats(retried=retried)
        for result in results:
            stats.add(result, reward_of(result, self.mode))
        return self.failures.apply(stats), stats

    def _report(self, stats: BatchStats, log_metric: Callable[[str, float], None] | None) -> list:
        self.last_stats = stats
        if log_metric is not None:
            for name, value in stats.metrics(self.metric_prefix).items():
                log_metric(name, value)
        return stats.rewards

    def _tests(self, kwargs: dict[str, Any]) -> Sequence[Any]:
        if self.tests_key not in kwargs:
            raise KeyError(
                f"the dataset has no '{self.tests_key}' column (the tests to score completions against); "
                f"columns passed: {sorted(k for k in kwargs if k not in _TRL_KWARGS)}"
            )
        return kwargs[self.tests_key]

    def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any
    ) -> list[float | None]:
        _, stats = self.evaluate(completions, self._tests(kwargs))
        return self._report(stats, kwargs.get("log_metric"))

    def close(self) -> None:
        """Stop the engine's servers (when this reward started them)."""
        if self._owns_dispatcher:
            self.dispatcher.close()

    def __enter__(self):
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AsyncTestCaseReward(TestCaseReward):
    """:class:`TestCaseReward` as a coroutine: TRL runs async reward functions concurrently (e.g. with a reward
    model scoring the same batch) on its own event loop."""

    _name_suffix = "_async"

    async def __call__(  # type: ignore[override]
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any
    ) -> list[float | None]:
        _, stats = await self.aevaluate(completions, self._tests(kwargs))
        return self._report(stats, kwargs.get("log_metric"))


def _results(builders: Sequence[Callable[[], Job]], outcomes: Sequence[Any]) -> list[JobResult]:
    """Engine results, with an exception the engine raised for a job turned into that job's engine failure."""
    results = []
    for builder, outcome in zip(builders, outcomes, strict=True):
        if isinstance(outcome, JobResult):
            results.append(outcome)
        elif isinstance(outcome, Exception):
            tests = len(builder.args[1]) if isinstance(builder, partial) else 0
            reason = f"engine error: {type(outcome).__name__}: {outcome}"
            results.append(JobResult([0] * tests, ["infra"] * tests, infra_error=reason))
        else:
            raise outcome
    return results


def _failed(results: Sequence[JobResult]) -> list[int]:
    return [i for i, result in enumerate(results) if result.infra_error is not None]


def _merge(results: list[JobResult], retried: list[JobResult]) -> None:
    """Put the retried jobs' results (in the order of :func:`_failed`) in place of the failed ones."""
    for index, result in zip(_failed(results), retried, strict=True):
        results[index] = result


_names: weakref.WeakValueDictionary[str, TestCaseReward] = weakref.WeakValueDictionary()
_names_lock = threading.Lock()


def _new_names_lock() -> None:
    global _names_lock
    _names_lock = threading.Lock()  # a forked child: the parent's lock may have been held by another thread


os.register_at_fork(after_in_child=_new_names_lock)


def _unique_name(base: str, reward: TestCaseReward) -> str:
    """``base``, or ``base_2``, ``base_3``... when live rewards of this process already carry it."""
    with _names_lock:
        name, number = base, 1
        while name in _names:
            number += 1
            name = f"{base}_{number}"
        _names[name] = reward
        return name


def _claim_name(name: str, reward: TestCaseReward) -> str:
    if not name:
        raise ValueError("a reward's name must not be empty")
    with _names_lock:
        _names[name] = reward
    return name


_TRL_KWARGS = {"completion_ids", "trainer_state", "log_extra", "log_metric", "environments"}
