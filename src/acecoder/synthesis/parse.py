"""Read a synthesis answer (``{"question": ..., "tests": [...]}``) out of whatever the model wrote.

Models wrap the JSON in a fence or not, add prose around it, use Python literals or single quotes, leave trailing
commas and invalid escapes, and get cut off at ``max_tokens``. :func:`parse_answer` tries, in order: strict JSON,
a lenient rewrite, and a repair of a truncated answer that keeps every value completed before the cut. Each step
is linear in the answer's length. A failure says why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from acecoder.execution.program import fenced_blocks

# Why an answer yields nothing usable (counted in the synthesis summary).
MALFORMED_REASONS = (
    "empty_answer",
    "no_json_object",
    "invalid_json",
    "not_an_object",
    "missing_question",
    "missing_tests",
    "tests_not_a_list",
)

_DECODER = json.JSONDecoder(strict=False)  # strict=False: raw newlines and tabs inside strings are accepted
_JSON_ESCAPES = frozenset('"\\/bfnrt')
_HEX = frozenset("0123456789abcdefABCDEF")
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ParsedAnswer:
    """A parsed answer: ``question`` and the raw ``tests`` items, or ``error`` (one of :data:`MALFORMED_REASONS`).

    ``method`` is how the JSON was read: ``"json"``, ``"lenient"`` (after normalising quotes, literals, trailing
    commas and escapes) or ``"repaired"`` (truncated: the values completed before the cut were kept)."""

    question: str | None = None
    tests: list[Any] = field(default_factory=list)
    error: str | None = None
    method: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_answer(text: str | None) -> ParsedAnswer:
    """Parse a model's synthesis answer; never raises."""
    if text is None or not text.strip():
        return ParsedAnswer(error="empty_answer")
    first_error: ParsedAnswer | None = None
    for candidate in _candidates(text):
        obj, method, detail = decode_json_object(candidate)
        if method is None:
            first_error = first_error or ParsedAnswer(error="invalid_json", detail=detail)
            continue
        result = _to_answer(obj, method)
        if result.ok:
            return result
        first_error = first_error or result
    return first_error or ParsedAnswer(error="no_json_object", detail="no '{' in the answer")


def _candidates(text: str) -> list[str]:
    """Texts that may hold the answer object, best first: ```json blocks, other blocks that open with '{', then
    the whole answer from its first '{'."""
    blocks = fenced_blocks(text)
    tagged = [body.lstrip() for lang, body in blocks if lang in ("json", "json5", "jsonc")]
    other = [body.lstrip() for lang, body in blocks if lang not in ("json", "json5", "jsonc")]
    out: list[str] = [body for body in tagged if body.startswith(("{", "["))]
    out += [body for body in other if body.startswith("{")]
    start = text.find("{")
    if start >= 0:
        out.append(text[start:])
    return list(dict.fromkeys(out))


def decode_json_object(text: str) -> tuple[Any, str | None, str]:
    """Decode the JSON value at the start of ``text`` (trailing prose is ignored).

    Returns ``(value, method, detail)``; ``method`` is None when nothing could be read."""
    value, detail = _raw_decode(text)
    if detail is None:
        return value, "json", ""
    normalized = normalize_lenient_json(text)
    value, lenient_detail = _raw_decode(normalized)
    if lenient_detail is None:
        return value, "lenient", ""
    repaired = repair_truncated_json(normalized)
    if repaired is not None:
        value, repaired_detail = _raw_decode(repaired)
        if repaired_detail is None and value not in ({}, []):  # nothing salvaged is not a repair
            return value, "repaired", detail
    return None, None, detail


def _raw_decode(text: str) -> tuple[Any, str | None]:
    """``(value, None)`` or ``(None, why)``; nesting too deep for the decoder is an error, not a crash."""
    try:
        return _DECODER.raw_decode(text)[0], None
    except json.JSONDecodeError as e:
        return None, f"{e.msg} at char {e.pos}"
    except RecursionError:
        return None, "nested too deeply"


def _to_answer(obj: Any, method: str) -> ParsedAnswer:
    if not isinstance(obj, dict):
        return ParsedAnswer(error="not_an_object", method=method, detail=f"got {type(obj).__name__}")
    keys = {k.strip().lower(): k for k in obj if isinstance(k, str)}
    question = obj.get(keys.get("question", ""))
    if not isinstance(question, str) or not question.strip():
        return ParsedAnswer(error="missing_question", method=method)
    tests_key = next((keys[k] for k in ("tests", "test_cases", "test") if k in keys), None)
    if tests_key is None:
        return ParsedAnswer(question=question, error="missing_tests", method=method)
    tests = obj[tests_key]
    if isinstance(tests, str):  # one string holding every assert, one a line
        tests = [line for line in tests.splitlines() if line.strip()]
    if not isinstance(tests, list):
        return ParsedAnswer(question=question, error="tests_not_a_list", method=method)
    return ParsedAnswer(question=question.strip(), tests=tests, method=method)


def normalize_lenient_json(text: str) -> str:
    """Rewrite near-JSON into JSON in one pass: single-quoted strings become double-quoted, invalid escapes are
    kept literally (``\\'`` in a double-quoted string stays a backslash and a quote, as a Python test means it),
    a double quote inside a string that is not followed by a delimiter is taken as an unescaped quote,
    ``True``/``False``/``None`` become JSON literals and trailing commas before ``]``/``}`` are dropped.
    An unterminated string is left unterminated for :func:`repair_truncated_json`."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            i = _copy_string(text, i, out)
        elif c == ",":
            k = i + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if k >= n or text[k] not in "]}":
                out.append(c)
            i += 1
        elif c == "_" or c.isalpha():
            m = _WORD.match(text, i)
            assert m is not None
            word = m.group()
            out.append(_PY_LITERALS.get(word, word))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _copy_string(text: str, i: int, out: list[str]) -> int:
    """Copy the string starting at ``text[i]`` as a JSON string; return the index after it."""
    quote = text[i]
    n = len(text)
    out.append('"')
    j = i + 1
    while j < n:
        ch = text[j]
        if ch == "\\":
            nxt = text[j + 1] if j + 1 < n else ""
            if nxt == "":
                j += 1  # a lone backslash at the very end: drop it, the string is cut anyway
                continue
            if nxt in _JSON_ESCAPES:
                out.append(ch + nxt)
            elif nxt == "u" and all(c in _HEX for c in text[j + 2 : j + 6]) and j + 6 <= n:
                out.append(text[j : j + 6])
                j += 6
                continue
            elif nxt == "'" and quote == "'":
                out.append("'")
            else:  # not a JSON escape: keep the backslash itself
                out.append("\\\\" + nxt)
            j += 2
            continue
        if ch == quote and quote == '"' and not _closes_string(text, j + 1):
            out.append('\\"')  # an unescaped quote inside the string (`"assert f("a") == 1"`)
            j += 1
            continue
        if ch == quote:
            out.append('"')
            return j + 1
        if ch == '"':  # only reachable inside a single-quoted string
            out.append('\\"')
        else:
            out.append(ch)
        j += 1
    return j


def _closes_string(text: str, k: int) -> bool:
    """Whether a double quote before ``text[k]`` can end a JSON string: what follows it (after spaces on the same
    line) is a delimiter, a line break or the end of the text. Scans spaces only, so the pass stays linear for
    any sane input."""
    n = len(text)
    while k < n and text[k] in " \t":
        k += 1
    return k >= n or text[k] in ",:]}\r\n"


def repair_truncated_json(text: str) -> str | None:
    """Close a JSON text that was cut off (or broken) part way: cut back to the last point where a value had just
    completed (or a container had just opened) and append the closing brackets. Two linear passes.

    Returns None when the text does not open an object or array."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    cut = _last_safe_cut(text)
    if cut is None:
        return None
    head = text[:cut].rstrip()
    closers = _closers(head)
    return head + closers


def _last_safe_cut(text: str) -> int | None:
    # Each open container: [kind, state]; object states: "key", "colon", "value", "comma"; arrays: "value", "comma".
    stack: list[list[str]] = []
    safe: int | None = None
    i, n = 0, len(text)

    def value_done(end: int) -> bool:
        """A value ended at ``end``; return True when it was the top-level value."""
        nonlocal safe
        if not stack:
            safe = end
            return True
        stack[-1][1] = "comma"
        safe = end
        return False

    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        top = stack[-1] if stack else None
        if c in "{[":
            if top is not None and top[1] != "value":
                break
            stack.append(["{", "key"] if c == "{" else ["[", "value"])
            i += 1
            safe = i
        elif c in "}]":
            want = "{" if c == "}" else "["
            if top is None or top[0] != want or top[1] not in ("comma", "key" if c == "}" else "value"):
                break
            stack.pop()
            i += 1
            if value_done(i):
                break
        elif c == '"':
            end = _string_end(text, i)
            if end is None:
                break  # cut inside a string
            if top is not None and top[0] == "{" and top[1] == "key":
                top[1] = "colon"
                i = end
            elif top is None or top[1] == "value":
                i = end
                if value_done(i):
                    break
            else:
                break
        elif c == ":":
            if top is None or top[0] != "{" or top[1] != "colon":
                break
            top[1] = "value"
            i += 1
        elif c == ",":
            if top is None or top[1] != "comma":
                break
            top[1] = "key" if top[0] == "{" else "value"
            i += 1
        else:  # a number or literal: complete only when a delimiter follows it
            j = i
            while j < n and text[j] not in ' \t\r\n,:]}[{"':
                j += 1
            if j >= n or (top is not None and top[1] != "value"):
                break
            i = j
            if value_done(i):
                break
    return safe


def _string_end(text: str, i: int) -> int | None:
    """Index after the closing quote of the JSON string opening at ``text[i]``, or None if it never closes."""
    j = i + 1
    n = len(text)
    while j < n:
        ch = text[j]
        if ch == "\\":
            j += 2
            continue
        if ch == '"':
            return j + 1
        j += 1
    return None


def _closers(head: str) -> str:
    stack: list[str] = []
    i, n = 0, len(head)
    while i < n:
        c = head[i]
        if c == '"':
            end = _string_end(head, i)
            i = n if end is None else end
            continue
        if c in "{[":
            stack.append("}" if c == "{" else "]")
        elif c in "}]" and stack:
            stack.pop()
        i += 1
    return "".join(reversed(stack))
