"""One engine per process for rewards that trainers load as plain functions (verl, OpenRLHF's ``.py`` reward).

Those trainers import a function from a file and call it from many threads or coroutines; they pass no
options. The first call starts the engine's servers (separate processes with their own interpreter) and every
later call in the process, whatever its thread or event loop, shares them. Settings come from the environment:

| variable | default | meaning |
|---|---|---|
| ``ACECODER_REWARD_MODE`` | ``binary`` | ``binary`` or ``pass_rate`` |
| ``ACECODER_REWARD_WORKERS`` | one per core | sandbox workers |
| ``ACECODER_REWARD_TIMEOUT`` | 1.0 | CPU seconds per test |
| ``ACECODER_REWARD_PROGRAM_TIMEOUT`` | 0.25 | CPU seconds for a program and all its tests (0: no budget) |
| ``ACECODER_REWARD_DATASET`` | none | AceCode rows whose ``id`` labels may name (OpenRLHF) |
| ``ACECODER_REWARD_ON_ERROR`` | ``neutral`` | after retries, an engine failure gets the neutral reward or raises |
| ``ACECODER_REWARD_NEUTRAL`` | 0.0 | the neutral reward (see :mod:`acecoder.reward.failures`) |

A process forked from one whose engine is running (verl's PRIME manager runs ``compute_score`` in a process
pool) starts its own engine, with one worker unless ``ACECODER_REWARD_WORKERS`` says otherwise; the parent's
engine is left alone.
"""

from __future__ import annotations

import atexit
import os
import threading

from acecoder.execution.limits import SAMPLED
from acecoder.reward.dispatcher import EngineDispatcher
from acecoder.reward.failures import env_policy
from acecoder.reward.labels import TestLookup
from acecoder.reward.scoring import check_mode
from acecoder.reward.test_case import TestCaseReward

_lock = threading.Lock()
_dispatcher: EngineDispatcher | None = None
_rewards: dict[tuple[str, bool | None], TestCaseReward] = {}
_lookup: TestLookup | None = None
_forked = False
_inherited: list[object] = []  # a forked child's copies of the parent's engine: never closed, never collected


def _after_fork_in_child() -> None:
    """The parent's dispatcher thread does not exist here and its engine's servers are the parent's: keep the
    copies out of reach (closing or collecting them would unlink the parent's uid lock) and start afresh."""
    global _dispatcher, _forked, _lock
    _lock = threading.Lock()
    if _dispatcher is not None:
        _inherited.append((_dispatcher, dict(_rewards)))
    _dispatcher, _forked = None, True
    _rewards.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def default_mode() -> str:
    return check_mode(os.environ.get("ACECODER_REWARD_MODE", "binary"))


def shared_reward(mode: str | None = None, *, stop_on_failure: bool | None = None) -> TestCaseReward:
    """This process's test-case reward for ``mode`` (default: ``ACECODER_REWARD_MODE``), on the shared engine."""
    global _dispatcher
    mode = check_mode(mode) if mode else default_mode()
    key = (mode, stop_on_failure)
    with _lock:
        reward = _rewards.get(key)
        if reward is None:
            on_error, neutral = env_policy()
            if _dispatcher is None:
                workers = int(os.environ.get("ACECODER_REWARD_WORKERS", "0")) or (1 if _forked else None)
                _dispatcher = EngineDispatcher(workers=workers, limits=limits_from_environment())
                atexit.register(_close_if_mine, _dispatcher, os.getpid())
            reward = _rewards[key] = TestCaseReward(
                mode,
                dispatcher=_dispatcher,
                stop_on_failure=stop_on_failure,
                on_infra_error=on_error,
                neutral_reward=neutral,
            )
        return reward


def _close_if_mine(dispatcher: EngineDispatcher, pid: int) -> None:
    if os.getpid() == pid:
        dispatcher.close()


def limits_from_environment():
    """The sampled-program budget (:data:`acecoder.execution.limits.SAMPLED`), with the environment's changes."""
    return SAMPLED.limits(
        timeout=_seconds("ACECODER_REWARD_TIMEOUT", SAMPLED.test),
        program_timeout=_seconds("ACECODER_REWARD_PROGRAM_TIMEOUT", SAMPLED.program),
    )


def _seconds(variable: str, default: float | None) -> float | None:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{variable}={raw!r}: expected CPU seconds, e.g. 0.25") from None


def shared_lookup() -> TestLookup:
    """Row id -> tests of ``ACECODER_REWARD_DATASET`` (empty when unset: labels must then be test lists)."""
    global _lookup
    with _lock:
        if _lookup is None:
            path = os.environ.get("ACECODER_REWARD_DATASET")
            _lookup = TestLookup.from_file(path) if path else TestLookup()
        return _lookup


def reset() -> None:
    """Stop this process's shared engine and forget the settings (the next call reads the environment again)."""
    global _dispatcher, _lookup
    with _lock:
        if _dispatcher is not None:
            _dispatcher.close()
        _dispatcher, _lookup = None, None
        _rewards.clear()
