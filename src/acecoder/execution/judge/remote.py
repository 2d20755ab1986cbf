"""The judge's end of a program's channel: program objects as :class:`Remote` handles, reached only by calls.

A test runs in the judge. Each time it touches the program (calls ``candidate(x)``, reads ``obj.size``,
iterates a result), a request crosses to the program's process and a canonical value comes back (plain data
whose semantics are the standard library's), or a handle for an object with no canonical form. A handle never
decides how it compares with a value of the test's: ``handle == 3`` is False and ``handle < 3`` a TypeError,
so an always-equal object gains nothing; operations between two handles (``f(x) == g(y)``) run in the sandbox
with the program's own semantics, since nothing of the test's is in them. The test's own objects with no
canonical form (a key function, an instance of a class the test defines) cross as handles into the judge, and
the program's calls on them come back here (only public attributes; no frames, globals or code).

The channel also watches the program: a call that keeps the program idle (neither running nor waiting for a
CPU) past its allowance is stopped, and a program that dies ends the conversation with :class:`ChildGone`.
"""

from __future__ import annotations

import json
import os
import select
import sys
import time
from collections import deque
from typing import Any

from acecoder.execution.sandbox import codec, wire

_BATCH = 256  # items fetched per request when the test iterates a handle
DEBUG = bool(os.environ.get("ACECODER_JUDGE_DEBUG"))
_STATUS_EVERY = 250  # ms between looks at a silent program's idle time


class ChildGone(Exception):
    """The program's process ended (or was stopped) during a request: ``reason`` is the failure label."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class JudgeTimeout(BaseException):
    """A test used up its time (in the program or in the judge); a BaseException, so ``except Exception`` in
    the test does not swallow it."""


class ValueRefused(Exception):
    """The program sent a value the judge will not rebuild (too large, too deep, built to be slow)."""


_EXCEPTION_CLASSES: dict[tuple[str, str], type] = {}


def exception_class(base_name: str, name: str) -> type:
    """A judge-side exception class standing for a program exception class: a subclass of the builtin base the
    program's class derives from (so ``except ValueError`` and ``pytest.raises(ValueError)`` catch it)."""
    key = (base_name, name)
    kind = _EXCEPTION_CLASSES.get(key)
    if kind is None:
        base = codec.KNOWN.get(base_name)
        if not (isinstance(base, type) and issubclass(base, BaseException)) or base_name == "SystemExit":
            base = Exception
        kind = type(name if name.isidentifier() else "ProgramError", (base,), {"__module__": "program"})
        if len(_EXCEPTION_CLASSES) < 4096:
            _EXCEPTION_CLASSES[key] = kind
    return kind


class Remote:
    """An object that lives in the program's process."""

    __slots__ = ("__weakref__", "_acecoder_channel", "_acecoder_info", "_acecoder_ref")

    def __init__(self, channel: Channel, ref: Any, info: dict | None = None):
        object.__setattr__(self, "_acecoder_channel", channel)
        object.__setattr__(self, "_acecoder_ref", ref)
        object.__setattr__(self, "_acecoder_info", info or {})

    def _ask(self, op: str, **fields: Any) -> Any:
        return self._acecoder_channel.request(op, dict(fields, ref=self._acecoder_ref))

    def __repr__(self) -> str:
        try:
            return self._ask("repr")
        except ChildGone:
            raise
        except Exception:
            return f"<program {self._acecoder_info.get('t', 'object')}>"

    def __str__(self) -> str:
        return self._ask("str")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._acecoder_channel.call(self._acecoder_ref, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ask("attr", name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask("setattr", name=name, value=value)

    def __getitem__(self, key: Any) -> Any:
        return self._ask("item", key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ask("setitem", key=key, value=value)

    def __delitem__(self, key: Any) -> None:
        self._ask("delitem", key=key)

    def __len__(self) -> int:
        value = self._ask("len")
        if type(value) is not int:
            raise TypeError("len() of a program object gave no int")
        return value

    def __bool__(self) -> bool:
        return self._ask("bool") is True

    def __hash__(self) -> int:
        return object.__hash__(self)

    def __iter__(self):
        iterator = self._ask("iter")
        if not isinstance(iterator, Remote):
            return iter(iterator)
        return _iterate(iterator)

    def __next__(self) -> Any:
        items, _done = self._ask("next", n=1)
        if not items:
            raise StopIteration
        return items[0]

    def __contains__(self, item: Any) -> bool:
        # Membership is decided here, by iterating the program's object: the test's value stays in the judge.
        return any(item is x or (not isinstance(x, Remote) and _plain_equal(x, item)) for x in self)

    def __eq__(self, other: Any) -> Any:
        if isinstance(other, Remote):
            return self._acecoder_channel.binop("eq", self, other)
        return NotImplemented

    def __ne__(self, other: Any) -> Any:
        if isinstance(other, Remote):
            return self._acecoder_channel.binop("ne", self, other)
        return NotImplemented

    def __instancecheck__(self, value: Any) -> bool:
        return self._ask("isinstance", value=value) is True

    def __subclasscheck__(self, value: Any) -> bool:
        return self._ask("issubclass", value=value) is True

    def __int__(self) -> int:
        return _typed(self._acecoder_channel.call_method(self, "__int__"), int)

    def __float__(self) -> float:
        return _typed(self._acecoder_channel.call_method(self, "__float__"), float)

    def __index__(self) -> int:
        return _typed(self._acecoder_channel.call_method(self, "__index__"), int)

    def __enter__(self) -> Any:
        return self._acecoder_channel.call_method(self, "__enter__")

    def __exit__(self, *exc: Any) -> Any:
        return self._acecoder_channel.call_method(self, "__exit__", None, None, None)


def _binary(name: str, swapped: bool = False):
    def operation(self: Remote, other: Any) -> Any:
        if not isinstance(other, Remote):
            return NotImplemented  # a program object never decides how it combines with a test's value
        left, right = (other, self) if swapped else (self, other)
        return self._acecoder_channel.binop(name, left, right)

    return operation


for _name in ("lt", "le", "gt", "ge", "add", "sub", "mul", "truediv", "floordiv", "mod", "matmul"):
    setattr(Remote, f"__{_name}__", _binary(_name))
for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "matmul"):
    setattr(Remote, f"__r{_name}__", _binary(_name, swapped=True))


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise TypeError(f"a program object converted to {type(value).__name__}, not {kind.__name__}")
    return value


def _plain_equal(left: Any, right: Any) -> bool:
    try:
        return bool(left == right)
    except Exception:
        return False


def _iterate(iterator: Remote):
    while True:
        items, done = iterator._ask("next", n=_BATCH)
        yield from items
        if done:
            return


PRINTED_CHARS = 16 << 20


class Channel:
    """One conversation with one run of the program (a child of the sandbox server)."""

    def __init__(self, fd: int, link, limits: dict, clock=time.process_time):
        self.fd, self.link, self.limits = fd, link, limits
        self.alive = True
        self.next_id = 1
        self.remotes: dict[Any, Remote] = {}
        self.exported: dict[int, Any] = {}
        self.export_ids: dict[int, int] = {}
        self.value_bytes = int(limits.get("value_bytes", 1 << 24))
        self.encoder = codec.Encoder(self._export)
        self.decoder = codec.Decoder(self._import, max_bytes=self.value_bytes)
        self.time_left = float("inf")  # CPU seconds the program may still use in the current test
        self.program_cpu = 0.0  # what the program reported using per request (its own account)
        self.idle_allowance = float("inf")
        self.final: dict | None = None  # the server's report once the child ended
        self.replay: deque = deque()  # (ref, arguments, outcome) of calls made in advance, in order
        self.names: dict[str, str | None] | None = None  # the program's top-level names and bindings
        self.prefetching: tuple[int, list] | None = None
        # what of the program's prints this run may still write to the test's streams
        self.printed_left = PRINTED_CHARS

    # ------------------------------------------------------------------------------------------ handles
    def _export(self, value: Any) -> dict:
        if isinstance(value, Remote):
            return {"PH": value._acecoder_ref}
        key = id(value)
        ref = self.export_ids.get(key)
        if ref is None or self.exported.get(ref) is not value:
            ref = len(self.exported) + 1
            self.exported[ref] = value
            self.export_ids[key] = ref
        return {"JH": ref}

    def _import(self, tag: str, payload: Any) -> Any:
        if tag == "JH":
            try:
                return self.exported[payload]
            except (KeyError, TypeError):
                raise codec.BadValue("an unknown judge handle") from None
        if tag == "PR":
            values, bindings, raised = payload
            return ("probe-record", values, {str(n): b for n, b in bindings}, raised)
        if tag != "PH" or not isinstance(payload, list) or len(payload) != 2:
            raise codec.BadValue(f"unknown value tag {tag!r}")
        ref, info = payload
        if not isinstance(ref, int) or not isinstance(info, list) or len(info) != 4:
            raise codec.BadValue("a malformed handle")
        remote = self.remotes.get(ref)
        if remote is None:
            type_name, callable_, is_class, exception_base = info
            if is_class and isinstance(exception_base, str):  # a program exception class: a real class here
                base = exception_class(exception_base, "ProgramError")
                name = str(type_name)[:100].rsplit(".", 1)[-1]
                name = name if name.isidentifier() else "ProgramError"
                remote = type(name, (base,), {"__module__": "program"})
            else:
                remote = Remote(
                    self, ref, {"t": str(type_name)[:100], "c": bool(callable_), "k": bool(is_class)}
                )
            if len(self.remotes) < 100000:
                self.remotes[ref] = remote
        return remote

    def global_name(self, name: str) -> Remote:
        key = "g:" + name
        remote = self.remotes.get(key)
        if remote is None:
            remote = self.remotes[key] = Remote(self, key)
        return remote

    def out(self, value: Any) -> Any:
        """A test value as data for the program's side (its own objects as handles)."""
        return self.encoder.encode(value)

    # ------------------------------------------------------------------------------------------ requests
    def call(self, ref: Any, args: tuple, kwargs: dict) -> Any:
        if self.replay:
            head_ref, head_args, outcome = self.replay[0]
            if head_ref == ref and head_args == self._key(args, kwargs):
                self.replay.popleft()
                if outcome[0] == "er":
                    self.forward_printed(outcome[2] if len(outcome) > 2 else None)
                    raise self._exception(outcome[1])
                self.forward_printed(outcome[3] if len(outcome) > 3 else None)
                if len(outcome) > 2 and outcome[2]:
                    _restore((args, kwargs), outcome[2])  # what the call changed in its arguments
                return outcome[1]
            self.replay.clear()  # the test went another way: live calls from here on
        message = {"ref": ref, "args": list(args), "kw": dict(kwargs)}
        return self.request("call", message, restore=(args, kwargs))

    def call_method(self, remote: Remote, name: str, *args: Any) -> Any:
        """``remote.name(*args)``, the program's own method (``__int__``, ``__enter__``...)."""
        method = remote._ask("attr", name=name)
        if not isinstance(method, Remote):
            raise TypeError(f"{name} of a program object is not a method")
        return method(*args)

    def binop(self, name: str, left: Remote, right: Remote) -> Any:
        """An operator between two program objects, run in the program with its semantics."""
        return self.request("binop", {"name": name, "left": left._acecoder_ref, "right": right._acecoder_ref})

    def forward_printed(self, printed: Any) -> None:
        """What the program printed while it answered, written where the test's streams point now: a test that
        redirected ``sys.stdout`` or ``sys.stderr`` (``contextlib.redirect_stdout``, a ``capsys`` stand-in, a
        file) reads the program's prints as it would in one process; otherwise they are dropped (the judge's
        own streams are not the program's). At most :data:`PRINTED_CHARS` per program run: prints cannot grow
        the judge's memory without bound."""
        if not (isinstance(printed, list) and len(printed) == 2):
            return
        streams = ((printed[0], sys.stdout, sys.__stdout__), (printed[1], sys.stderr, sys.__stderr__))
        for text, stream, original in streams:
            if isinstance(text, str) and text and stream is not original and stream is not None:
                text = text[: max(self.printed_left, 0)]
                self.printed_left -= len(text)
                if text:
                    stream.write(text)

    def _key(self, args: Any, kwargs: dict) -> str:
        """Arguments as exact text (``1``, ``1.0`` and ``True`` differ), to match a call with one made ahead."""
        return json.dumps(self.out([list(args), dict(kwargs)]), sort_keys=True)

    def probes(self, probes: list[str], names: list[str]) -> tuple:
        """A split test's probes evaluated in the program: (values, bindings of ``names``, whether one raised)."""
        record = self.request("probes", {"probes": probes, "names": names})
        if not (isinstance(record, tuple) and len(record) == 4 and record[0] == "probe-record"):
            raise ValueRefused("a malformed probe record")
        return record[1], record[2], record[3]

    def start_prefetch(self, calls: list[tuple[str, list, dict]]) -> None:
        """Send a test's first calls in one request (before the program is even ready): :meth:`finish_prefetch`
        takes the answers, and :meth:`call` answers from them while they match the calls the test makes."""
        self.replay.clear()
        self.prefetching = None
        if calls:
            refs = [("g:" + name, args, kwargs) for name, args, kwargs in calls]
            self.prefetching = (self.send("calls", {"calls": [list(c) for c in refs]}), refs)

    def finish_prefetch(self, program_calls: set[str]) -> None:
        """The batch's answers, kept while its calls are calls into the program in this test."""
        if self.prefetching is None:
            return
        ident, refs = self.prefetching
        self.prefetching = None
        outcomes = self.await_reply(ident)
        if not isinstance(outcomes, list):
            raise ValueRefused("a malformed batch of calls")
        for (ref, args, kwargs), outcome in zip(refs, outcomes, strict=False):  # it stops at a raise
            if not (isinstance(outcome, list) and 2 <= len(outcome) <= 4 and outcome[0] in ("re", "er")):
                raise ValueRefused("a malformed call outcome")
            if ref[2:] not in program_calls:
                break
            self.replay.append((ref, self._key(args, kwargs), outcome))

    def request(self, op: str, fields: dict, restore: tuple | None = None) -> Any:
        """Send one request; serve the program's nested requests on the test's objects until the answer."""
        if self.prefetching is not None:
            self.finish_prefetch(set())
        return self.await_reply(self.send(op, fields), restore)

    def send(self, op: str, fields: dict) -> int:
        if not self.alive:
            raise ChildGone(self.final_reason())
        if self.time_left <= 0:
            raise JudgeTimeout()
        ident, self.next_id = self.next_id, self.next_id + 1
        message = [op, ident, round(min(self.time_left, 1e6), 6), self.out(fields)]
        if DEBUG:
            print(f"judge: request {op} {str(fields)[:120]}", file=sys.stderr, flush=True)
        try:
            wire.write_all(self.fd, wire.frame(message))
        except OSError:
            raise ChildGone(self._ended()) from None
        return ident

    def await_reply(self, ident: int, restore: tuple | None = None) -> Any:
        while True:
            reply = self._receive()
            kind = reply[0]
            if kind == "ready":
                self._ready(reply)
                continue
            if kind in ("re", "er"):
                cpu = reply[2] if len(reply) > 2 else None
                if type(cpu) is float and cpu >= 0:
                    self.program_cpu += cpu
                    self.time_left -= cpu
                if reply[1] != ident:
                    raise ValueRefused("a reply to another request")
                if kind == "er":
                    self.forward_printed(reply[4] if len(reply) > 4 else None)
                    raise self._exception(reply[3] if len(reply) > 3 else None)
                self.forward_printed(reply[5] if len(reply) > 5 else None)
                if restore is not None and len(reply) > 4 and reply[4]:
                    _restore(restore, reply[4])
                return reply[3] if len(reply) > 3 else None
            self._serve(reply)

    def wait_ready(self) -> None:
        """The program ran its top level and listed its names (ChildGone when it failed instead)."""
        while self.names is None:
            reply = self._receive()
            if reply[0] != "ready":
                raise ValueRefused("a message before the program was ready")
            self._ready(reply)

    def _ready(self, message: list) -> None:
        if self.names is not None or len(message) != 2 or not isinstance(message[1], list):
            raise ValueRefused("a second or malformed ready message")
        self.names = {
            str(n): (b if isinstance(b, str) else None)
            for n, b in (p for p in message[1] if isinstance(p, list) and len(p) == 2)
            if isinstance(n, str)
        }

    def _exception(self, raised: Any) -> BaseException:
        if not isinstance(raised, codec.Raised):
            return ValueRefused("a malformed error")
        if raised.type_name == "Timeout":
            return JudgeTimeout()
        kind = raised.kind
        if not (isinstance(kind, type) and issubclass(kind, BaseException)):
            kind = exception_class(raised.type_name, raised.class_name.rsplit(".", 1)[-1])
        return kind(raised.message)

    def _receive(self) -> dict:
        """The next frame from the program, decoded; watches the program's idle time while it waits."""
        data = self._read_frame()
        decoder = self.decoder
        decoder.budget = self.value_bytes  # numpy bytes one message may hold
        try:
            message = decoder.loads(data)
        except codec.BadValue as e:
            if DEBUG:
                print(f"judge: refused a value: {e}: {data[:300]!r}", file=sys.stderr, flush=True)
            raise ValueRefused(str(e)) from None
        if not isinstance(message, list) or not message or not isinstance(message[0], str):
            raise ValueRefused("a malformed message")
        return message

    def _read_frame(self) -> bytes:
        began, base, idle = time.monotonic(), None, 0.0
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        poller.register(self.link.fileno(), select.POLLIN)
        while True:
            events = dict(poller.poll(_STATUS_EVERY))
            if self.fd in events:
                try:
                    return wire.recv_bytes(self.fd, self.value_bytes + (1 << 20))
                except wire.FrameTooLarge:
                    self.abort()
                    raise ValueRefused("a value larger than value_bytes") from None
                except (EOFError, OSError, ValueError):
                    raise ChildGone(self._ended()) from None
            if self.link.fileno() in events:  # the server's report: the child ended
                raise ChildGone(self._ended())
            # Slow: how long has the program been idle (neither running nor waiting for a CPU)?
            status = self._status()
            if status is None:
                raise ChildGone(self._ended())
            now = time.monotonic()
            if base is None:
                base = (now, status["cpu"], status["waited"])
            else:
                idle = (now - base[0]) - (status["cpu"] - base[1]) - (status["waited"] - base[2])
            if idle > self.idle_allowance or now - began > 3600:
                self.abort()
                raise ChildGone("timeout")

    def _status(self) -> dict | None:
        """Ask the server how the child is doing; None when the answer is the child's end instead."""
        wire.send(self.link.fileno(), {"op": "status"})
        reply = wire.recv(self.link.fileno())
        if "state" in reply:
            return reply
        self.final = reply
        wire.recv_bytes(self.link.fileno())  # the (empty) values frame of a final report
        self.alive = False
        return None

    def _ended(self) -> str:
        """Wait for the server's report of the child's end; the failure label it gives."""
        self.alive = False
        if self.final is None:
            try:
                self.final = wire.recv(self.link.fileno())
                wire.recv_bytes(self.link.fileno())
            except (EOFError, OSError, ValueError):
                self.final = {"infra": "the sandbox server died"}
        return self.final_reason()

    def final_reason(self) -> str:
        final = self.final or {}
        if final.get("infra"):
            return "infra"
        return final.get("ended") or final.get("setup") or "exit"

    def abort(self) -> None:
        """Stop the child (the server kills it and reports)."""
        if self.alive:
            try:
                wire.send(self.link.fileno(), {"op": "abort"})
            except OSError:
                pass

    def hang_up(self) -> dict:
        """End the conversation: the child exits; returns the server's report."""
        if self.alive:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self._ended()
        return self.final or {}

    # ------------------------------------------------------------------------------ the program's requests
    def _serve(self, request: list) -> None:
        """A request of the program on one of the test's objects (only public attributes, calls, items)."""
        if len(request) != 4 or not isinstance(request[3], dict):
            raise ValueRefused("a malformed request")
        op, ident, _limit, fields = request
        try:
            target = self.exported[fields.get("ref")]
            if op == "call":
                value = target(*(fields.get("args") or []), **(fields.get("kw") or {}))
            elif op == "attr":
                name = str(fields.get("name"))
                if name.startswith("_"):
                    raise AttributeError(name)
                value = getattr(target, name)
            elif op == "item":
                value = target[fields.get("key")]
            elif op == "len":
                value = len(target)
            elif op == "list":
                value = list(target)
            elif op == "bool":
                value = bool(target)
            elif op == "repr":
                value = repr(target)
            elif op == "eq":
                value = bool(target == fields.get("other"))
            elif op == "hash":
                value = hash(target)
            else:
                raise ValueError(f"unknown request {op!r}")
            reply = ["re", ident, 0.0, self.out(value), None]
        except (JudgeTimeout, ChildGone, ValueRefused):
            raise
        except Exception as e:
            reply = ["er", ident, 0.0, codec.raised(e)]
        wire.write_all(self.fd, wire.frame(reply))


def _restore(sent: tuple, changes: list) -> None:
    """Apply the program's in-place changes to the test's own arguments (lists, dicts, sets, bytearrays)."""
    args, kwargs = sent
    for key, value in changes:
        if isinstance(key, int) and 0 <= key < len(args):
            target = args[key]
        elif isinstance(key, str) and key in kwargs:
            target = kwargs[key]
        else:
            continue
        kind = type(target)
        if (kind is list and isinstance(value, list)) or (
            kind is bytearray and isinstance(value, (bytes, bytearray))
        ):
            target[:] = value
        elif (kind is dict and isinstance(value, dict)) or (kind is set and isinstance(value, set)):
            target.clear()
            target.update(value)
