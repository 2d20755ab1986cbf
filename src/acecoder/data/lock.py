"""One writer per output: every verb locks the files it writes, and ``acecoder run`` its run directory.

A lock is a file beside what it guards (``OUT.lock``; ``RUN_DIR/.lock``) holding the writer's pid, command line
and start time, with an exclusive ``flock`` on it for as long as the writer runs. The kernel drops the flock when
the process dies (``kill -9`` included), so a crashed run never blocks the next one; a second writer fails at once
with :class:`LockedError`, whose one-line message names the running process. The lock file is removed on release
(a kill leaves it behind, unlocked and harmless). Locks are re-entrant within a process: a verb holds its
output's lock and the checkpoint it opens takes the same lock again without conflict.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_SUFFIX = ".lock"


class LockedError(RuntimeError):
    """Another process holds the lock; the message names it (pid, command, since when)."""

    def __init__(self, message: str, holder: Holder):
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its lock file says."""

    pid: int | None
    command: str | None
    started: float | None

    def describe(self) -> str:
        if self.pid is None:
            return "another process (it has not written its pid yet)"
        since = f", since {time.strftime('%H:%M:%S', time.localtime(self.started))}" if self.started else ""
        command = f" ({self.command})" if self.command else ""
        return f"pid {self.pid}{command}{since}"


def lock_path(target: str | os.PathLike) -> Path:
    """The lock file of an output file or folder: ``OUT.lock`` beside it."""
    target = Path(target)
    return target.with_name(target.name + LOCK_SUFFIX)


def _command() -> str:
    argv = list(sys.argv) or ["python"]
    argv[0] = "python -c" if argv[0] == "-c" else os.path.basename(argv[0])
    text = " ".join([argv[0], *(shlex.quote(a) for a in argv[1:])])
    return text if len(text) <= 300 else text[:297] + "..."


def _read_holder(path: Path) -> Holder:
    """The holder recorded in a lock file (retrying briefly: a new holder writes it just after locking)."""
    for _ in range(20):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("pid"), int):
            return Holder(data["pid"], data.get("command"), data.get("started"))
        time.sleep(0.01)
    return Holder(None, None, None)


def holder(path: str | os.PathLike) -> Holder | None:
    """Who holds the lock file ``path`` now, or None when nobody does (a probe: creates nothing)."""
    if Path(os.path.abspath(path)) in _HELD:
        return Holder(os.getpid(), _command(), None)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(Path(path))
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


# Locks this process holds: lock file -> [lock, depth].
_HELD: dict[Path, list[Any]] = {}


class WriteLock:
    """An exclusive, re-entrant lock on ``target`` (a file or folder this process is about to write).

    ``path``: the lock file (default :func:`lock_path`). Missing parent folders are created on acquiring; those
    created here are removed again on release when they are still empty, so a run that stops before writing
    anything leaves nothing behind."""

    def __init__(self, target: str | os.PathLike, *, path: str | os.PathLike | None = None):
        self.target = Path(target)
        self.path = Path(path) if path is not None else lock_path(self.target)
        self._fd: int | None = None
        self._created: list[Path] = []

    @property
    def key(self) -> Path:
        return Path(os.path.abspath(self.path))

    def acquire(self) -> WriteLock:
        held = _HELD.get(self.key)
        if held is not None:
            held[1] += 1
            return self
        self._created = _make_parents(self.path.parent)
        try:
            self._fd = _lock(self.path, self.target)
        except BaseException:
            _remove_empty(self._created)
            raise
        _HELD[self.key] = [self, 1]
        return self

    def release(self) -> None:
        held = _HELD.get(self.key)
        if held is None:
            return
        held[1] -= 1
        if held[1] > 0:
            return
        del _HELD[self.key]
        owner: WriteLock = held[0]
        if owner._fd is not None:
            try:
                if _same_file(owner._fd, owner.path):
                    owner.path.unlink()
            except OSError:
                pass
            os.close(owner._fd)  # unlocks
            owner._fd = None
        _remove_empty(owner._created)

    def __enter__(self) -> WriteLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()


def _lock(path: Path, target: Path) -> int:
    """Open, flock and claim the lock file; :class:`LockedError` naming the holder when another process has it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            who = _read_holder(path)
            kill = f" (kill {who.pid})" if who.pid is not None else ""
            raise LockedError(
                f"{target}: another acecoder process is writing it: {who.describe()}; wait for it to end or stop "
                f"it{kill}, then rerun",
                who,
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if not _same_file(fd, path):  # the previous holder removed the file after we opened it: start over
            os.close(fd)
            continue
        info = {"pid": os.getpid(), "command": _command(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        return fd


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _make_parents(folder: Path) -> list[Path]:
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        missing.append(parent)
    folder.mkdir(parents=True, exist_ok=True)
    return missing  # deepest first


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


__all__ = ["Holder", "LockedError", "WriteLock", "holder", "lock_path"]
