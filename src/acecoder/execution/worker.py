"""One engine worker: a sandbox server (runs programs) and its trusted judge (runs tests), as two processes.

Both are started fresh with an interpreter, never forked from the engine (whose memory may hold a model):
the sandbox server with the configured interpreter (it is stdlib-only, loaded by path), the judge with the
engine's own interpreter (it compares with numpy and pytest). A unix socket links them; the engine talks to
the judge only, one framed JSON message per job and per result (:mod:`acecoder.execution.sandbox.wire`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from acecoder.execution.sandbox import wire

SANDBOX_DIR = Path(__file__).with_name("sandbox")
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding the acecoder package
# The server is the stdlib-only package in sandbox/, loaded by path under a name no program would import, so it
# runs under any interpreter a user picks (which need not have acecoder installed).
_SANDBOX_BOOT = (
    "import sys, importlib.util as u\n"
    "sys.path[:] = [p for p in sys.path if p]\n"
    "d = sys.argv[1]\n"
    "s = u.spec_from_file_location('acecoder_sandbox', d + '/__init__.py', submodule_search_locations=[d])\n"
    "m = u.module_from_spec(s); sys.modules['acecoder_sandbox'] = m; s.loader.exec_module(m)\n"
    "from acecoder_sandbox.server import run_main\n"
    "run_main()\n"
)
# The judge imports acecoder from the same tree as the engine (a checkout, a worktree or site-packages).
_JUDGE_BOOT = (
    "import sys\n"
    "sys.path[:] = [sys.argv[1]] + [p for p in sys.path if p]\n"
    "from acecoder.execution.judge.server import run\n"
    "run()\n"
)
_PASSED_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "SYSTEMROOT",
    "ACECODER_JUDGE_DEBUG",
    "ACECODER_JUDGE_PROFILE",
    "ACECODER_SANDBOX_PROFILE",
)


class SandboxError(RuntimeError):
    """A sandbox server could not start or keeps dying."""


def _environment(interpreter: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    env.update(
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    env.setdefault("LANG", "C.UTF-8")
    # `python` in a program's subprocess is the interpreter that runs the program (as in a runtime image)
    if os.path.dirname(interpreter):
        env["PATH"] = os.pathsep.join([os.path.dirname(interpreter), env.get("PATH") or os.defpath])
    return env


class Worker:
    """Handle on one worker's two processes; the engine sends jobs to the judge and reads its results."""

    def __init__(self, sandbox_config: dict[str, Any], judge_config: dict[str, Any], interpreter: str):
        self.sandbox_config, self.judge_config, self.interpreter = sandbox_config, judge_config, interpreter
        self.sandbox: subprocess.Popen | None = None
        self.judge: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the processes)
        try:
            self.sandbox = subprocess.Popen(
                [
                    self.interpreter,
                    "-s",
                    "-B",
                    "-c",
                    _SANDBOX_BOOT,
                    str(SANDBOX_DIR),
                    json.dumps(self.sandbox_config),
                ],
                stdin=theirs,
                stdout=theirs,
                stderr=self.log,
                env=_environment(self.interpreter),
                start_new_session=True,
            )
            config = dict(self.judge_config, link=ours.fileno())
            self.judge = subprocess.Popen(
                [sys.executable, "-s", "-B", "-c", _JUDGE_BOOT, str(PACKAGE_ROOT), json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                env=_environment(sys.executable),
                pass_fds=[ours.fileno()],
                start_new_session=True,
            )
        finally:
            ours.close()
            theirs.close()

    def wait_ready(self) -> dict[str, Any]:
        try:
            self.info = self.recv()
        except (EOFError, ValueError):
            self.info = {}
        if not self.info.get("ready"):
            self.log.seek(0)
            detail = self.log.read().decode(errors="replace").strip().splitlines()[-5:]
            raise SandboxError(
                f"sandbox server failed to start with {self.interpreter}: " + " | ".join(detail)
            )
        return self.info

    def send(self, data: bytes) -> None:
        """Write one framed message to the judge."""
        self.judge.stdin.write(data)
        self.judge.stdin.flush()

    def fileno(self) -> int:
        return self.judge.stdout.fileno()

    def recv(self) -> dict[str, Any]:
        """One whole message of the judge (blocking; called once its pipe is readable)."""
        return wire.recv(self.fileno())

    def pids(self) -> list[int]:
        return [p.pid for p in (self.judge, self.sandbox) if p is not None]

    def hang_up(self) -> None:
        """Close the judge's input: it finishes its job and exits, and the sandbox server with it."""
        if self.judge is not None:
            try:
                self.judge.stdin.close()
            except OSError:
                pass

    def stop(self) -> None:
        if self.judge is None:
            return
        self.hang_up()
        for process in (self.judge, self.sandbox):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.judge.stdout.close()
        self.log.close()
        self.judge = self.sandbox = None

    def kill(self) -> None:
        for process in (self.judge, self.sandbox):
            if process is not None:
                try:
                    process.kill()
                except OSError:
                    pass

    def restart(self) -> None:
        if self.judge is not None:
            self.kill()
            self.stop()
        self.start()
        self.wait_ready()
