"""The prompt policy models are sampled with, shared by ``acecoder sample`` and ``acecoder pairs --format``.

The AceCoder release asks for a program in one user turn and pre-fills the start of the answer:

* user: an instruction sentence, then a fenced block holding a docstring with the question and the first tests;
* assistant prefill: a sentence announcing the program, then an opened python fence the model continues.

Its preference pairs (AceCodePair-300K) reuse that wording with the first kept test only, a blank line before
the closing fence, and answers of the form ``prefill + "\\n" + program + "\\n```"``. Both variants are
presets here (:data:`SAMPLING_TEMPLATE`, :data:`ACECODEPAIR_TEMPLATE`); a user's own template is loaded with
:func:`load_prompt_template`.

Placeholders are ``{question}`` and ``{tests}`` in the user template and ``{prefill}`` and ``{program}`` in the
answer template. Nothing else is interpreted: other braces stay as they are, so templates need no escaping and
questions full of braces render verbatim.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acecoder.data.settings import parse_settings, read_text
from acecoder.importers.livecodebench import SYSTEM_MESSAGE as LCB_SYSTEM_MESSAGE

INSTRUCTION_SENTENCE = "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
PREFILL_SENTENCE = "Below is a Python script with a self-contained function that solves the problem and passes corresponding tests:"

DEFAULT_USER_TEMPLATE = INSTRUCTION_SENTENCE + '\n```\n"""\n{question}\n{tests}\n"""\n```\n'
DEFAULT_PREFILL = PREFILL_SENTENCE + "\n```python"
DEFAULT_ANSWER_TEMPLATE = "{prefill}\n{program}\n```"

# The pair files wrote the docstring with a trailing newline, hence the blank line before the closing fence.
ACECODEPAIR_USER_TEMPLATE = INSTRUCTION_SENTENCE + '\n```\n"""\n{question}\n{tests}\n"""\n\n```\n'

_PLACEHOLDER = re.compile(r"\{(question|tests|prefill|program)\}")


def _fill(template: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class PromptTemplate:
    """How a question and its tests become a chat prompt, and how a program becomes an answer.

    ``num_tests``: how many of the row's tests the prompt shows (negative: all); ``strip_tests``: strip each
    test's surrounding whitespace; tests are joined with newlines.
    """

    user: str = DEFAULT_USER_TEMPLATE
    prefill: str = DEFAULT_PREFILL
    answer: str = DEFAULT_ANSWER_TEMPLATE
    num_tests: int = 2
    strip_tests: bool = False
    system: str = ""
    """A system message sent before the user turn (none when empty)."""

    def __post_init__(self) -> None:
        if "{question}" not in self.user:
            raise ValueError("the user template has no {question} placeholder")
        if "{program}" not in self.answer:
            raise ValueError("the answer template has no {program} placeholder")

    def shown_tests(self, tests: Sequence[Any] | None) -> list[str]:
        """The first ``num_tests`` tests as text: assert strings as they are, stdin tests as their input and
        output, functional calls as the assert they stand for (:func:`~acecoder.execution.testkinds.render_test`)."""
        from acecoder.execution.testkinds import render_test

        shown = [t if isinstance(t, str) else render_test(t) for t in list(tests or [])]
        if self.num_tests >= 0:
            shown = shown[: self.num_tests]
        return [t.strip() for t in shown] if self.strip_tests else shown

    def user_message(self, question: str, tests: Sequence[Any] | None = None) -> str:
        """The user turn for a question and its tests."""
        return _fill(self.user, {"question": question, "tests": "\n".join(self.shown_tests(tests))})

    def messages(
        self, question: str, tests: Sequence[Any] | None = None, *, with_prefill: bool = True
    ) -> list[dict[str, str]]:
        """Chat messages to sample with: the user turn, then (by default) the assistant prefill to continue."""
        chat = [{"role": "system", "content": self.system}] if self.system else []
        chat.append({"role": "user", "content": self.user_message(question, tests)})
        if with_prefill and self.prefill:
            chat.append({"role": "assistant", "content": self.prefill})
        return chat

    def answer_text(self, program: str) -> str:
        """A complete assistant answer presenting ``program`` (the prefill, the program, the closing fence)."""
        return _fill(self.answer, {"prefill": self.prefill, "program": program})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SAMPLING_TEMPLATE = PromptTemplate()
ACECODEPAIR_TEMPLATE = PromptTemplate(user=ACECODEPAIR_USER_TEMPLATE, num_tests=1, strip_tests=True)

# LiveCodeBench's generic prompt: its system message, and the row's ``question`` as the user turn, which
# ``acecoder import-tests livecodebench`` writes as LiveCodeBench's user prompt (question, format, starter code).
LIVECODEBENCH_TEMPLATE = PromptTemplate(
    user="{question}", prefill="", answer="```python\n{program}\n```", num_tests=0, system=LCB_SYSTEM_MESSAGE
)

PRESETS: dict[str, PromptTemplate] = {
    "sampling": SAMPLING_TEMPLATE,
    "acecodepair": ACECODEPAIR_TEMPLATE,
    "livecodebench": LIVECODEBENCH_TEMPLATE,
}

_FIELDS = {f.name for f in dataclasses.fields(PromptTemplate)}


def load_prompt_template(
    path: str | os.PathLike, *, base: PromptTemplate = SAMPLING_TEMPLATE
) -> PromptTemplate:
    """A template from a file.

    ``.yaml``/``.yml``/``.json``: a mapping with any of ``user``, ``prefill``, ``answer``, ``num_tests``,
    ``strip_tests`` (the rest taken from ``base``). Any other file: its whole text is the user template.
    """
    path = Path(path)
    text = read_text(path, "prompt template")
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        try:
            return dataclasses.replace(base, user=text)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
    data = parse_settings(text, path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with keys {sorted(_FIELDS)}")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown}; expected some of {sorted(_FIELDS)}")
    for key in ("user", "prefill", "answer"):
        if key in data and not isinstance(data[key], str):
            raise ValueError(f"{path}: '{key}' must be a string")
    if "num_tests" in data and (
        isinstance(data["num_tests"], bool) or not isinstance(data["num_tests"], int)
    ):
        raise ValueError(f"{path}: 'num_tests' must be an integer")
    if "strip_tests" in data and not isinstance(data["strip_tests"], bool):
        raise ValueError(f"{path}: 'strip_tests' must be true or false")
    if "system" in data and not isinstance(data["system"], str):
        raise ValueError(f"{path}: 'system' must be a string")
    try:
        return dataclasses.replace(base, **data)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def get_prompt_template(
    name_or_path: str | os.PathLike | None, *, default: str = "sampling"
) -> PromptTemplate:
    """A preset by name (``sampling``, ``acecodepair``), a template file, or the ``default`` preset for None."""
    if name_or_path is None:
        return PRESETS[default]
    if isinstance(name_or_path, str) and name_or_path in PRESETS:
        return PRESETS[name_or_path]
    return load_prompt_template(name_or_path, base=PRESETS[default])
