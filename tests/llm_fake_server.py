"""A loopback OpenAI-compatible chat server for tests: scripted answers, injected faults, a request log.

    def responder(messages, params):          # called once per choice; params has "index" (choice number)
        return fenced(json.dumps({"question": "q", "tests": ["assert f(1) == 1"]}))

    with FakeOpenAIServer(responder) as server:
        server.fail_next(Fault(429, retry_after=0.2), Fault(500), Fault(delay=2.0))  # next three requests
        backend = make_backend("openai", "fake-model", base_urls=server.url)
        ...
        assert len(server.received) == ...

A responder may return a ``str``, a :class:`Reply` (finish reason, token count, a delay) or a :class:`Fault`
(the whole request gets it). A fault is an HTTP status (with an optional Retry-After) or a raw body (junk that
is not JSON) after an optional ``delay``; a queued ``Fault(None, delay=...)`` answers normally but late (a
timeout for a client with a shorter timeout).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str
    finish_reason: str = "stop"
    completion_tokens: int | None = None
    delay: float = 0.0


@dataclass
class Fault:
    status: int | None = 500
    retry_after: float | None = None
    delay: float = 0.0
    body: str | None = None


Responder = Callable[[list[dict[str, Any]], dict[str, Any]], "str | Reply | Fault"]


def echo_responder(messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """Default answer: names the choice, the seed and the last message, so samples differ and are traceable."""
    last = str(messages[-1].get("content", ""))[:80]
    return f"reply {params['index']} seed={params.get('seed')} to: {last}"


def sequence_responder(answers: Sequence[str | Reply | Fault]) -> Responder:
    """Answer with ``answers`` in order, one per choice, cycling when exhausted (thread-safe)."""
    lock, counter = threading.Lock(), itertools.count()

    def respond(messages: list[dict[str, Any]], params: dict[str, Any]) -> str | Reply | Fault:
        with lock:
            return answers[next(counter) % len(answers)]

    return respond


# Content shapes LLMs really produce, for parser tests.
def fenced(text: str, lang: str = "json") -> str:
    return f"```{lang}\n{text}\n```"


def truncated(text: str, fraction: float = 0.6) -> str:
    return text[: int(len(text) * fraction)]


def with_junk(text: str) -> str:
    return f"Sure! Here is what you asked for:\n\n{text}\n\nLet me know if you need anything else."


class FakeOpenAIServer:
    """``POST /v1/chat/completions`` and ``GET /v1/models`` on 127.0.0.1 at a free port, in a thread.

    ``received`` holds every request body in arrival order, ``answered`` those that got a 200;
    ``max_in_flight`` is the most requests it was handling at once. ``max_n``
    caps the choices per answer (a server that ignores ``n``); ``api_key`` makes it demand that bearer key.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        model: str = "fake-model",
        latency: float = 0.0,
        max_n: int | None = None,
        api_key: str | None = None,
    ):
        self.responder = responder or echo_responder
        self.model, self.latency, self.max_n, self.api_key = model, latency, max_n, api_key
        self.received: list[dict[str, Any]] = []
        self.answered: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def fail_next(self, *faults: Fault) -> None:
        """Serve these faults to the next requests, one each, before answering normally again."""
        with self._lock:
            self._faults.extend(faults)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.answered.clear()
            self._faults.clear()

    def start(self) -> FakeOpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                try:
                    status, payload, headers = server._handle(
                        self.path, body, self.headers.get("Authorization")
                    )
                    self._send(status, payload, headers)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default 5 drops bursts of connects (a 1 s SYN retry each)

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _error(fault: Fault) -> tuple[int, Any, dict[str, str]]:
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        payload = fault.body if fault.body is not None else {"error": {"message": f"injected {fault.status}"}}
        return fault.status or 500, payload, headers

    def _handle(self, path: str, body: dict[str, Any], auth: str | None) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.received.append(body)
            fault = self._faults.pop(0) if self._faults else None
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._answer(path, body, auth, fault)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(
        self, path: str, body: dict[str, Any], auth: str | None, fault: Fault | None
    ) -> tuple[int, Any, dict[str, str]]:
        if self.api_key is not None and auth != f"Bearer {self.api_key}":
            return 401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}}, {}
        if not path.rstrip("/").endswith("/chat/completions"):
            return 404, {"error": {"message": f"no route {path}"}}, {}
        if self.latency:
            time.sleep(self.latency)
        messages = body.get("messages", [])
        params = {k: v for k, v in body.items() if k != "messages"}
        n = int(body.get("n") or 1)
        if self.max_n is not None:
            n = min(n, self.max_n)
        if fault is not None:
            time.sleep(fault.delay)
            if fault.status is not None:
                return self._error(fault)
        replies: list[Reply] = []
        for index in range(n):
            out = self.responder(messages, {**params, "index": index})
            if isinstance(out, Fault):
                time.sleep(out.delay)
                return self._error(out)
            replies.append(out if isinstance(out, Reply) else Reply(out))
        time.sleep(max(r.delay for r in replies))
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4 + 1
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": r.content},
                "finish_reason": r.finish_reason,
                "logprobs": None,
            }
            for i, r in enumerate(replies)
        ]
        completion_tokens = sum(r.completion_tokens or len(r.content.split()) or 1 for r in replies)
        with self._lock:
            self.answered.append(body)
        return (
            200,
            {
                "id": f"chatcmpl-{len(self.received)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", self.model),
                "choices": choices,
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            {},
        )
