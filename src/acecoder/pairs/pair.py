"""One preference pair (:class:`Pair`) and the fields of its default output row: what the builder
(:mod:`acecoder.pairs.build`) makes and the formatters (:mod:`acecoder.pairs.formats`) read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PAIR_FIELDS = (
    "id",
    "question_id",
    "model_name",
    "question",
    "chosen",
    "rejected",
    "chosen_pass_rate",
    "rejected_pass_rate",
)


@dataclass(slots=True)
class Pair:
    """One preference pair; ``chosen_index``/``rejected_index`` are positions in the row's ``inferences``."""

    question_id: Any
    question: str
    test_cases: tuple[str, ...]
    model_name: str
    rejected_model_name: str
    chosen: str
    rejected: str
    chosen_pass_rate: float
    rejected_pass_rate: float
    chosen_index: int
    rejected_index: int

    @property
    def id(self) -> str:
        return f"{self.question_id}/{self.chosen_index}-{self.rejected_index}"

    def to_row(self, *, cross_model: bool = False) -> dict[str, Any]:
        """The default output row; cross-model pairs also name the rejected sample's model."""
        row = {
            "id": self.id,
            "question_id": self.question_id,
            "model_name": self.model_name,
            "question": self.question,
            "chosen": self.chosen,
            "rejected": self.rejected,
            "chosen_pass_rate": self.chosen_pass_rate,
            "rejected_pass_rate": self.rejected_pass_rate,
        }
        if cross_model:
            row["rejected_model_name"] = self.rejected_model_name
        return row
