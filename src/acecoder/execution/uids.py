"""A range of uids only this engine's sandboxes use, held with a lock file for the engine's lifetime.

Engines start, stop, die and sweep each other's leftovers at the same moment (verl starts eight reward workers
at once; killed Ray actors leave state behind), so every step here tolerates a file or directory that another
process creates, locks, unlinks or removes in between: a lock counts only on the file that is still at its path
(a process that unlinks a lock file does so while holding it, and whoever locked the unlinked inode in between
notices and locks the new file instead), and a missing lock file counts as held by a live engine.
"""

from __future__ import annotations

import fcntl
import os
import random
import time

# One place for every engine on the machine, whatever TMPDIR each was started with (Ray workers have their own).
_LOCK_DIR = "/run/acecoder-uids" if os.getuid() == 0 and os.path.isdir("/run") else "/tmp/acecoder-uids"
_FIRST, _LAST, _STRIDE = 1 << 20, 1 << 30, 1024
_ATTEMPTS = 8  # tries at locking a file that keeps being replaced under us


class UidRange:
    """``count`` consecutive uids starting at ``base``; a random free range unless ``base`` is given.

    A random range is locked exclusively. A given ``base`` (the caller chose it, and may share it) is locked
    shared when no random range holds it, only so that sweepers see it is alive."""

    def __init__(self, count: int, base: int | None = None):
        if count > _STRIDE:
            raise ValueError(f"at most {_STRIDE} workers per engine, got {count}")
        self._fd: int | None = None
        self._path = ""
        self._exclusive = base is None
        if base is not None:
            self.base = base
            self._lock(base, fcntl.LOCK_SH)
        else:
            rng = random.SystemRandom()
            for _ in range(64):
                candidate = rng.randrange(_FIRST // _STRIDE, _LAST // _STRIDE) * _STRIDE
                if self._lock(candidate, fcntl.LOCK_EX):
                    self.base = candidate
                    break
            else:
                raise RuntimeError(f"no free uid range found (lock files in {_LOCK_DIR})")
        self.name = f"e{self.base}"

    def _lock(self, base: int, mode: int) -> bool:
        path = lock_path(base)
        # A shared lock waits out a sweeper's brief claim (a given base may have a dead engine's leftovers).
        for _ in range(200 if mode == fcntl.LOCK_SH else 1):
            try:
                fd = _locked(path, mode, create=True)
            except OSError:
                return True  # no usable lock directory: a random range of 2^20 is collision-free in practice
            if fd is not None:
                break
            time.sleep(0.01)
        else:
            return False
        self._fd, self._path = fd, path
        return True

    @staticmethod
    def in_use(base: int) -> bool:
        """Whether a live engine may hold the range starting at ``base`` (an unknown range counts as held)."""
        claim = StaleClaim.take(base)
        if claim is None:
            return True
        claim.release(remove=False)
        return False

    def release(self) -> None:
        if self._fd is not None:
            if self._exclusive:  # unlinked while still held: see the module docstring
                try:
                    os.unlink(self._path)
                except OSError:
                    pass
            os.close(self._fd)
            self._fd = None


class StaleClaim:
    """The exclusive lock of a range no live engine holds, taken to remove what its dead engine left behind.

    While the claim is held no engine can take the range, so its leftovers can be removed without racing a new
    owner; :meth:`release` with ``remove=True`` then unlinks the lock file too."""

    def __init__(self, fd: int, path: str):
        self._fd, self.path = fd, path

    @classmethod
    def take(cls, base: int) -> StaleClaim | None:
        """The claim, or None when a live engine holds the range or its lock file is missing or unusable."""
        path = lock_path(base)
        try:
            fd = _locked(path, fcntl.LOCK_EX, create=False)
        except OSError:
            return None
        return None if fd is None else cls(fd, path)

    def release(self, *, remove: bool) -> None:
        if self._fd is None:
            return
        if remove:
            try:
                os.unlink(self.path)
            except OSError:
                pass
        os.close(self._fd)
        self._fd = None


def lock_path(base: int) -> str:
    return os.path.join(_LOCK_DIR, str(base))


def _locked(path: str, mode: int, *, create: bool) -> int | None:
    """A descriptor holding a ``mode`` lock (``LOCK_EX``/``LOCK_SH``) on the file that is at ``path`` now; None
    when another process holds a conflicting lock. OSError when there is no such file (``create=False``) or it
    cannot be created."""
    for _ in range(_ATTEMPTS):
        if create:
            os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        try:
            fd = os.open(path, (os.O_CREAT if create else 0) | os.O_RDWR | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            if not create:
                raise
            continue  # the directory was removed in between
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        if _is_at(fd, path):
            return fd
        os.close(fd)  # unlinked (released or swept) between our open and our lock: that lock guards nothing
        if not create:
            raise FileNotFoundError(path)
    raise OSError(f"{path}: replaced {_ATTEMPTS} times while being locked")


def _is_at(fd: int, path: str) -> bool:
    try:
        now = os.stat(path)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)
