"""Render a page in headless Chromium (Debian ``chromium``) and check it: console errors, uncaught exceptions,
failed loads and broken images, plus a full-page screenshot.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON messages ending in a
NUL byte on file descriptors 3 and 4), so nothing beyond the browser is needed and no port is opened.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Flags that work as root on a machine with no network and no display.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


class BrowserError(RuntimeError):
    """Chromium is missing, failed to start, or did not answer in time."""


@dataclass
class RenderResult:
    console_errors: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: int = 0
    height: int = 0

    @property
    def problems(self) -> list[str]:
        out = list(self.console_errors)
        if self.broken_images:
            out.append(f"{self.broken_images} of {self.images} images did not load")
        return out


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class _Pipe:
    """DevTools protocol over Chromium's pipe: numbered commands, their replies, and the events in between."""

    def __init__(self, process: subprocess.Popen, write_fd: int, read_fd: int, deadline: float):
        self.process, self.write_fd, self.read_fd, self.deadline = process, write_fd, read_fd, deadline
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        except OSError:
            raise BrowserError(f"Chromium exited (status {self.process.poll()}) before {method}") from None
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self.read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (status {self.process.poll()})")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)


def _error_text(event: dict[str, Any]) -> str | None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        args = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
        return "console error: " + " ".join(args)
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        return "uncaught exception: " + str(
            details.get("exception", {}).get("description") or details.get("text")
        )
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        entry = params["entry"]
        return f"{entry.get('source', 'log')} error: {entry.get('text')} {entry.get('url', '')}".strip()
    return None


_IMAGES = (
    "JSON.stringify({n: document.images.length,"
    " broken: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length,"
    " h: Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)})"
)


def render(
    page: str | os.PathLike,
    screenshot: str | os.PathLike | None = None,
    *,
    width: int = 1200,
    timeout: float = 90.0,
) -> RenderResult:
    """Load ``page`` (a local file) in headless Chromium, collect its errors, count its images and, with
    ``screenshot``, write a full-page PNG."""
    chromium = find_chromium()
    if chromium is None:
        raise BrowserError("Chromium is not installed (Debian: apt-get install -y chromium)")
    url = Path(page).resolve().as_uri()
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()

    def child_fds() -> None:  # Chromium reads commands on fd 3 and writes replies on fd 4
        import fcntl

        # Copies above 4 first, so that neither pipe end is overwritten or kept close-on-exec at 3 or 4.
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.dup2(high_r, 3, inheritable=True)
        os.dup2(high_w, 4, inheritable=True)

    with tempfile.TemporaryDirectory(prefix="acecoder-chromium-") as profile:
        process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,
            close_fds=False,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        pipe = _Pipe(process, to_browser_w, from_browser_r, time.monotonic() + timeout)
        try:
            return _check(pipe, url, screenshot, width)
        finally:
            try:
                os.write(to_browser_w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            except OSError:
                pass
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            os.close(to_browser_w)
            os.close(from_browser_r)


def _check(pipe: _Pipe, url: str, screenshot: str | os.PathLike | None, width: int) -> RenderResult:
    targets = pipe.send("Target.getTargets")["targetInfos"]
    page = next((t for t in targets if t.get("type") == "page"), None)
    target = (
        page["targetId"] if page else pipe.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    )
    session = pipe.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        pipe.send(f"{domain}.enable", session=session)
    pipe.send("Emulation.setDeviceMetricsOverride",
              {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session)  # fmt: skip
    pipe.events.clear()
    pipe.send("Page.navigate", {"url": url}, session)
    pipe.wait_event("Page.loadEventFired")
    info = json.loads(pipe.send("Runtime.evaluate", {"expression": _IMAGES, "returnByValue": True}, session)
                      ["result"]["value"])  # fmt: skip
    result = RenderResult(images=info["n"], broken_images=info["broken"], height=info["h"])
    if screenshot is not None:
        height = max(1, min(int(info["h"]), 16000))
        pipe.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)  # fmt: skip
        shot = pipe.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
        Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
    result.console_errors = [text for event in pipe.events if (text := _error_text(event))]
    return result
