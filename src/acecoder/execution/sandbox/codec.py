"""Canonical values: what crosses between the program's process and the trusted judge, as tagged JSON.

Both directions use this one module. The program's side (:class:`Encoder` in the child) converts what a program
call returned by *exact type* into plain data: subclasses of builtin types are read through the builtin type's
own methods, so nothing a program overrides takes part. The trusted side (:class:`Decoder` in the judge and the
engine) rebuilds Python objects whose semantics are the standard library's, never the program's. A value with
no canonical form (an instance of the program's class, a function) crosses as a *handle*: a reference the judge
can only call into (see :mod:`acecoder.execution.judge.remote`); without a handle table it is an opaque value
that equals nothing. The judge sends the test's arguments the same way; objects of the test's that have no
canonical form (a key function, an instance of a class the test defines) cross as handles into the judge.

Nothing read from the program's side is trusted: the decoder bounds sizes, depth and work (a set of values that
all hash alike is refused rather than rebuilt in quadratic time, as are fractions with huge parts and numpy
arrays larger than the value budget). Stdlib-only, Python >= 3.8.

Tags (a JSON object is always a tag, so lists, strings and numbers stay as they are):
T tuple, D dict, OD OrderedDict, CT Counter, DDF defaultdict, S set, FS frozenset, B bytes, BA bytearray,
MV memoryview, C complex, H big int (hex), F a non-finite float, R range, DK/DI/DV dict views, DQ deque,
MP mappingproxy, CM ChainMap, NT namedtuple, DEC Decimal, FR Fraction, DT datetime values, ZI a zoneinfo
zone, NP numpy array,
NS numpy scalar, IT a consumed iterator, BT a standard object by name (``int``, ``math.sqrt``...), K a class,
O an opaque value, U an unencodable value, E an exception raised, PH a handle on a program object, JH a handle
on a judge object.
"""

import base64
import builtins
import collections
import datetime
import decimal
import fractions
import json
import math
import sys
import types

_MAX_DEPTH = 100
_MAX_ITEMS = 10000000
_INT_LIMIT = 1 << 13000  # ~3,900 digits; larger ints travel as hex: str() of a huge int is slow and capped
_FRACTION_BITS = 1 << 14  # larger numerators/denominators cost the decoder a quadratic gcd
_FLOOD_ITEMS = 64  # containers at least this long are screened for values that all hash alike
_FLOOD_GROUP = 24  # distinct values one hash may hold before the container is refused
_HEAPTYPE = 1 << 9

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
_MAPPINGPROXY = types.MappingProxyType
_DATETIME = frozenset(
    [datetime.datetime, datetime.date, datetime.time, datetime.timedelta, datetime.timezone]
)


# ---------------------------------------------------------------------------------------- standard objects


def _known_objects():
    """Objects that cross by name: builtin classes and functions, and the value classes and functions of a few
    standard modules, as this process loaded them (before any program ran)."""
    known = {}
    for name, value in vars(builtins).items():
        if not name.startswith("_") and (isinstance(value, type) or type(value) is types.BuiltinFunctionType):
            known[name] = value
    modules = {
        "collections": ("Counter", "OrderedDict", "deque", "defaultdict", "ChainMap", "namedtuple"),
        "fractions": ("Fraction",),
        "decimal": ("Decimal",),
        "datetime": ("date", "datetime", "time", "timedelta", "timezone", "tzinfo"),
        "math": tuple(n for n in dir(math) if not n.startswith("_")),
        "operator": ("add", "sub", "mul", "truediv", "floordiv", "mod", "neg", "itemgetter", "attrgetter"),
        "types": ("MappingProxyType", "SimpleNamespace"),
    }
    for module_name, names in modules.items():
        module = sys.modules.get(module_name) or __import__(module_name)
        for name in names:
            value = getattr(module, name, None)
            if value is not None:
                known[module_name + "." + name] = value
    return known


KNOWN = _known_objects()
_KNOWN_IDS = {id(value): name for name, value in KNOWN.items()}
_EXCEPTION_NAMES = {
    id(value): name
    for name, value in KNOWN.items()
    if isinstance(value, type) and issubclass(value, BaseException)
}
_type_mro = type.__dict__["__mro__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__


def qualname(kind):
    """A class's qualified name read through ``type``'s own descriptor, at most 100 characters."""
    try:
        name = _type_qualname(kind)
        return name[:100] if type(name) is str else "?"
    except Exception:
        return "?"


def builtin_base(kind):
    """The nearest builtin exception class of an exception class, by identity (never by a name a program
    chose): what the judge re-raises and the error label names."""
    try:
        for base in _type_mro(kind):
            name = _EXCEPTION_NAMES.get(id(base))
            if name is not None and KNOWN.get(name) is base:
                return name
    except Exception:
        pass
    return "Exception"


def _known_name(value):
    name = _KNOWN_IDS.get(id(value))
    return name if name is not None and KNOWN[name] is value else None


class Unencodable(Exception):
    pass


# --------------------------------------------------------------------------------------------- encoding


def _int(value):
    if -_INT_LIMIT < value < _INT_LIMIT:
        return value
    return {"H": hex(value)}


def _float(value):
    if value != value or value in (math.inf, -math.inf):
        return {"F": repr(value)}
    return value


class Encoder:
    """Converts values by exact type into tagged JSON data. ``export(value)`` gives the tag of a value with no
    canonical form (a handle); without it such a value is opaque."""

    def __init__(self, export=None):
        self.export = export

    def encode(self, value, depth=0):
        kind = type(value)
        if kind is str or kind is bool or value is None:
            return value
        if kind is int:
            return _int(value)
        if kind is float:
            return _float(value)
        if depth > _MAX_DEPTH:
            raise Unencodable("nested too deeply")
        if kind is list:
            return self._items(list.__iter__(value), depth)
        if kind is tuple:
            return {"T": self._items(tuple.__iter__(value), depth)}
        if kind is dict:
            return {"D": self._pairs(dict.items(value), depth)}
        if kind is set:
            return {"S": self._items(set.__iter__(value), depth)}
        if kind is frozenset:
            return {"FS": self._items(frozenset.__iter__(value), depth)}
        if kind is bytes:
            return {"B": base64.b64encode(value).decode("ascii")}
        if kind is complex:
            return {
                "C": [
                    _float(complex.__getattribute__(value, "real")),
                    _float(complex.__getattribute__(value, "imag")),
                ]
            }
        if kind is _DICT_KEYS:
            return {"DK": self._items(value, depth)}
        if kind is _DICT_ITEMS:
            return {"DI": self._pairs(value, depth)}
        if kind is _DICT_VALUES:
            return {"DV": self._items(value, depth)}
        if kind is range:
            return {"R": [_int(value.start), _int(value.stop), _int(value.step)]}
        if kind is collections.OrderedDict:
            return {"OD": self._pairs(dict.items(value), depth)}
        if kind is collections.Counter:
            return {"CT": self._pairs(dict.items(value), depth)}
        if kind is collections.defaultdict:
            factory = value.default_factory
            return {"DDF": [self.encode(factory, depth + 1), self._pairs(dict.items(value), depth)]}
        if kind is collections.deque:
            return {"DQ": [self._items(collections.deque.__iter__(value), depth), value.maxlen]}
        if kind is _MAPPINGPROXY:
            return {"MP": self._pairs(value.items(), depth)}
        if kind is collections.ChainMap:
            return {"CM": [self.encode(m, depth + 1) for m in list.__iter__(value.maps)]}
        if kind is bytearray:
            return {"BA": base64.b64encode(bytes(value)).decode("ascii")}
        if kind is memoryview:
            return self._memoryview(value)
        if kind is decimal.Decimal:
            return {"DEC": decimal.Decimal.__str__(value)}
        if kind is fractions.Fraction:
            numerator, denominator = value._numerator, value._denominator
            if type(numerator) is not int or type(denominator) is not int:
                return self._other(value, kind)
            return {"FR": [_int(numerator), _int(denominator)]}
        if kind in _DATETIME:
            return self._datetime(value, kind)
        if kind is _GENERATOR or kind in _ITERATORS:
            if self.export is not None:  # the judge steps it through a handle (it may never end)
                return self.export(value)
            return {"IT": self._items(value, depth)}
        if kind in _zone_classes():
            return {"ZI": value.key} if type(value.key) is str else self._other(value, kind)
        if kind is type or kind is types.BuiltinFunctionType:
            name = _known_name(value)
            if name is not None:
                return {"BT": name}
            return self._other(value, kind)
        module = _type_module(kind)
        if type(module) is str and (module == "numpy" or module.startswith("numpy.")):
            encoded = self._numpy(value, kind, depth)
            if encoded is not None:
                return encoded
        if module == "itertools" and not kind.__flags__ & _HEAPTYPE:  # islice, chain, accumulate...
            if self.export is not None:
                return self.export(value)
            return {"IT": self._items(_bounded(value), depth)}
        return self._subclass(value, kind, depth)

    def _subclass(self, value, kind, depth):
        """Subclasses of builtin types: their real contents, read through the builtin type's own methods."""
        if isinstance(value, bool):
            return bool(int.__int__(value))
        if isinstance(value, int):
            return _int(int.__int__(value))
        if isinstance(value, float):
            return _float(float.__float__(value))
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, tuple) and _is_namedtuple(kind):
            fields = kind._fields
            if type(fields) is tuple and all(type(f) is str for f in fields):
                return {"NT": [qualname(kind), list(fields), self._items(tuple.__iter__(value), depth)]}
        if isinstance(value, collections.OrderedDict):
            return {"OD": self._pairs(dict.items(value), depth)}
        if isinstance(value, collections.Counter):
            return {"CT": self._pairs(dict.items(value), depth)}
        if isinstance(value, dict):
            return {"D": self._pairs(dict.items(value), depth)}
        if isinstance(value, list):
            return self._items(list.__iter__(value), depth)
        if isinstance(value, tuple):
            return {"T": self._items(tuple.__iter__(value), depth)}
        if isinstance(value, frozenset):
            return {"FS": self._items(frozenset.__iter__(value), depth)}
        if isinstance(value, set):
            return {"S": self._items(set.__iter__(value), depth)}
        if isinstance(value, collections.UserList) and type(value.data) is list:
            return self.encode(value.data, depth + 1)
        if isinstance(value, collections.UserDict) and type(value.data) is dict:
            return self.encode(value.data, depth + 1)
        if isinstance(value, collections.UserString) and type(value.data) is str:
            return self.encode(value.data, depth + 1)
        return self._other(value, kind)

    def _other(self, value, kind):
        if self.export is not None:
            return self.export(value)
        return opaque(value, kind)

    def _items(self, iterable, depth):
        out = []
        encode = self.encode
        for item in iterable:
            if len(out) >= _MAX_ITEMS:
                raise Unencodable("too many items")
            out.append(encode(item, depth + 1))
        return out

    def _pairs(self, items, depth):
        out = []
        encode = self.encode
        for key, value in items:
            if len(out) >= _MAX_ITEMS:
                raise Unencodable("too many items")
            out.append([encode(key, depth + 1), encode(value, depth + 1)])
        return out

    def _memoryview(self, value):
        if value.format in ("B", "b", "c"):
            return {"MV": base64.b64encode(value.tobytes()).decode("ascii")}
        return self._other(value, memoryview)

    def _numpy(self, value, kind, depth):
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
                return {"NP": [dtype.str, list(value.shape), self.encode(value.tolist(), depth + 1)]}
            return {"NP": ["O", list(value.shape), self._items(value.reshape(-1), depth)]}
        if isinstance(value, numpy.generic) and kind.__module__ == "numpy":
            dtype = value.dtype
            if dtype.kind in "biufc":
                return {"NS": [dtype.str, base64.b64encode(value.tobytes()).decode("ascii")]}
            if dtype.kind in "US":
                return {"NS": [dtype.str, self.encode(value.item(), depth + 1)]}
        if kind.__class__ is type and isinstance(value, type):  # numpy's own classes (np.int64, np.ndarray)
            return None
        return None

    def _datetime(self, value, kind):
        if kind is datetime.timedelta:
            return {"DT": ["timedelta", value.days, value.seconds, value.microseconds]}
        if kind is datetime.timezone:
            offset = value.utcoffset(None)
            return {"DT": ["timezone", offset.days * 86400 + offset.seconds, offset.microseconds]}
        if kind is datetime.date:
            return {"DT": ["date", value.year, value.month, value.day]}
        zone = _zone_of(value)
        if kind is datetime.time:
            return {
                "DT": ["time", value.hour, value.minute, value.second, value.microsecond, zone, value.fold]
            }
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


def _bounded(iterator):
    """At most a million items of an iterator (an endless ``itertools.count`` is refused, not run forever)."""
    for count, item in enumerate(iterator):
        if count >= 1000000:
            raise Unencodable("an iterator of more than a million items")
        yield item


def _zone_classes():
    zoneinfo = sys.modules.get("zoneinfo")
    return frozenset([zoneinfo.ZoneInfo]) if zoneinfo is not None else frozenset()


def _is_namedtuple(kind):
    try:
        fields = kind.__dict__.get("_fields") if type(kind.__dict__) is _MAPPINGPROXY else None
    except Exception:
        return False
    return type(fields) is tuple


def _zone_of(value):
    """A datetime's zone as data: a ``zoneinfo`` key, or the fixed offset it has at that moment (aware values
    then compare as Python compares them: by their UTC instant)."""
    tz = value.tzinfo
    if tz is None:
        return None
    if type(tz) is datetime.timezone:
        offset = tz.utcoffset(None)
        return ["timezone", offset.days * 86400 + offset.seconds, offset.microseconds]
    zoneinfo = sys.modules.get("zoneinfo")
    if zoneinfo is not None and type(tz) is zoneinfo.ZoneInfo and type(tz.key) is str:
        return ["zoneinfo", tz.key]
    offset = value.utcoffset()
    if type(offset) is not datetime.timedelta:
        raise Unencodable("a tzinfo without an offset")
    return ["timezone", offset.days * 86400 + offset.seconds, offset.microseconds]


def opaque(value, kind):
    """Something only the program's own code can interpret: its class names (for humans) and its truthiness."""
    try:
        truthy = bool(value)
    except BaseException:
        truthy = True
    return {"O": [[[0, qualname(k)] for k in _type_mro(kind) if k is not object], truthy]}


_DEFAULT = Encoder()


def encode(value, depth=0):
    """The JSON-ready canonical form of ``value`` (raises Unencodable when it cannot be represented)."""
    return _DEFAULT.encode(value, depth)


def dumps(data):
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def raised(exc, timeout_class=None, export=None):
    """An exception as data: its builtin base (the label the judge uses), the class's own name and message
    (both for humans, short), and, with ``export``, a handle on the program's exception class."""
    kind = type(exc)
    try:
        message = str(exc)[:200]
    except BaseException:
        message = ""
    if timeout_class is not None and kind is timeout_class:
        return {"E": ["Timeout", "Timeout", ""]}
    spec = [builtin_base(kind), qualname(kind), message]
    if export is not None and _known_name(kind) is None:
        try:
            spec.append(export(kind))
        except Exception:
            pass
    return {"E": spec}


# --------------------------------------------------------------------------------------------- decoding


class Opaque:
    """A value only the program's own code can interpret (an instance of one of its classes, a function...).

    It equals nothing but itself, so no program-defined ``__eq__`` can make it pass a test."""

    __slots__ = ("truthy", "type_name")

    def __init__(self, type_name, truthy=True):
        self.type_name = type_name
        self.truthy = truthy

    def __bool__(self):
        return self.truthy

    def __repr__(self):
        return "<opaque %s>" % self.type_name


class Raised:
    """What a probe raised instead of returning a value: its builtin base class name (``ValueError``, or
    ``Timeout`` for the sandbox's own limit), the class's own name, the message, and (over a channel) the
    judge's stand-in for the program's exception class."""

    __slots__ = ("class_name", "kind", "message", "type_name")

    def __init__(self, type_name, class_name="", message="", kind=None):
        self.type_name = type_name
        self.class_name = class_name or type_name
        self.message = message
        self.kind = kind

    def __eq__(self, other):
        return isinstance(other, Raised) and (self.type_name, self.class_name, self.message) == (
            other.type_name,
            other.class_name,
            other.message,
        )

    def __hash__(self):
        return hash((self.type_name, self.message))

    def __repr__(self):
        return "Raised(%r, %r)" % (self.type_name, self.message)


class BadValue(ValueError):
    """A value record that is not canonical, or one the trusted side refuses to rebuild (too large, too deep,
    built to make hashing quadratic)."""


def _screen(items):
    """Refuse a container whose hashable items pile up under few hash values (rebuilding or hashing it would be
    quadratic): more than ``_FLOOD_GROUP`` distinct items under one hash."""
    if len(items) < _FLOOD_ITEMS:
        return
    groups = {}
    for item in items:
        try:
            key = hash(item)
        except TypeError:
            continue
        seen = groups.get(key)
        if seen is None:
            groups[key] = [item]
            continue
        for other in seen:
            if type(other) is type(item) and other == item:
                break
        else:
            seen.append(item)
            if len(seen) > _FLOOD_GROUP:
                raise BadValue("a container of values that all hash alike")


class Decoder:
    """Rebuilds values from tagged JSON with the standard library's semantics, within bounds. ``handle(tag,
    payload)`` resolves PH/JH tags (without it they are refused)."""

    def __init__(self, handle=None, max_bytes=1 << 30):
        self.handle = handle
        self.budget = max_bytes  # numpy payload bytes this decoder may still build

    def loads(self, data):
        try:
            value = json.loads(data, object_hook=self._hook)
        except BadValue:
            raise
        except RecursionError:
            raise BadValue("nested too deeply") from None
        except Exception as e:  # malformed JSON, unhashable set items, bad numbers...
            raise BadValue("%s: %s" % (type(e).__name__, str(e)[:200])) from None
        self._screen_lists(value)
        return value

    def _screen_lists(self, value, depth=0):
        if type(value) is list:
            _screen(value)
            if depth < _MAX_DEPTH + 2:
                for item in value:
                    if type(item) is list:
                        self._screen_lists(item, depth + 1)

    def _hook(self, obj):
        if len(obj) != 1:
            raise BadValue("a tag object has %d keys" % len(obj))
        ((tag, payload),) = obj.items()
        build = _TAGS.get(tag)
        if build is None:
            if self.handle is not None:
                return self.handle(tag, payload)
            raise BadValue("unknown value tag %r" % tag)
        return build(self, payload)

    # -- builders
    def _set(self, items, kind):
        _screen(items)
        return kind(items)

    def _pairs(self, pairs, kind):
        if type(pairs) is not list:
            raise BadValue("pairs expected")
        _screen([p[0] for p in pairs])
        return kind(pairs)

    def _array(self, spec):
        dtype, shape, payload = spec
        np = _numpy()
        shape = _shape(shape)
        if dtype == "O":
            out = np.empty(len(payload), dtype=object)
            out[:] = payload if payload else []
            return out.reshape(shape)
        kind = _dtype(dtype)
        size = kind.itemsize
        for n in shape:
            size *= n
        self.budget -= size
        if self.budget < 0:
            raise BadValue("numpy values larger than the value budget")
        if isinstance(payload, str):
            return np.frombuffer(base64.b64decode(payload), dtype=kind).reshape(shape).copy()
        return np.array(payload, dtype=kind).reshape(shape)

    def _scalar(self, spec):
        dtype, payload = spec
        np = _numpy()
        kind = _dtype(dtype)
        if isinstance(payload, str) and kind.kind not in "US":
            return np.frombuffer(base64.b64decode(payload), dtype=kind)[0]
        return np.array(payload, dtype=kind)[()]


def _numpy():
    import numpy

    return numpy


_MAX_ITEMSIZE = 1 << 16


def _dtype(spec):
    """A numpy dtype the sandbox may send: numbers and bounded strings only (no huge or structured types)."""
    dtype = _numpy().dtype(spec)
    if dtype.kind not in "biufcUS" or dtype.fields or dtype.itemsize > _MAX_ITEMSIZE:
        raise BadValue("dtype %r is not accepted" % (spec,))
    return dtype


def _shape(shape):
    size = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise BadValue("bad array shape %r" % (shape,))
        size *= n
    if size > _MAX_ITEMS:
        raise BadValue("array of %d elements" % size)
    return tuple(shape)


def _zone(spec):
    if spec is None:
        return None
    if spec[0] == "zoneinfo":
        import zoneinfo

        return zoneinfo.ZoneInfo(str(spec[1]))
    return datetime.timezone(datetime.timedelta(seconds=spec[1], microseconds=spec[2]))


def _datetime(spec):
    kind = spec[0]
    if kind == "timedelta":
        return datetime.timedelta(days=spec[1], seconds=spec[2], microseconds=spec[3])
    if kind == "timezone":
        return datetime.timezone(datetime.timedelta(seconds=spec[1], microseconds=spec[2]))
    if kind == "date":
        return datetime.date(*spec[1:4])
    if kind == "time":
        return datetime.time(*spec[1:5], tzinfo=_zone(spec[5]), fold=spec[6])
    return datetime.datetime(*spec[1:8], tzinfo=_zone(spec[8]), fold=spec[9])


def _fraction(parts):
    numerator, denominator = parts
    for part in (numerator, denominator):
        if type(part) is not int or part.bit_length() > _FRACTION_BITS:
            raise BadValue("a fraction with parts over %d bits" % _FRACTION_BITS)
    return fractions.Fraction(numerator, denominator)


def _decimal(text):
    if type(text) is not str or len(text) > 10000:
        raise BadValue("a decimal of more than 10,000 characters")
    return decimal.Decimal(text)


def _big_int(text):
    if type(text) is not str or len(text) > (1 << 24):
        raise BadValue("an integer of more than 64 million bits")
    return int(text, 16)


_NAMEDTUPLES = {}


def _namedtuple(spec):
    name, fields, items = spec
    key = (str(name), tuple(str(f) for f in fields))
    kind = _NAMEDTUPLES.get(key)
    if kind is None:
        try:
            kind = collections.namedtuple(_identifier(key[0]), key[1], rename=True)
        except (ValueError, TypeError) as e:
            raise BadValue("namedtuple: %s" % e) from None
        if len(_NAMEDTUPLES) < 4096:
            _NAMEDTUPLES[key] = kind
    if len(items) != len(key[1]):
        raise BadValue("namedtuple of %d fields with %d items" % (len(key[1]), len(items)))
    return kind(*items)


def _identifier(name):
    name = name.rsplit(".", 1)[-1]
    return name if name.isidentifier() and not name.startswith("_") else "namedtuple"


def _known(name):
    value = KNOWN.get(name)
    if value is None:
        raise BadValue("unknown standard object %r" % (name,))
    return value


def _defaultdict(self, spec):
    factory, pairs = spec
    if factory is not None and not callable(factory):
        raise BadValue("a defaultdict factory that is not callable")
    _screen([p[0] for p in pairs])
    return collections.defaultdict(factory, pairs)


def _opaque(spec):
    classes = spec[0]
    name = classes[0][1] if classes and isinstance(classes[0], list) and len(classes[0]) > 1 else "object"
    return Opaque(str(name)[:100], bool(spec[1]))


def _raised(spec):
    if len(spec) == 2:  # [type name, message]
        return Raised(str(spec[0])[:100], str(spec[0])[:100], str(spec[1])[:200])
    return Raised(
        str(spec[0])[:100], str(spec[1])[:100], str(spec[2])[:200], spec[3] if len(spec) > 3 else None
    )


_TAGS = {
    "T": lambda self, items: tuple(items),
    "D": lambda self, pairs: self._pairs(pairs, dict),
    "OD": lambda self, pairs: self._pairs(pairs, collections.OrderedDict),
    "CT": lambda self, pairs: collections.Counter(self._pairs(pairs, dict)),
    "DDF": _defaultdict,
    "S": lambda self, items: self._set(items, set),
    "FS": lambda self, items: self._set(items, frozenset),
    "B": lambda self, data: base64.b64decode(data),
    "BA": lambda self, data: bytearray(base64.b64decode(data)),
    "MV": lambda self, data: memoryview(base64.b64decode(data)),
    "C": lambda self, parts: complex(*parts),
    "H": lambda self, text: _big_int(text),
    "F": lambda self, text: float(text),
    "R": lambda self, args: range(*args),
    "DK": lambda self, items: self._set(items, dict.fromkeys).keys(),
    "DI": lambda self, pairs: self._pairs(pairs, dict).items(),
    "DV": lambda self, items: dict(enumerate(items)).values(),
    "DQ": lambda self, spec: (
        collections.deque(spec[0], spec[1]) if type(spec[0]) is list else collections.deque(spec)
    ),
    "MP": lambda self, pairs: types.MappingProxyType(self._pairs(pairs, dict)),
    "CM": lambda self, maps: collections.ChainMap(*maps),
    "NT": lambda self, spec: _namedtuple(spec),
    "DEC": lambda self, text: _decimal(text),
    "FR": lambda self, parts: _fraction(parts),
    "DT": lambda self, spec: _datetime(spec),
    "ZI": lambda self, key: _zone(["zoneinfo", key]),
    "NP": lambda self, spec: self._array(spec),
    "NS": lambda self, spec: self._scalar(spec),
    "IT": lambda self, items: iter(items),
    "BT": lambda self, name: _known(name),
    "K": lambda self, classes: Opaque("class " + (classes[0][1] if classes else "?")),
    "O": lambda self, spec: _opaque(spec),
    "U": lambda self, reason: Opaque("unencodable: " + str(reason)[:200]),
    "E": lambda self, spec: _raised(spec),
}


def loads(data, max_bytes=1 << 30):
    """One value from its tagged JSON text, without handles."""
    return Decoder(max_bytes=max_bytes).loads(data)
