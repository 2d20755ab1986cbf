"""Rewards from a trained reward model (``acecoder.reward_model.RewardModel``, the model ``acecoder score``
uses), as a TRL reward function, and weighted sums of rewards."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from acecoder.reward.scoring import completion_text, program_of


class RewardModelReward:
    """Scores each completion's program with a reward model, batched per question.

    ``model``: a path to a reward model folder (loaded with ``acecoder.reward_model.RewardModel``) or an object
    with ``score(question, programs) -> list[float]``. ``question_key``: the dataset column with the question.
    Completions of the same question (a GRPO group) are scored in one call.
    """

    def __init__(self, model: Any, *, question_key: str = "question", continuation: bool | None = None):
        if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
            try:
                from acecoder.reward_model import RewardModel
            except ImportError as e:
                raise ImportError(
                    f"reward-model rewards need acecoder.reward_model and its training stack ({e}); "
                    "install with pip install 'acecoder[train]'"
                ) from None
            model = RewardModel(model)
        if not callable(getattr(model, "score", None)):
            raise TypeError("model must be a reward-model path or have score(question, programs)")
        self.model = model
        self._takes_tests = "tests" in inspect.signature(model.score).parameters
        self.question_key = question_key
        self.continuation = continuation
        self.__name__ = "reward_model"

    def __call__(
        self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any
    ) -> list[float | None]:
        if self.question_key not in kwargs:
            raise KeyError(
                f"the dataset has no '{self.question_key}' column (the question the reward model reads)"
            )
        questions = kwargs[self.question_key]
        if len(questions) != len(completions):
            raise ValueError(f"got {len(completions)} completions but {len(questions)} {self.question_key}")
        groups: dict[str, list[int]] = {}
        for index, question in enumerate(questions):
            groups.setdefault(question, []).append(index)
        rewards: list[float | None] = [None] * len(completions)
        for question, indices in groups.items():
            programs = [
                program_of(completion_text(completions[i]), continuation=self.continuation) for i in indices
            ]
            # The rendering the model was trained on shows the question's first tests: give them when known.
            tests = kwargs.get("test_cases")
            if self._takes_tests and tests is not None:
                scores = self.model.score(question, programs, tests=list(tests[indices[0]] or []))
            else:
                scores = self.model.score(question, programs)
            if len(scores) != len(programs):
                raise ValueError(
                    f"the reward model returned {len(scores)} scores for {len(programs)} programs"
                )
            for i, score in zip(indices, scores, strict=True):
                rewards[i] = float(score)
        return rewards


class WeightedReward:
    """``sum(weight * reward)`` over several reward functions called with the same arguments; a sample any of
    them could not score (None) stays None. For trainers that take one reward function; TRL itself also
    accepts a list of reward functions with ``reward_weights``."""

    def __init__(self, rewards: Sequence[Any], weights: Sequence[float] | None = None):
        if not rewards:
            raise ValueError("WeightedReward needs at least one reward function")
        weights = list(weights) if weights is not None else [1.0] * len(rewards)
        if len(weights) != len(rewards):
            raise ValueError(f"got {len(weights)} weights for {len(rewards)} reward functions")
        self.rewards, self.weights = list(rewards), weights
        self.__name__ = "+".join(getattr(r, "__name__", type(r).__name__) for r in rewards)

    def __call__(self, prompts: Sequence[Any] | None = None, completions: Sequence[Any] = (), **kwargs: Any):
        total: list[float | None] = [0.0] * len(completions)
        for reward, weight in zip(self.rewards, self.weights, strict=True):
            values = reward(prompts=prompts, completions=completions, **kwargs)
            for i, value in enumerate(values):
                total[i] = None if value is None or total[i] is None else total[i] + weight * value
        return total
