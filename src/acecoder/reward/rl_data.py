"""RL prompts from AceCode rows, built with the project's sampling template."""

from __future__ import annotations

import os
from typing import Any

from acecoder.data import DataError, iter_rows, validate_acecode_row
from acecoder.sampling.prompt import PromptTemplate


def read_rl_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows with ``id``, ``question`` and non-empty ``test_cases``; bad rows fail naming file, row and field."""
    rows = []
    for number, row in iter_rows(path):
        validate_acecode_row(row, require=("id", "question", "test_cases"), path=str(path), line=number)
        if not row["test_cases"]:
            raise DataError("no tests to reward against", path=str(path), row=number, field="test_cases")
        rows.append(row)
    if not rows:
        raise DataError("no rows", path=str(path))
    return rows


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
