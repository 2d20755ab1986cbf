"""LiveCodeBench's compressed private tests, decoded without running a general unpickler on downloaded data.

LiveCodeBench ships ``private_test_cases`` as base64 of zlib of a pickle whose payload is one JSON string. A
pickle can run any code while it loads, so a tampered file must never reach ``pickle.loads``. Here the pickle's
opcodes are read first (:mod:`pickletools` parses without executing): only a protocol header, framing, one
string and memo bookkeeping are accepted. The stream is then loaded by an unpickler that refuses every global,
class and persistent id, and the result must be a ``str``. Decompression is capped, so a small zlib bomb cannot
exhaust memory.
"""

from __future__ import annotations

import base64
import binascii
import io
import pickle
import pickletools
import zlib

__all__ = ["MAX_DECOMPRESSED", "UnsafePickle", "decode_private_tests", "load_string_pickle"]

MAX_DECOMPRESSED = 1 << 30
"""The largest decompressed pickle accepted (1 GiB; LiveCodeBench's largest problems hold tens of MB)."""

_ALLOWED_OPCODES = {
    "PROTO",
    "FRAME",
    "STOP",
    "MEMOIZE",
    "PUT",
    "BINPUT",
    "LONG_BINPUT",
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
}


class UnsafePickle(ValueError):
    """Private tests that are not a pickle of one string (refused before anything of them runs)."""


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise UnsafePickle(f"the pickle asks for {module}.{name}; only a plain string is accepted")

    def persistent_load(self, pid):
        raise UnsafePickle("the pickle holds a persistent id; only a plain string is accepted")


def load_string_pickle(data: bytes) -> str:
    """The string a pickle holds; :class:`UnsafePickle` for any pickle that holds anything else."""
    strings = 0
    try:
        for opcode, _, _ in pickletools.genops(data):
            if opcode.name not in _ALLOWED_OPCODES:
                raise UnsafePickle(
                    f"the pickle uses {opcode.name}: only a plain string is accepted (nothing of it was run)"
                )
            strings += opcode.name.endswith("UNICODE")
    except (ValueError, EOFError) as e:
        if isinstance(e, UnsafePickle):
            raise
        raise UnsafePickle(f"not a pickle ({e})") from None
    if strings != 1:
        raise UnsafePickle(f"the pickle holds {strings} strings; exactly one is accepted")
    value = _NoGlobals(io.BytesIO(data)).load()
    if not isinstance(value, str):  # pragma: no cover - the opcode check admits strings only
        raise UnsafePickle(f"the pickle holds a {type(value).__name__}, not a string")
    return value


def _inflate(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise UnsafePickle(f"the private tests decompress to more than {limit:,} bytes")
    return out + inflater.flush()


def decode_private_tests(text: str, *, limit: int = MAX_DECOMPRESSED) -> str:
    """The JSON text of LiveCodeBench's compressed ``private_test_cases`` (base64 -> zlib -> pickle of a str)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise UnsafePickle(f"neither JSON nor base64 ({e})") from None
    try:
        data = _inflate(raw, limit)
    except zlib.error as e:
        raise UnsafePickle(f"base64 but not zlib data ({e})") from None
    return load_string_pickle(data)
