"""verl custom reward functions: ``reward.custom_reward_function.path=<this file>`` (or
``pkg://acecoder.reward.verl``) with ``reward.custom_reward_function.name=compute_score`` (or
``compute_score_async``).

verl's reward managers call the function once per sample, from many worker threads (a sync function) or as
concurrent coroutines (an async one); every call in the process shares one engine
(:mod:`acecoder.reward.shared`), so a rollout's samples are micro-batched onto its workers instead of each call
starting a process pool. ``ground_truth`` is the sample's tests: a JSON list string, or a list (a Parquet list
column arrives as a numpy array). The reply is ``{"score", "pass_rate", "timeout", "infra_error"}`` (verl logs
every key); in binary mode programs stop at their first failing test, so ``pass_rate`` counts the tests after it
as failed (exact in ``pass_rate`` mode, or with ``stop_on_failure=False``). ``mode``, ``stop_on_failure`` and
``return_dict`` may be passed as reward kwargs; verl 0.9.1 needs the ``+`` prefix for keys its schema lacks:
``+reward.custom_reward_function.reward_kwargs.mode=pass_rate``. The default mode is ``ACECODER_REWARD_MODE``
(``binary``).

An engine failure is retried, then gets the neutral reward with ``infra_error`` = 1.0
(``ACECODER_REWARD_ON_ERROR=raise`` to raise instead; see :mod:`acecoder.reward.failures`): verl's managers
have no "excluded" reward and an exception stops the step.

Reward managers (verl 0.9.1): ``naive``, ``dapo``, ``rate_limited`` and the Ray ``RewardLoopManager`` call
these one sample at a time and work as they are. The legacy ``PrimeRewardManager`` reads ``float(result[0])``
and scores every sample 0 when the result is a dict: give it :func:`compute_score_float` (or
``return_dict=False``); handed the dict it stops with :class:`PrimeManagerError` instead of training on zeros.
It runs the function in a process pool, so it needs a function it can pickle: loaded from this file by path or
by ``pkg://``, the functions are this package's importable ones. ``BatchRewardManager`` expects a function
over whole batches and is not supported.
"""

from __future__ import annotations

from typing import Any

from acecoder.reward.scoring import BatchStats, parse_tests
from acecoder.reward.shared import shared_reward


class PrimeManagerError(BaseException):
    """verl's PrimeRewardManager read a dict result as ``result[0]``. A BaseException: the manager catches every
    Exception and scores the whole batch 0."""


class VerlScore(dict):
    """``compute_score``'s dict; ``result[0]`` (how verl's PrimeRewardManager reads a result) refuses loudly."""

    def __getitem__(self, key: Any) -> Any:
        if key == 0 and not isinstance(key, bool):
            raise PrimeManagerError(
                "acecoder: verl's PrimeRewardManager reads float(result[0]) and would score every sample 0: "
                "use acecoder.reward.verl.compute_score_float (or reward_kwargs return_dict=False)"
            )
        return super().__getitem__(key)


def _prepare(ground_truth: Any, mode: str | None, stop_on_failure: bool | None):
    tests = [parse_tests(ground_truth, where="ground_truth")]
    return shared_reward(mode, stop_on_failure=stop_on_failure), tests


def _reply(stats: BatchStats, return_dict: bool) -> dict[str, float] | float:
    score = float(stats.rewards[0])
    if not return_dict:
        return score
    return VerlScore(
        score=score,
        pass_rate=float(stats.pass_rates[0] or 0.0),
        timeout=float(stats.timed_out[0]),
        infra_error=float(stats.failed[0]),
    )


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Any = None,
    *,
    mode: str | None = None,
    stop_on_failure: bool | None = None,
    return_dict: bool = True,
    **kwargs: Any,
) -> dict[str, float] | float:
    """The reward of one verl sample (blocks its thread until the shared engine has run it)."""
    reward, tests = _prepare(ground_truth, mode, stop_on_failure)
    return _reply(reward.evaluate([solution_str], tests)[1], return_dict)


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Any = None,
    *,
    mode: str | None = None,
    stop_on_failure: bool | None = None,
    return_dict: bool = True,
    **kwargs: Any,
) -> dict[str, float] | float:
    """:func:`compute_score` as a coroutine; concurrent calls share the engine's workers."""
    reward, tests = _prepare(ground_truth, mode, stop_on_failure)
    return _reply((await reward.aevaluate([solution_str], tests))[1], return_dict)


def compute_score_float(
    data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, **kwargs: Any
) -> float:
    """:func:`compute_score` returning the score alone (verl's PrimeRewardManager)."""
    return compute_score(
        data_source, solution_str, ground_truth, extra_info, **{**kwargs, "return_dict": False}
    )


if __name__ != "acecoder.reward.verl":
    # Loaded from its file path (verl's loader names it custom_module_<hash>, which no other process can
    # import): hand out the importable module's functions, which pickle (PrimeRewardManager's process pool).
    from acecoder.reward import verl as _importable

    compute_score = _importable.compute_score
    compute_score_async = _importable.compute_score_async
    compute_score_float = _importable.compute_score_float
