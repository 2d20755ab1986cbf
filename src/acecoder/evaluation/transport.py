"""How a captured output leaves the sandbox, cheaply, to be compared in the trusted caller.

Two helpers are appended to every differential-testing program and wrap each call's output:

* ``__acecoder_reduce__``: a big output (HumanEval/15's 7 MB strings, Mbpp/255's two million tuples) becomes a
  digest of its JSON text (sorted keys, written by the C encoder, which accepts only plain types and ignores any
  program-defined ``__eq__``/``__repr__``) tagged with its container type and its elements' types; a long
  string by its UTF-8 bytes and a long list of numbers (HumanEval/130's million) by its ``marshal`` bytes,
  several times faster than JSON and as exact. Equal
  outputs give equal digests, so the caller compares them by equality, as evalplus's ``out == exp`` does for
  such outputs. Floats (compared with a tolerance) and outputs of tasks with special checkers stay whole.
* ``__acecoder_text__``: a value built only of exact builtin types (finite floats, ints below ~3,900 digits)
  travels as its ``repr`` text, one string, which the engine moves far faster than the objects themselves;
  the caller rebuilds it with :func:`ast.literal_eval`. Anything else (numpy values, NaN, program objects)
  travels as the engine captures it.
"""

from __future__ import annotations

import ast
from typing import Any

REDUCE, TEXT, OUTPUT = "__acecoder_reduce__", "__acecoder_text__", "__acecoder_output__"
DIGEST_MARK, TEXT_MARK = "__acecoder_digest__", "__acecoder_text__"
DIGEST_ABOVE = 1 << 14  # JSON characters

# Whether a value is built only of exact builtin types: sent with the helpers, and the same source decides on the
# caller's side (plain_text), so both sides agree by construction.
PLAIN = """
def __acecoder_plain__(value, depth=0):
    kind = type(value)
    if kind is str or kind is bool or kind is bytes or value is None:
        return True
    if kind is int:
        return value.bit_length() < 13000
    if kind is float:
        return value - value == 0.0
    if kind is complex:
        return value.real - value.real == 0.0 and value.imag - value.imag == 0.0
    if depth > 64:
        return False
    if kind is list or kind is tuple or kind is set:
        for item in value:
            if not __acecoder_plain__(item, depth + 1):
                return False
        return True
    if kind is dict:
        for key, item in dict.items(value):
            if not (__acecoder_plain__(key, depth + 1) and __acecoder_plain__(item, depth + 1)):
                return False
        return True
    return False
"""

HELPERS = f"""

def {REDUCE}(value):
    import hashlib as _hashlib, json as _json
    kind = type(value)
    if not __acecoder_reducible__ or kind is float or (
        (kind is list or kind is tuple) and value and type(value[0]) is float
    ):
        return value
    digest, size = _hashlib.blake2b(digest_size=20), 0
    try:
        if kind is str and len(value) > {DIGEST_ABOVE}:
            data = value.encode("utf-8", "surrogatepass")
            digest.update(data)
            return ("{DIGEST_MARK}", "str", ("utf-8",), len(data), digest.hexdigest())
        types = set(map(type, value)) if (kind is list or kind is tuple) and len(value) > {DIGEST_ABOVE} else None
        if types is not None and types <= {{int, float}}:
            # numbers: their marshal bytes (version 2: no sharing or interning marks, so equal values give equal
            # bytes), ~4x faster than their JSON (for strings JSON is as fast)
            data = __import__("marshal").dumps(value, 2)
            digest.update(data)
            inner = ("marshal",) + tuple(sorted(t.__name__ for t in types))
            return ("{DIGEST_MARK}", kind.__name__, inner, len(data), digest.hexdigest())
        if (kind is list or kind is tuple) and len(value) > 4096:
            for start in range(0, len(value), 4096):
                text = _json.dumps(value[start : start + 4096], sort_keys=True, check_circular=False)
                digest.update(text.encode("utf-8", "surrogatepass"))
                size += len(text)
        else:
            text = _json.dumps(value, sort_keys=True, check_circular=False)
            digest.update(text.encode("utf-8", "surrogatepass"))
            size = len(text)
    except Exception:
        return value
    if size < {DIGEST_ABOVE}:
        return value
    if kind is dict:
        inner = sorted({{type(k).__name__ for k in value}} | {{"=" + type(v).__name__ for v in value.values()}})
    elif kind is list or kind is tuple:
        inner = sorted({{type(x).__name__ for x in value}})
    else:
        inner = []
    return ("{DIGEST_MARK}", kind.__name__, tuple(inner), size, digest.hexdigest())


{PLAIN}

def {TEXT}(value):
    return ("{TEXT_MARK}", repr(value)) if __acecoder_plain__(value) else value


def {OUTPUT}(value):
    return {TEXT}({REDUCE}(value))
"""


def helpers(reducible: bool) -> str:
    """The helpers' source; ``reducible=False`` keeps outputs whole (tasks whose checker needs the value)."""
    return f"\n__acecoder_reducible__ = {reducible}\n{HELPERS}"


class Undecodable:
    """An output whose text could not be rebuilt: it equals nothing."""

    def __eq__(self, other: object) -> bool:
        return False

    __hash__ = None  # type: ignore[assignment]


def plain_text(value: Any, depth: int = 0) -> str | None:
    """The text ``__acecoder_text__`` sends for ``value`` when it is built only of exact builtin types (as
    ``__acecoder_plain__`` decides), else None. Two plain values with the same text are equal, so an output
    whose text is the expected output's text matches it without being rebuilt."""
    return repr(value) if _plain(value) else None


_namespace: dict[str, Any] = {}
exec(PLAIN, _namespace)  # the module's own constant source
_plain = _namespace["__acecoder_plain__"]


def has_text(captured: Any, text: str) -> bool:
    """Whether a captured output travelled as exactly ``text``."""
    return type(captured) is tuple and len(captured) == 2 and captured[0] == TEXT_MARK and captured[1] == text


def decode_output(value: Any) -> Any:
    """A captured output as a Python value (text rebuilt; digests and other values as they are)."""
    if type(value) is tuple and len(value) == 2 and value[0] == TEXT_MARK and type(value[1]) is str:
        try:
            return ast.literal_eval(value[1])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return Undecodable()
    return value
