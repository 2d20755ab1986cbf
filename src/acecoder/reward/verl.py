"""verl custom reward functions: ``reward.custom_reward_function.path=<this file>`` with
``reward.custom_reward_function.name=compute_score`` (or ``compute_score_async``).

verl's reward managers call the function once per sample, from many worker threads (a sync function) or as
concurrent coroutines (an async one); every call in the process shares one engine
(:mod:`acecoder.reward.shared`), so a rollout's samples are micro-batched onto its workers instead of each call
starting a process pool. ``ground_truth`` is the sample's tests: a JSON list string, or a list (a Parquet list
column arrives as a numpy array). The reply is ``{"score", "pass_rate", "timeout"}``; in binary mode programs
stop at their first failing test, so ``pass_rate`` counts the tests after it as failed (exact in ``pass_rate``
mode, or with ``stop_on_failure=False`` passed through ``reward.custom_reward_function.reward_kwargs``).
``mode`` may be passed the same way; the default is ``ACECODER_REWARD_MODE`` (``binary``). An engine failure
raises :class:`~acecoder.reward.openrlhf.RewardInfraError` instead of scoring 0.
"""

from __future__ import annotations

from typing import Any

from acecoder.reward.openrlhf import RewardInfraError
from acecoder.reward.scoring import BatchStats, parse_tests
from acecoder.reward.shared import shared_reward


def _prepare(ground_truth: Any, mode: str | None, stop_on_failure: bool | None):
    tests = [parse_tests(ground_truth, where="ground_truth")]
    return shared_reward(mode, stop_on_failure=stop_on_failure), tests


def _reply(stats: BatchStats) -> dict[str, float]:
    if stats.infra_errors:
        raise RewardInfraError("the execution engine failed on this sample")
    return {
        "score": float(stats.rewards[0]),
        "pass_rate": float(stats.pass_rates[0] or 0.0),
        "timeout": float(stats.timed_out[0]),
    }


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Any = None,
    *,
    mode: str | None = None,
    stop_on_failure: bool | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """The reward of one verl sample (blocks its thread until the shared engine has run it)."""
    reward, tests = _prepare(ground_truth, mode, stop_on_failure)
    return _reply(reward.evaluate([solution_str], tests)[1])


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Any = None,
    *,
    mode: str | None = None,
    stop_on_failure: bool | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """:func:`compute_score` as a coroutine; concurrent calls share the engine's workers."""
    reward, tests = _prepare(ground_truth, mode, stop_on_failure)
    return _reply((await reward.aevaluate([solution_str], tests))[1])
