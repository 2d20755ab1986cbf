"""Bounds on what a client may send the reward server: body size (413) and JSON nesting depth (422).

A pure ASGI middleware, so it acts before FastAPI reads or parses anything: a body larger than the limit is
refused as soon as its ``Content-Length`` (or, for a chunked body, the bytes received so far) says so, without
holding it in memory; a body nested deeper than the limit is refused before ``json.loads`` could recurse on it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def nesting_depth(body: bytes, limit: int) -> int:
    """The deepest nesting of JSON arrays and objects in ``body`` (strings skipped), counted up to ``limit + 1``."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


class BodyLimits:
    """Refuse bodies over ``max_bytes`` (413) or nested deeper than ``max_depth`` (422)."""

    def __init__(self, app: Callable, max_bytes: int, max_depth: int = 64, on_reject: Callable | None = None):
        self.app, self.max_bytes, self.max_depth, self.on_reject = app, max_bytes, max_depth, on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(
                scope, send, 413, f"a body of {int(length):,} bytes (at most {self.max_bytes:,})"
            )
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, send, 413, f"a body of more than {self.max_bytes:,} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        depth = nesting_depth(body, self.max_depth)
        if depth > self.max_depth:
            await self._reject(scope, send, 422, f"JSON nested deeper than {self.max_depth} levels")
            return
        await self.app(
            scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send
        )

    async def _reject(self, scope: Scope, send: Send, status: int, detail: str) -> None:
        if self.on_reject is not None:
            self.on_reject(scope.get("path", ""), status, detail)
        body = json.dumps({"detail": detail}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], then: Receive) -> Receive:
    """The messages already read, then the connection's own (a disconnect, when it comes)."""
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await then()

    return receive
