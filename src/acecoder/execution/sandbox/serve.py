"""The program's side of the judge's calls: after its top level, the child answers requests on its channel.

The trusted judge runs each test in its own process; every reference the test makes to the program (calling a
function, reading an attribute, iterating a result) arrives here as a request and leaves as a canonical value
(:mod:`.codec`) or, for an object with no canonical form, a handle the judge can call into again. Nothing of
the test is here beyond the arguments it chose to pass. Objects of the test's that have no canonical form (a
key function, an instance of a class the test defines) arrive as handles into the judge: using them sends a
request back, so the conversation nests (each side serves the other's requests while it waits for a reply).

Messages are JSON arrays (so that no envelope is mistaken for a value's tag): a request ``[op, id, cpu limit,
fields]`` (``fields`` a dict, encoded like any value), a reply ``["re", id, cpu used, value, changes, printed]``
or ``["er", id, cpu used, exception, printed]``, and first of all ``["ready", names]``. ``printed`` is what the
program wrote to ``sys.stdout`` and ``sys.stderr`` while it answered (``[out, err]``, bounded; None when
nothing): the judge writes it where the test's own streams point, so a test that captures output
(``contextlib.redirect_stdout``, ``capsys``, ``sys.stdout = file``) sees the program's prints as in one process.
Everything here is the program's process: the judge trusts none of it.
"""

import io
import operator
import os
import signal
import sys
import time

from . import codec, wire

_MUTABLE = (list, dict, set, bytearray)
_BINARY = {
    name: getattr(operator, name)
    for name in ("eq", "ne", "lt", "le", "gt", "ge", "add", "sub", "mul", "truediv", "floordiv", "mod")
}
_BINARY.update(
    pow=pow, contains=operator.contains, matmul=operator.matmul, and_=operator.and_, or_=operator.or_
)


PRINTED_CHARS = 1 << 20  # what one request's prints may send back, per stream


class _Bounded(io.StringIO):
    """A stream that keeps the first :data:`PRINTED_CHARS` characters written to it and passes everything on
    to the stream it stands in for (the program's output, as without it)."""

    def __init__(self, through):
        super().__init__()
        self.through = through

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        room = PRINTED_CHARS - self.tell()
        if room > 0:
            super().write(text[:room])
        try:
            self.through.write(text)
        except Exception:
            pass
        return len(text)

    def flush(self):
        try:
            self.through.flush()
        except Exception:
            pass

    # what programs use of sys.stdout besides write: its encoding, its bytes (``sys.stdout.buffer.write``), its
    # descriptor (writes through it reach the output, not the test)
    @property
    def encoding(self):
        return getattr(self.through, "encoding", None) or "utf-8"

    @property
    def buffer(self):
        return _BytesInto(self)

    def fileno(self):
        return self.through.fileno()


class _BytesInto:
    """``sys.stdout.buffer`` of a :class:`_Bounded`: bytes written are decoded into it."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def write(self, data):
        self.text.write(bytes(data).decode(self.text.encoding, "replace"))
        return len(data)

    def flush(self):
        self.text.flush()


class Printed:
    """``sys.stdout`` and ``sys.stderr`` swapped for bounded buffers while the program answers one request."""

    __slots__ = ("err", "out", "saved")

    def __init__(self):
        self.out = self.err = None  # until entered

    def __enter__(self):
        self.saved = (sys.stdout, sys.stderr)
        self.out, self.err = _Bounded(self.saved[0]), _Bounded(self.saved[1])
        sys.stdout, sys.stderr = self.out, self.err
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved
        return False

    def value(self):
        """``[out, err]``, or None when nothing was printed (or the request failed before the program ran)."""
        if self.out is None:
            return None
        out, err = self.out.getvalue(), self.err.getvalue()
        return [out, err] if out or err else None


class Closed(Exception):
    """The judge hung up: the child's work is done."""


class JudgeObject:
    """An object of the test's that lives in the judge (a callable, an instance of a class the test defines):
    every use is a request to the judge."""

    __slots__ = ("_acecoder_conn", "_acecoder_ref")

    def __init__(self, conn, ref):
        object.__setattr__(self, "_acecoder_ref", ref)
        object.__setattr__(self, "_acecoder_conn", conn)

    def _ask(self, op, **fields):
        return self._acecoder_conn.request(op, dict(fields, ref=self._acecoder_ref))

    def __call__(self, *args, **kwargs):
        return self._ask("call", args=list(args), kw=kwargs)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._ask("attr", name=name)

    def __getitem__(self, key):
        return self._ask("item", key=key)

    def __len__(self):
        return self._ask("len")

    def __iter__(self):
        return iter(self._ask("list"))

    def __bool__(self):
        return self._ask("bool")

    def __repr__(self):
        return self._ask("repr")

    def __eq__(self, other):
        return self._ask("eq", other=other)

    def __hash__(self):
        return self._ask("hash")


class Connection:
    """The child's end of the channel: a handle table and a request loop that nests."""

    def __init__(self, fd, scope, budget, timeout_class):
        self.fd = fd
        self.scope = scope
        self.objects = {}
        self.ids = {}
        self.next_ref = 1
        self.next_id = 1
        self.budget = budget
        self.timeout_class = timeout_class
        self.clock = time.process_time
        self.began = self.clock()
        self.encoder = codec.Encoder(self.export)
        self.decoder = codec.Decoder(self.resolve)

    # -------------------------------------------------------------------------------------------- handles
    def export(self, value):
        key = id(value)
        ref = self.ids.get(key)
        if ref is None or self.objects.get(ref) is not value:
            ref, self.next_ref = self.next_ref, self.next_ref + 1
            self.objects[ref] = value
            self.ids[key] = ref
        # [type name, callable, a class, the builtin base of an exception class] (a list: a JSON object
        # would read as a value's tag)
        info = [codec.qualname(type(value)), callable(value), False, None]
        if isinstance(value, type):
            info[2] = True
            if issubclass(value, BaseException):
                info[3] = codec.builtin_base(value)
        return {"PH": [ref, info]}

    def resolve(self, tag, payload):
        if tag == "PH":
            return self.target(payload)
        return JudgeObject(self, payload)

    def target(self, ref):
        if type(ref) is str:
            name = ref[2:]
            try:
                return self.scope[name]
            except KeyError:
                raise NameError("name %r is not defined" % name) from None
        try:
            return self.objects[ref]
        except (KeyError, TypeError):
            raise ReferenceError("a handle of an earlier run of the program") from None

    def out(self, value):
        return self.encoder.encode(value)

    # ---------------------------------------------------------------------------------------- messaging
    def send(self, message):
        wire.write_all(self.fd, wire.frame(message))

    def receive(self):
        try:
            return wire.recv_bytes(self.fd)
        except EOFError:
            raise Closed() from None

    def request(self, op, fields):
        """Ask the judge; serve its nested requests until the answer comes."""
        ident, self.next_id = self.next_id, self.next_id + 1
        self.send([op, ident, None, self.out(fields)])
        while True:
            message = self.decoder.loads(self.receive())
            kind = message[0]
            if kind == "re":
                return message[3]
            if kind == "er":
                raise _rebuild(message[3])
            self.handle(message)

    def serve(self):
        """Answer requests until the judge hangs up."""
        while True:
            self.handle(self.decoder.loads(self.receive()))

    # -------------------------------------------------------------------------------------------- requests
    def handle(self, request):
        op, ident, limit, fields = request
        started = self.clock()
        printed = Printed()
        try:
            if limit is not None:
                self._arm(limit)
            try:
                with printed:
                    value, extra = self._perform(op, fields)
            finally:
                if limit is not None:
                    signal.setitimer(signal.ITIMER_PROF, 0)
            reply = ["re", ident, 0.0, self.out(value), extra, printed.value()]
        except Closed:
            raise
        except BaseException as e:  # the program's exception (or its timeout): the test's outcome, not ours
            try:
                reply = ["er", ident, 0.0, codec.raised(e, self.timeout_class, self.export), printed.value()]
            except BaseException:
                reply = ["er", ident, 0.0, {"E": ["Exception", "?", ""]}, None]
        reply[2] = self.clock() - started
        self.send(reply)

    def _arm(self, limit):
        left = self.budget - (self.clock() - self.began)
        if left <= 0:
            raise self.timeout_class()
        signal.setitimer(signal.ITIMER_PROF, max(min(limit, left), 0.001), 0.05)

    def _perform(self, op, fields):
        if op == "call":
            args = fields.get("args") or []
            kwargs = fields.get("kw") or {}
            target = self.target(fields["ref"])
            before = _snapshots(self.encoder, args, kwargs)
            value = target(*args, **kwargs)
            return value, _changes(self.encoder, before, args, kwargs)
        if op == "probes":
            return _ProbeRecord(self.scope, fields["probes"], fields.get("names") or []), None
        if op == "calls":  # a test's first calls, known in advance: run in order, up to the first that raises
            return _Calls(self, fields["calls"]), None
        target = self.target(fields["ref"]) if "ref" in fields else None
        if op == "attr":
            return getattr(target, fields["name"]), None
        if op == "item":
            return target[fields["key"]], None
        if op == "setattr":
            setattr(target, fields["name"], fields["value"])
            return None, None
        if op == "setitem":
            target[fields["key"]] = fields["value"]
            return None, None
        if op == "delitem":
            del target[fields["key"]]
            return None, None
        if op == "len":
            return len(target), None
        if op == "bool":
            return bool(target), None
        if op == "str":
            return str(target), None
        if op == "repr":
            return repr(target), None
        if op == "hash":
            return hash(target), None
        if op == "iter":
            return _Exported(iter(target)), None
        if op == "next":
            return _next_items(target, int(fields.get("n") or 1)), None
        if op == "binop":
            return _BINARY[fields["name"]](self.target(fields["left"]), self.target(fields["right"])), None
        if op == "isinstance":
            return isinstance(fields["value"], target), None
        if op == "issubclass":
            return issubclass(fields["value"], target), None
        raise ValueError("unknown request %r" % (op,))


class _Exported:
    """A value that must cross as a handle even if it has a canonical form (an iterator the judge steps)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Calls:
    __slots__ = ("calls", "conn")

    def __init__(self, conn, calls):
        self.conn, self.calls = conn, calls


class _ProbeRecord:
    __slots__ = ("names", "probes", "scope")

    def __init__(self, scope, probes, names):
        self.scope, self.probes, self.names = scope, probes, names


def _next_items(iterator, n):
    items = []
    for _ in range(max(1, min(n, 4096))):
        try:
            items.append(next(iterator))
        except StopIteration:
            return [items, True]
    return [items, False]


def _snapshots(encoder, args, kwargs):
    """The canonical form of each mutable argument before the call, to send back what the call changed (the
    test's own list or dict must see a program's in-place changes, as in Python)."""
    out = []
    for key, value in list(enumerate(args)) + list(kwargs.items()):
        if type(value) in _MUTABLE:
            try:
                out.append((key, value, encoder.encode(value)))
            except Exception:
                pass
    return out


def _changes(encoder, before, args, kwargs):
    changed = []
    for key, value, then in before:
        try:
            now = encoder.encode(value)
        except Exception:
            continue
        if now != then:
            changed.append([key, now])
    return changed


def _rebuild(spec):
    """The judge's exception, raised in the program (by its builtin base class)."""
    name, _qualname, message = (
        (spec.get("E") or ["Exception", "", ""])[:3] if isinstance(spec, dict) else spec[:3]
    )
    kind = codec.KNOWN.get(name)
    if not (isinstance(kind, type) and issubclass(kind, Exception)):
        kind = Exception
    return kind(message)


def install(conn, child):
    """Give the encoder the two special values of this module (a forced handle, a probe record)."""
    encode = conn.encoder.encode

    def encode_special(value, depth=0):
        kind = type(value)
        if kind is _Exported:
            return conn.export(value.value)
        if kind is _Calls:
            out = []
            for ref, args, kwargs in value.calls:  # each call's prints go with its outcome (replayed with it)
                printed = Printed()
                try:
                    before = _snapshots(conn.encoder, args, kwargs)
                    with printed:
                        result = value.conn.target(ref)(*args, **kwargs)
                except child.Timeout:
                    raise
                except BaseException as e:
                    out.append(["er", codec.raised(e, child.Timeout, conn.export), printed.value()])
                    break
                changes = _changes(conn.encoder, before, args, kwargs)
                out.append(["re", encode(result, depth + 1), changes, printed.value()])
            return out
        if kind is _ProbeRecord:
            values, raised = child.probe_values(value.probes, value.scope, conn.encoder)
            bindings = [[name, child.binding(value.scope, name)] for name in value.names]
            return {"PR": [values, bindings, raised]}
        return encode(value, depth)

    conn.out = encode_special


def run(fd, scope, budget, child):
    """Serve the judge on ``fd`` until it hangs up (then the child exits)."""
    conn = Connection(fd, scope, budget, child.Timeout)
    install(conn, child)
    names = []
    for name in list(scope):
        if type(name) is str and not name.startswith("__") and len(names) < 10000:
            names.append([name, child.binding(scope, name)])
    try:
        conn.send(["ready", names])
        conn.serve()
    except (Closed, OSError):
        pass
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
