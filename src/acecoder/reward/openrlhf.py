"""OpenRLHF's in-process reward: ``--reward.remote_url /path/to/acecoder/reward/openrlhf.py``.

OpenRLHF (v0.10.2+; ``--remote_rm_url`` before) loads ``reward_func(queries, prompts, labels)`` from this file
and calls it with one sample at a time from many threads (``asyncio.to_thread``); every call in the process
shares one engine (:mod:`acecoder.reward.shared`), so concurrent samples run in parallel on its workers. Print
the path to pass with ``python -c "import acecoder.reward.openrlhf as m; print(m.__file__)"``.

Labels (``--label_key``) are JSON lists of tests, or row ids of ``ACECODER_REWARD_DATASET``. The mode comes
from ``ACECODER_REWARD_MODE`` (``binary`` by default). An engine failure raises instead of scoring 0: OpenRLHF
then logs it and leaves that sample's reward unset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acecoder.reward.queries import response_from_query
from acecoder.reward.scoring import BatchStats
from acecoder.reward.shared import shared_lookup, shared_reward


class RewardInfraError(RuntimeError):
    """The engine, not the program, failed on a sample: there is no honest reward to give."""


def openrlhf_reply(stats: BatchStats) -> dict:
    """OpenRLHF's reply fields as plain lists: ``rewards``, ``scores`` (0..1) and ``extra_logs``."""
    if stats.infra_errors:
        raise RewardInfraError(f"the execution engine failed on {stats.infra_errors} sample(s)")
    return {
        "rewards": list(stats.rewards),
        "scores": list(stats.rewards),
        "extra_logs": {
            "pass_rate": [float(p or 0.0) for p in stats.pass_rates],
            "timeout": [float(t) for t in stats.timed_out],
        },
    }


def score_queries(
    queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], *, mode: str | None = None
):
    """Rewards for OpenRLHF samples, as lists (see :func:`openrlhf_reply`)."""
    if not len(queries) == len(prompts) == len(labels):
        raise ValueError(f"got {len(queries)} queries, {len(prompts)} prompts and {len(labels)} labels")
    lookup = shared_lookup()
    tests = [lookup.tests(label) for label in labels]
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
