"""Canonical values: what a probe (a program call made by a test) returned, converted by exact type into JSON.

Runs inside the program's process, so nothing here is trusted: a program can make a probe report any value it
likes. That is harmless because expected values never enter this process; the trusted judge in the engine
compares. The conversion only has to be faithful for honest values, so that Python's own comparisons give the
same answer on the judge's side. Subclasses of builtin types are read through the builtin type's own methods
(their real contents, whatever they override); anything that is not a known plain value becomes an opaque
value that equals nothing on the judge's side.

Tags (a JSON object is always a tag, so lists, strings and numbers stay as they are):
T tuple, D dict, OD OrderedDict, CT Counter, S set, FS frozenset, B bytes, BA bytearray, C complex, H big int
(hex), R range, DK/DI/DV dict views, DQ deque, DEC Decimal, FR Fraction, DT datetime values, NP numpy array,
NS numpy scalar, IT a consumed iterator, K a class, O an opaque value, E an exception raised by the probe.
"""

import base64
import collections
import datetime
import decimal
import fractions
import sys
import types

_MAX_DEPTH = 100
_MAX_ITEMS = 100000
_INT_LIMIT = 1 << 13000  # ~3,900 digits; larger ints travel as hex: str() of a huge int is slow and capped

_DICT_KEYS = type({}.keys())
_DICT_ITEMS = type({}.items())
_DICT_VALUES = type({}.values())
_GENERATOR = types.GeneratorType
_ITERATORS = frozenset(
    type(x)
    for x in (
        iter([]),
        iter(()),
        iter(""),
        iter(b""),
        iter(set()),
        iter({}),
        iter({}.values()),
        iter({}.items()),
        iter(range(0)),
        iter(range(1 << 70)),
        reversed([]),
        reversed(range(0)),
        map(int, ()),
        filter(None, ()),
        zip(),
        enumerate(()),
    )
)
_HEAPTYPE = 1 << 9


class Unencodable(Exception):
    pass


def _int(value):
    if -_INT_LIMIT < value < _INT_LIMIT:
        return value
    return {"H": hex(value)}


def _items(iterable, depth):
    out = []
    for item in iterable:
        if len(out) >= _MAX_ITEMS:
            raise Unencodable("too many items")
        out.append(encode(item, depth + 1))
    return out


def _pairs(items, depth):
    out = []
    for key, value in items:
        if len(out) >= _MAX_ITEMS:
            raise Unencodable("too many items")
        out.append([encode(key, depth + 1), encode(value, depth + 1)])
    return out


def _class_info(kind):
    """A class's identity and its MRO's, by id (unique while the class lives), for isinstance on the judge."""
    mro = type.__dict__["__mro__"].__get__(kind)
    return [[id(k), _qualname(k)] for k in mro if k is not object]


def _qualname(kind):
    try:
        name = type.__dict__["__qualname__"].__get__(kind)
        return name if type(name) is str else "?"
    except Exception:
        return "?"


def _numpy(value, kind, depth):
    numpy = sys.modules.get("numpy")
    if numpy is None or kind.__flags__ & _HEAPTYPE:
        return None
    if kind is numpy.ndarray:
        if value.size > _MAX_ITEMS:
            raise Unencodable("array too large")
        dtype = value.dtype
        if dtype.kind in "biufc" and not dtype.fields:
            data = numpy.ascontiguousarray(value).tobytes()
            return {"NP": [dtype.str, list(value.shape), base64.b64encode(data).decode("ascii")]}
        if dtype.kind in "US":
            return {"NP": [dtype.str, list(value.shape), encode(value.tolist(), depth + 1)]}
        return {"NP": ["O", list(value.shape), _items(value.reshape(-1), depth)]}
    if isinstance(value, numpy.generic) and kind.__module__ == "numpy":
        dtype = value.dtype
        if dtype.kind in "biufc":
            return {"NS": [dtype.str, base64.b64encode(value.tobytes()).decode("ascii")]}
        if dtype.kind in "US":
            return {"NS": [dtype.str, encode(value.item(), depth + 1)]}
    return None


def encode(value, depth=0):
    """The JSON-ready canonical form of ``value`` (raises Unencodable when it cannot be represented)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return _int(value)
    if kind is float:
        return value
    if depth > _MAX_DEPTH:
        raise Unencodable("nested too deeply")
    if kind is list:
        return _items(list.__iter__(value), depth)
    if kind is tuple:
        return {"T": _items(tuple.__iter__(value), depth)}
    if kind is dict:
        return {"D": _pairs(dict.items(value), depth)}
    if kind is set:
        return {"S": _items(set.__iter__(value), depth)}
    if kind is frozenset:
        return {"FS": _items(frozenset.__iter__(value), depth)}
    if kind is bytes:
        return {"B": base64.b64encode(value).decode("ascii")}
    if kind is complex:
        return {"C": [complex.__getattribute__(value, "real"), complex.__getattribute__(value, "imag")]}
    if kind is _DICT_KEYS:
        return {"DK": _items(value, depth)}
    if kind is _DICT_ITEMS:
        return {"DI": _pairs(value, depth)}
    if kind is _DICT_VALUES:
        return {"DV": _items(value, depth)}
    if kind is range:
        return {"R": [_int(value.start), _int(value.stop), _int(value.step)]}
    if kind is collections.OrderedDict:
        return {"OD": _pairs(dict.items(value), depth)}
    if kind is collections.Counter:
        return {"CT": _pairs(dict.items(value), depth)}
    if kind is collections.deque:
        return {"DQ": _items(collections.deque.__iter__(value), depth)}
    if kind is bytearray:
        return {"BA": base64.b64encode(bytes(value)).decode("ascii")}
    if kind is decimal.Decimal:
        return {"DEC": decimal.Decimal.__str__(value)}
    if kind is fractions.Fraction:
        numerator, denominator = value._numerator, value._denominator
        if type(numerator) is not int or type(denominator) is not int:
            return _opaque(value, kind)
        return {"FR": [_int(numerator), _int(denominator)]}
    if kind in _DATETIME:
        return _datetime(value, kind)
    if kind is _GENERATOR or kind in _ITERATORS:
        return {"IT": _items(value, depth)}
    if kind is type:
        return {"K": _class_info(value)}
    if kind.__module__ == "numpy" or kind.__module__.startswith("numpy."):
        encoded = _numpy(value, kind, depth)
        if encoded is not None:
            return encoded
    # Subclasses of builtin types: their real contents, read through the builtin type's own methods.
    if isinstance(value, bool):
        return bool(int.__int__(value))
    if isinstance(value, int):
        return _int(int.__int__(value))
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, collections.OrderedDict):
        return {"OD": _pairs(dict.items(value), depth)}
    if isinstance(value, collections.Counter):
        return {"CT": _pairs(dict.items(value), depth)}
    if isinstance(value, dict):
        return {"D": _pairs(dict.items(value), depth)}
    if isinstance(value, list):
        return _items(list.__iter__(value), depth)
    if isinstance(value, tuple):
        return {"T": _items(tuple.__iter__(value), depth)}
    if isinstance(value, frozenset):
        return {"FS": _items(frozenset.__iter__(value), depth)}
    if isinstance(value, set):
        return {"S": _items(set.__iter__(value), depth)}
    if isinstance(value, collections.UserList):
        return encode(value.data, depth + 1) if type(value.data) is list else _opaque(value, kind)
    if isinstance(value, collections.UserDict):
        return encode(value.data, depth + 1) if type(value.data) is dict else _opaque(value, kind)
    if isinstance(value, collections.UserString):
        return encode(value.data, depth + 1) if type(value.data) is str else _opaque(value, kind)
    return _opaque(value, kind)


def _opaque(value, kind):
    """Something only the program's own code can interpret: its classes (for isinstance) and its truthiness."""
    try:
        truthy = bool(value)
    except BaseException:
        truthy = True
    return {"O": [_class_info(kind), truthy]}


_DATETIME = frozenset(
    [datetime.datetime, datetime.date, datetime.time, datetime.timedelta, datetime.timezone]
)


def _datetime(value, kind):
    if kind is datetime.timedelta:
        return {"DT": ["timedelta", value.days, value.seconds, value.microseconds]}
    if kind is datetime.timezone:
        offset = value.utcoffset(None)
        return {"DT": ["timezone", offset.days * 86400 + offset.seconds, offset.microseconds]}
    tz = getattr(value, "tzinfo", None)
    if tz is not None and type(tz) is not datetime.timezone:
        return _opaque(value, kind)
    zone = _datetime(tz, datetime.timezone) if tz is not None else None
    if kind is datetime.date:
        return {"DT": ["date", value.year, value.month, value.day]}
    if kind is datetime.time:
        return {"DT": ["time", value.hour, value.minute, value.second, value.microsecond, zone, value.fold]}
    return {
        "DT": [
            "datetime",
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            zone,
            value.fold,
        ]
    }


def raised(exc):
    """An exception a probe raised, by class name (its message is kept short: it is only for humans)."""
    try:
        message = str(exc)[:200]
    except BaseException:
        message = ""
    return {"E": [type(exc).__name__, message]}
