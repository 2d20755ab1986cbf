"""Rewards for RL trainers from the one execution engine: test-case rewards for TRL, verl and OpenRLHF,
reward-model rewards, weighted combinations, and the pieces of ``acecoder serve-reward``."""

from acecoder.reward.dispatcher import EngineDispatcher
from acecoder.reward.scoring import MODES, SUPPORTS_STOP_ON_FAILURE, completion_text, parse_tests, program_of
from acecoder.reward.test_case import AsyncTestCaseReward, TestCaseReward

__all__ = [
    "MODES",
    "SUPPORTS_STOP_ON_FAILURE",
    "AsyncTestCaseReward",
    "EngineDispatcher",
    "TestCaseReward",
    "completion_text",
    "parse_tests",
    "program_of",
]
