"""What program a completion stands for: the code of its fenced markdown block when it has one, else the text."""

from __future__ import annotations

import re

# An opening fence at the start of a line (``` or ~~~, optional language tag), then the body up to a closing fence
# of the same kind at the start of a line, or the end of the text when the answer was cut off mid-block.
_FENCE = re.compile(
    r"^(?P<fence>```|~~~)[ \t]*(?P<lang>[\w+.#-]*)[^\n]*\n(?P<body>.*?)(?:^(?P=fence)[ \t]*$|\Z)",
    re.MULTILINE | re.DOTALL,
)
_PYTHON_TAGS = {"python", "py", "python3", "py3"}


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of every fenced block, in order."""
    return [(m.group("lang").lower(), m.group("body")) for m in _FENCE.finditer(text)]


def extract_program(completion: str) -> str:
    """The first Python-tagged fenced block, else the first fenced block, else the completion as is."""
    blocks = fenced_blocks(completion)
    if not blocks:
        return completion
    for lang, body in blocks:
        if lang in _PYTHON_TAGS:
            return body
    return blocks[0][1]
