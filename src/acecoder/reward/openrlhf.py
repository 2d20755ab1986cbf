"""OpenRLHF's in-process reward: ``--reward.remote_url /path/to/acecoder/reward/openrlhf.py``.

OpenRLHF (v0.10.2+; ``--remote_rm_url`` before) loads ``reward_func(queries, prompts, labels)`` from this file
and calls it with one sample at a time from many threads (``asyncio.to_thread``); every call in the process
shares one engine (:mod:`acecoder.reward.shared`), so concurrent samples run in parallel on its workers. Print
the path to pass with ``python -c "import acecoder.reward.openrlhf as m; print(m.__file__)"``.

Labels (``--data.label_key``; ``--label_key`` before 0.10.2) are JSON lists of tests, or row ids of
``ACECODER_REWARD_DATASET``, which is read (and every row checked) when OpenRLHF loads this file, so a bad path
or row stops the run before its first step. The mode comes from ``ACECODER_REWARD_MODE`` (``binary`` by
default).

OpenRLHF 0.11.2 logs an exception from ``reward_func`` at INFO level, leaves the sample's reward None, and then
crashes in ``compute_advantages_and_returns``. So an engine failure is retried and then gets the neutral reward,
flagged with ``infra_error`` = 1 in ``extra_logs`` (``ACECODER_REWARD_ON_ERROR=raise`` to raise instead; see
:mod:`acecoder.reward.failures`); a label that names no tests is a configuration error: it is logged at ERROR
level with the label and then raised.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from acecoder.reward.failures import RewardInfraError
from acecoder.reward.labels import UnknownLabel
from acecoder.reward.queries import openrlhf_reply, response_from_query
from acecoder.reward.shared import shared_lookup, shared_reward

__all__ = ["RewardInfraError", "openrlhf_reply", "reward_func", "score_queries"]
log = logging.getLogger("acecoder.reward")


def score_queries(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], *, mode: str | None = None
):
    """Rewards for OpenRLHF samples, as lists (see :func:`openrlhf_reply`)."""
    if not len(queries) == len(prompts) == len(labels):
        raise ValueError(f"got {len(queries)} queries, {len(prompts)} prompts and {len(labels)} labels")
    lookup = shared_lookup()
    try:
        tests = [lookup.tests(label) for label in labels]
    except UnknownLabel as e:
        log.error(
            "acecoder reward_func: %s (OpenRLHF: check --data.label_key and ACECODER_REWARD_DATASET)", e
        )
        raise
    answers = [response_from_query(q, p) for q, p in zip(queries, prompts, strict=True)]
    _, stats = shared_reward(mode).evaluate(answers, tests)
    return openrlhf_reply(stats)


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any]) -> dict:
    """OpenRLHF's reward function: ``{"rewards", "scores", "extra_logs"}`` as float tensors."""
    import torch

    reply = score_queries(queries, prompts, labels)
    return {
        "rewards": torch.tensor(reply["rewards"], dtype=torch.float32),
        "scores": torch.tensor(reply["scores"], dtype=torch.float32),
        "extra_logs": {k: torch.tensor(v, dtype=torch.float32) for k, v in reply["extra_logs"].items()},
    }


if os.environ.get("ACECODER_REWARD_DATASET"):
    shared_lookup()  # read and check the served rows now: a bad path or row fails OpenRLHF's start-up
