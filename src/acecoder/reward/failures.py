"""What a trainer gets when the engine, not the program, fails on a sample.

A program's own failure (wrong answer, crash, timeout) is a reward of 0 like any other. An engine failure
(``JobResult.infra_error``: a sandbox server that died, a fork that failed, an engine that raised) says nothing
about the program, so it is first retried (``retries`` more times); what still fails then gets, by
``on_infra_error``:

* ``exclude``: None. TRL (>= 1.16) leaves such a sample out of its group's baseline and gives it no
  advantage; the default of the TRL rewards.
* ``neutral``: ``neutral_reward`` (0.0 unless set: never a reward for an unverified program), flagged
  (``infra_error`` = 1 in verl's reward extras, OpenRLHF's ``extra_logs`` and the server's ``/metrics``) and
  logged; the default for verl and OpenRLHF, which have no "excluded" reward (OpenRLHF 0.11.2 leaves a
  failed sample's reward None and then crashes in ``compute_advantages_and_returns``).
* ``raise``: :class:`RewardInfraError` (stop the run instead).

Whatever the choice, an engine failing on ``max_consecutive`` samples in a row raises: that is an engine that
is down, not a rare failure, and training on neutral rewards would waste the run.
"""

from __future__ import annotations

import logging
import os
import threading

from acecoder.reward.scoring import BatchStats

ON_INFRA_ERROR = ("exclude", "neutral", "raise")
log = logging.getLogger("acecoder.reward")


class RewardInfraError(RuntimeError):
    """The engine, not the program, failed on a sample: there is no honest reward to give."""


def check_on_infra_error(value: str) -> str:
    if value not in ON_INFRA_ERROR:
        raise ValueError(f"on_infra_error must be one of {', '.join(ON_INFRA_ERROR)}, got {value!r}")
    return value


def env_policy() -> tuple[str, float]:
    """``ACECODER_REWARD_ON_ERROR`` (``neutral`` or ``raise``; default ``neutral``) and
    ``ACECODER_REWARD_NEUTRAL`` (default 0.0), for the rewards verl and OpenRLHF load from a file."""
    on_error = check_on_infra_error(os.environ.get("ACECODER_REWARD_ON_ERROR", "neutral"))
    if on_error == "exclude":
        raise ValueError("ACECODER_REWARD_ON_ERROR: verl and OpenRLHF need a reward: use neutral or raise")
    try:
        neutral = float(os.environ.get("ACECODER_REWARD_NEUTRAL", "0"))
    except ValueError:
        raise ValueError(
            f"ACECODER_REWARD_NEUTRAL: expected a number, got {os.environ['ACECODER_REWARD_NEUTRAL']!r}"
        ) from None
    return on_error, neutral


class FailurePolicy:
    """Applies ``on_infra_error`` to a batch's rewards and watches for an engine that keeps failing."""

    def __init__(self, on_infra_error: str = "exclude", neutral: float = 0.0, max_consecutive: int = 64):
        self.on_infra_error = check_on_infra_error(on_infra_error)
        self.neutral = float(neutral)
        self.max_consecutive = max_consecutive
        self._consecutive = 0
        self._lock = threading.Lock()

    def apply(self, stats: BatchStats) -> list[float | None]:
        """The batch's rewards with failed samples handled; ``stats.rewards`` is set to them and
        ``stats.neutral`` counts the neutral ones."""
        with self._lock:
            for failed in stats.failed:
                self._consecutive = self._consecutive + 1 if failed else 0
            consecutive = self._consecutive
        if not stats.infra_errors:
            return stats.rewards
        reasons = "; ".join(sorted(set(stats.infra_reasons)))[:500]
        if consecutive >= self.max_consecutive:
            raise RewardInfraError(
                f"the execution engine failed on the last {consecutive} samples in a row (after retries): "
                f"it is down, not scoring ({reasons})"
            )
        if self.on_infra_error == "raise":
            raise RewardInfraError(
                f"the execution engine failed on {stats.infra_errors} sample(s) after retries ({reasons})"
            )
        if self.on_infra_error == "exclude":
            log.warning("reward: %d sample(s) excluded (engine failure: %s)", stats.infra_errors, reasons)
            return stats.rewards
        stats.neutral = stats.infra_errors
        log.warning(
            "reward: %d sample(s) given the neutral reward %s (engine failure: %s)",
            stats.infra_errors,
            self.neutral,
            reasons,
        )
        stats.rewards = [
            self.neutral if failed else r for r, failed in zip(stats.rewards, stats.failed, strict=True)
        ]
        return stats.rewards
