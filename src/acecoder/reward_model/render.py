"""What a reward model reads: one rendering of (prompt, program), used identically for training and scoring.

The user turn is the sampling prompt the policy saw (:class:`~acecoder.sampling.prompt.PromptTemplate`: the
question and its first tests); the assistant turn presents the program as the policy's answer did (the prefill
sentence, the program in a python fence). The two turns go through the tokenizer's chat template, and the
reward is read at the last token of that text. Training pairs and scored programs take exactly this path, so
the model is never queried with text shaped unlike what it was trained on.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from typing import Any

from acecoder.sampling.prompt import PRESETS, PromptTemplate, get_prompt_template


class Renderer:
    """Turns (user message, program) into chat text and token ids for one tokenizer and prompt template."""

    def __init__(self, tokenizer: Any, template: PromptTemplate):
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "the tokenizer has no chat template; set `chat_template` (a Jinja file) in the config"
            )
        self.tokenizer = tokenizer
        self.template = template

    def user_message(self, question: str, tests: Sequence[str] | None = None) -> str:
        """The user turn for a question (and the tests the template shows)."""
        return self.template.user_message(question, tests)

    def text(self, user_message: str, program: str) -> str:
        """The chat text of a user turn and the answer presenting ``program`` (stripped, as pairs are)."""
        messages = [
            {"role": "user", "content": user_message},
            {"role": "assistant", "content": self.template.answer_text(program.strip())},
        ]
        return self.tokenizer.apply_chat_template(messages, tokenize=False)

    def ids(self, texts: Iterable[str]) -> list[list[int]]:
        """Token ids of rendered texts (the chat template already holds every special token)."""
        texts = list(texts)
        return self.tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []

    def encode(self, items: Iterable[tuple[str, str]]) -> list[list[int]]:
        """Token ids of ``(user message, program)`` items."""
        return self.ids(self.text(user, program) for user, program in items)


def template_regex(template: PromptTemplate) -> re.Pattern[str]:
    """A pattern matching every user message ``template`` renders (any question, any tests)."""
    parts = re.split(r"(\{question\}|\{tests\})", template.user)
    body = "".join("(.*)" if p in ("{question}", "{tests}") else re.escape(p) for p in parts)
    return re.compile(body, re.DOTALL)


def detect_template(messages: Iterable[str]) -> PromptTemplate | None:
    """The preset (``acecodepair`` or ``sampling``) that rendered every one of ``messages``, else None."""
    # The livecodebench preset's user turn is the question itself: it would match any message.
    candidates = {name: template_regex(t) for name, t in PRESETS.items() if t.user != "{question}"}
    for message in messages:
        candidates = {n: rx for n, rx in candidates.items() if rx.fullmatch(message)}
        if not candidates:
            return None
    # The acecodepair prompt differs from the sampling one by a blank line, so at most one matches.
    return PRESETS[next(iter(candidates))] if candidates else None


def resolve_template(
    name_or_path: str | None, *, rendered_prompts: Sequence[str] | None, has_tests: bool
) -> PromptTemplate:
    """The template a reward model is trained (and later queried) with.

    Pairs given as questions use ``name_or_path`` (default: the sampling prompt); without tests in the pairs the
    template shows none, so scoring shows none either. Pairs given as rendered prompts (``trl``, AceCodePair)
    must have been rendered by that template: without ``name_or_path`` the preset is detected, and prompts no
    preset (or not the given template) renders are an error, since scoring could not reproduce them.
    """
    if rendered_prompts is None:
        template = get_prompt_template(name_or_path, default="sampling")
        return template if has_tests else dataclasses.replace(template, num_tests=0)
    if name_or_path is None:
        template = detect_template(rendered_prompts)
        if template is None:
            raise ValueError(
                "the pairs' prompts are not the sampling or AceCodePair prompt; name the template that rendered "
                "them (`template: FILE`) so that scoring can render questions the same way"
            )
        return template
    template = get_prompt_template(name_or_path, default="sampling")
    pattern = template_regex(template)
    for index, prompt in enumerate(rendered_prompts):
        if not pattern.fullmatch(prompt):
            raise ValueError(
                f"pair {index + 1}: its prompt is not rendered by the template {name_or_path!r}, so scoring "
                "would show the reward model different text; build the pairs with that template"
            )
    return template
