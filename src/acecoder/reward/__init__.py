"""Rewards for RL trainers from the one execution engine: test-case rewards for TRL, verl and OpenRLHF,
reward-model rewards, weighted combinations, the reward server and the RL training entry point.

* TRL: :class:`TestCaseReward` / :class:`AsyncTestCaseReward`, :class:`RewardModelReward`,
  :class:`WeightedReward`;
* verl: ``acecoder/reward/verl.py`` (``compute_score``, ``compute_score_async``);
* OpenRLHF: ``acecoder/reward/openrlhf.py`` (``reward_func``) or ``acecoder serve-reward``.
"""

from acecoder.reward.dispatcher import EngineDispatcher
from acecoder.reward.failures import RewardInfraError
from acecoder.reward.labels import TestLookup, UnknownLabel
from acecoder.reward.model_reward import RewardModelReward, WeightedReward
from acecoder.reward.queries import response_from_query
from acecoder.reward.scoring import (
    MODES,
    SUPPORTS_STOP_ON_FAILURE,
    BatchStats,
    completion_text,
    parse_tests,
    program_of,
)
from acecoder.reward.test_case import AsyncTestCaseReward, TestCaseReward

__all__ = [
    "MODES",
    "SUPPORTS_STOP_ON_FAILURE",
    "AsyncTestCaseReward",
    "BatchStats",
    "EngineDispatcher",
    "RewardInfraError",
    "RewardModelReward",
    "TestCaseReward",
    "TestLookup",
    "UnknownLabel",
    "WeightedReward",
    "completion_text",
    "parse_tests",
    "program_of",
    "response_from_query",
]
