"""A range of uids only this engine's sandboxes use, held with a lock file for the engine's lifetime."""

from __future__ import annotations

import fcntl
import os
import random

# One place for every engine on the machine, whatever TMPDIR each was started with (Ray workers have their own).
_LOCK_DIR = "/run/acecoder-uids" if os.getuid() == 0 and os.path.isdir("/run") else "/tmp/acecoder-uids"
_FIRST, _LAST, _STRIDE = 1 << 20, 1 << 30, 1024


class UidRange:
    """``count`` consecutive uids starting at ``base``; a random free range unless ``base`` is given."""

    def __init__(self, count: int, base: int | None = None):
        if count > _STRIDE:
            raise ValueError(f"at most {_STRIDE} workers per engine, got {count}")
        self._fd: int | None = None
        self._path = ""
        if base is not None:
            self.base = base
        else:
            rng = random.SystemRandom()
            for _ in range(64):
                candidate = rng.randrange(_FIRST // _STRIDE, _LAST // _STRIDE) * _STRIDE
                if self._lock(candidate):
                    self.base = candidate
                    break
            else:
                raise RuntimeError(f"no free uid range found (lock files in {_LOCK_DIR})")
        self.name = f"e{self.base}"

    def _lock(self, base: int) -> bool:
        try:
            os.makedirs(_LOCK_DIR, mode=0o755, exist_ok=True)
            fd = os.open(os.path.join(_LOCK_DIR, str(base)), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o644)
        except OSError:
            return True  # no lock directory: a random range of 2^20 is collision-free in practice
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd, self._path = fd, os.path.join(_LOCK_DIR, str(base))
        return True

    @staticmethod
    def in_use(base: int) -> bool:
        """Whether a live engine may hold the range starting at ``base`` (an unknown range counts as held)."""
        try:
            fd = os.open(os.path.join(_LOCK_DIR, str(base)), os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except OSError:
            return True
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None
