"""Probe values as the trusted side sees them: the sandbox's canonical JSON turned back into Python objects.

Plain values come back as themselves (None, bool, int, float, complex, str, bytes, list, tuple, dict, set,
frozenset), the standard library's value types as themselves (Counter, OrderedDict, defaultdict, deque,
namedtuples, Decimal, Fraction, datetime values, dict views, mappingproxy, ChainMap, range), numpy arrays and
scalars as numpy objects, a consumed iterator as an iterator over its items. Anything else is an :class:`Opaque`
value, which equals nothing; an exception a probe raised is a :class:`Raised` marker. The codec itself is
:mod:`acecoder.execution.sandbox.codec`, shared with the sandbox.
"""

from __future__ import annotations

from typing import Any

from acecoder.execution.sandbox.codec import BadValue, Decoder, Opaque, Raised

__all__ = ["BadValue", "Opaque", "Raised", "Record", "decode_record", "decode_records", "decode_value"]

Record = tuple[list[Any], dict[str, str | None]]


def _checked(record: Any) -> Record:
    if not isinstance(record, list) or len(record) != 2:
        raise BadValue("a record is not [values, bindings]")
    values, bindings = record
    if not isinstance(values, list) or not isinstance(bindings, list):
        raise BadValue("a record is not [values, bindings]")
    try:
        return values, {str(name): binding for name, binding in bindings}
    except (TypeError, ValueError) as e:
        raise BadValue(f"bad bindings: {e}") from None


def decode_record(data: bytes | str, max_bytes: int = 1 << 30) -> Record:
    """One test's record: the decoded value of each probe, and the bindings of the names its check uses."""
    return _checked(Decoder(max_bytes=max_bytes).loads(data))


def decode_records(records: dict[int, bytes], max_bytes: int = 1 << 30) -> dict[int, Record | BadValue]:
    """Every test's record of one program, each decoded on its own (a malformed record fails only its test)."""
    decoder = Decoder(max_bytes=max_bytes)
    out: dict[int, Record | BadValue] = {}
    for test, data in records.items():
        try:
            out[test] = _checked(decoder.loads(data))
        except BadValue as e:
            out[test] = e
    return out


def decode_value(data: bytes | str, max_bytes: int = 1 << 30) -> Any:
    """One value (for example a captured test value the judge sent), within the value budget."""
    return Decoder(max_bytes=max_bytes).loads(data)
