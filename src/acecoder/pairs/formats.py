"""Output shapes for preference pairs.

* ``pairs``: one row per pair with ids, pass rates and the completions exactly as they stand in the input;
* ``acecodepair``: the AceCodePair-300K row (``instruction``, ``input``, ``chosen``, ``rejected``, ``id``):
  the instruction is the sampling prompt with the question and the first kept test, each answer is the prefill
  sentence and the program in a python fence, ``id`` counts from 0; ``question_id`` (not in the release) is the
  source row's id, so that every pair can be traced back to its question;
* ``trl``: TRL's conversational preference row: ``prompt`` (the user message), ``chosen`` and ``rejected``
  (one assistant message each, worded as in ``acecodepair``).

The program shown in an answer is the one the execution engine scored, :func:`extract_program` of the
completion, with surrounding whitespace stripped as the release did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from acecoder.execution.program import extract_program
from acecoder.sampling.prompt import PromptTemplate, get_prompt_template

if TYPE_CHECKING:  # formatters read a pair's fields; only the builder creates pairs
    from acecoder.pairs.pair import Pair

FORMATS = ("pairs", "acecodepair", "trl")


class PairFormatter:
    """Turns :class:`Pair` objects into output rows of one format; call it once per pair, in output order."""

    def __init__(
        self,
        format: str = "pairs",
        *,
        cross_model: bool = False,
        template: PromptTemplate | str | None = None,
        program_of: Callable[[str], str] = extract_program,
    ):
        if format not in FORMATS:
            raise ValueError(f"unknown pair format {format!r}; expected one of {', '.join(FORMATS)}")
        self.format = format
        self.cross_model = cross_model
        self.template = (
            template
            if isinstance(template, PromptTemplate)
            else get_prompt_template(template, default="acecodepair")
        )
        self.program_of = program_of
        self.count = 0

    def answer(self, completion: str) -> str:
        return self.template.answer_text(self.program_of(completion).strip())

    def __call__(self, pair: Pair) -> dict[str, Any]:
        index = self.count
        self.count += 1
        if self.format == "pairs":
            return pair.to_row(cross_model=self.cross_model)
        prompt = self.template.user_message(pair.question, pair.test_cases)
        chosen, rejected = self.answer(pair.chosen), self.answer(pair.rejected)
        if self.format == "acecodepair":
            return {
                "instruction": prompt,
                "input": "",
                "chosen": chosen,
                "rejected": rejected,
                "id": index,
                "question_id": pair.question_id,
            }
        return {
            "prompt": [{"role": "user", "content": prompt}],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
        }
