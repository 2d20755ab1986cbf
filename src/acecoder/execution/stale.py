"""Removing the cgroups that engines which died without closing left behind (killed Ray actors, crashed
trainers), while other engines start, run, close and sweep at the same moment.

An engine's groups are ``<root>/acecoder-e<base>/w<i>`` in each cgroup hierarchy; ``base`` is its uid range
(:mod:`acecoder.execution.uids`). A sweeper takes the range's lock before touching its groups, so no engine can
start on that range meanwhile; groups that vanish under it (another sweeper, the owner closing) count as
removed; groups still holding processes stay, and so does the lock file, for a later sweep to retry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from acecoder.execution.uids import StaleClaim

ENGINE_PREFIX = "acecoder-e"


def remove_stale_cgroups(roots: Iterable[str]) -> int:
    """Remove the groups of every engine under ``roots`` whose uid range no live engine holds; returns how many
    engines' groups are now gone. Never raises for a group another process removed or still uses."""
    by_base: dict[int, list[str]] = {}
    for root in roots:
        for name in _names(root):
            base = engine_base(name)
            if base is not None:
                by_base.setdefault(base, []).append(os.path.join(root, name))
    removed = 0
    for base, groups in sorted(by_base.items()):
        claim = StaleClaim.take(base)
        if claim is None:  # a live engine holds it, or its lock file is missing (unknown: leave it)
            continue
        gone = False
        try:
            gone = all([_remove_group(group) for group in groups])
        finally:
            claim.release(remove=gone)
        removed += gone
    return removed


def engine_base(name: str) -> int | None:
    """The uid base in an engine group's name (``acecoder-e1048576``), None for any other name."""
    digits = name[len(ENGINE_PREFIX) :]
    if not name.startswith(ENGINE_PREFIX) or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def _names(root: str) -> list[str]:
    try:
        return os.listdir(root)
    except OSError:
        return []


def _remove_group(path: str) -> bool:
    """Remove an engine's group and its worker groups; True when it is gone, whoever removed it."""
    try:
        with os.scandir(path) as entries:
            workers = [entry.name for entry in entries if entry.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return True
    except OSError:
        return False
    for worker in workers:
        try:
            os.rmdir(os.path.join(path, worker))
        except OSError:  # gone already, or processes still in it (then the engine's rmdir fails below)
            pass
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
