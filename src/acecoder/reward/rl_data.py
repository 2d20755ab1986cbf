"""RL prompts from AceCode rows, built with the project's sampling template."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from acecoder.data import DataError, iter_rows, validate_acecode_row
from acecoder.sampling.prompt import PromptTemplate


@dataclass
class RLRows:
    """The rows to train on, and the numbers (1-based) of the rows skipped because they have no tests."""

    rows: list[dict[str, Any]]
    without_tests: list[int] = field(default_factory=list)

    def describe(self, path: str | os.PathLike) -> str:
        total = len(self.rows) + len(self.without_tests)
        skipped = len(self.without_tests)
        return f"{path}: {len(self.rows):,} of {total:,} rows have tests" + (
            f"; {skipped:,} without tests skipped (rows {_numbers(self.without_tests)})" if skipped else ""
        )


def read_rl_rows(path: str | os.PathLike) -> RLRows:
    """Rows with ``id``, ``question`` and ``test_cases``; rows whose ``test_cases`` is empty are skipped (nothing
    to reward against) and counted. Bad rows fail naming file, row and field; so does a file where no row has
    tests."""
    rows, without_tests = [], []
    for number, row in iter_rows(path):
        validate_acecode_row(row, require=("id", "question", "test_cases"), path=str(path), line=number)
        if row["test_cases"]:
            rows.append(row)
        else:
            without_tests.append(number)
    if not rows:
        reason = f"none of its {len(without_tests):,} rows has tests" if without_tests else "no rows"
        raise DataError(f"{reason}: nothing to reward against", path=str(path), field="test_cases")
    return RLRows(rows, without_tests)


def _numbers(numbers: list[int], shown: int = 5) -> str:
    text = ", ".join(str(n) for n in numbers[:shown])
    return text + (f" and {len(numbers) - shown:,} more" if len(numbers) > shown else "")


def render_prompt(
    template: PromptTemplate, tokenizer: Any, row: dict[str, Any], *, prefill: bool = True
) -> str:
    """The prompt text the policy continues: the chat template applied to the user turn (and, with ``prefill``,
    the assistant prefill left open, as ``acecoder sample`` asks); plain text for tokenizers without one."""
    messages = template.messages(row["question"], row["test_cases"], with_prefill=prefill)
    if getattr(tokenizer, "chat_template", None):
        continues = messages[-1]["role"] == "assistant"
        text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=not continues, continue_final_message=continues
        )
    else:
        text = "\n\n".join(m["content"] for m in messages)
    bos = getattr(tokenizer, "bos_token", None)
    if bos and text.startswith(bos):  # TRL tokenizes text prompts with the special tokens added again
        text = text[len(bos) :]
    return text


def rl_dataset(rows: list[dict[str, Any]], template: PromptTemplate, tokenizer: Any, *, prefill: bool = True):
    """A ``datasets.Dataset`` with ``prompt`` (text), ``test_cases``, ``question`` and ``id`` columns."""
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [render_prompt(template, tokenizer, r, prefill=prefill) for r in rows],
            "test_cases": [list(r["test_cases"]) for r in rows],
            "question": [r["question"] for r in rows],
            "id": [str(r["id"]) for r in rows],
        }
    )
