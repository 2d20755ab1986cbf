"""Engines that start, sweep and die at the same moment: stale cgroups and uid locks under concurrency.

verl starts eight reward workers at once and killed Ray actors leave their engines' cgroups behind; the old sweep
crashed with FileNotFoundError when another process removed a group it was listing. These tests run the sweep
and engine start-up in several processes at once (not threads: the races are between processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from acecoder.execution import uids
from acecoder.execution.stale import engine_base, remove_stale_cgroups

ROOTS = ("memory", "pids")  # two hierarchies, as cgroup v1 has several
STALE, LIVE = 200, 10


def _run_all(scripts: list[str], timeout: float = 120) -> list[subprocess.CompletedProcess]:
    """Start every script at once, each in its own interpreter, and wait for all of them."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for script in scripts
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _fake_state(tmp_path: Path) -> tuple[Path, list[int], list[int]]:
    """Fake cgroup roots holding STALE dead engines (free lock files) and LIVE ones (locks to be held)."""
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    stale = [uids._FIRST + i * uids._STRIDE for i in range(STALE)]
    live = [uids._FIRST + (STALE + i) * uids._STRIDE for i in range(LIVE)]
    for root in ROOTS:
        for base in stale + live:
            for worker in ("w0", "w1"):
                (tmp_path / root / f"acecoder-e{base}" / worker).mkdir(parents=True)
    for base in stale + live:
        (lock_dir / str(base)).touch()
    (tmp_path / "memory" / "acecoder-e7x").mkdir()  # not an engine's name: never touched
    return lock_dir, stale, live


_PRELUDE = """
import fcntl, os, sys, time
from acecoder.execution import uids
uids._LOCK_DIR = {lock_dir!r}
"""


def test_many_processes_sweep_the_same_stale_groups_while_engines_take_ranges(tmp_path):
    lock_dir, stale, live = _fake_state(tmp_path)
    roots = [str(tmp_path / r) for r in ROOTS]
    prelude = _PRELUDE.format(lock_dir=str(lock_dir))
    # The live engines hold their locks for the whole test, from another process.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            prelude
            + textwrap.dedent(f"""
            fds = []
            for base in {live!r}:
                fd = os.open(uids.lock_path(base), os.O_RDWR)
                fcntl.flock(fd, fcntl.LOCK_EX)
                fds.append(fd)
            print("held", flush=True)
            sys.stdin.read()
            """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        sweeper = prelude + textwrap.dedent(f"""
            from acecoder.execution.stale import remove_stale_cgroups
            print(remove_stale_cgroups({roots!r}))
            """)
        # New engines take random ranges meanwhile and must still hold their lock file when the sweeps end.
        starter = prelude + textwrap.dedent("""
            mine = [uids.UidRange(4) for _ in range(20)]
            time.sleep(0.5)
            for r in mine:
                assert os.path.samestat(os.fstat(r._fd), os.stat(r._path)), r.base
            print(len({r.base for r in mine}))
            """)
        results = _run_all([sweeper] * 6 + [starter] * 2)
    finally:
        holder.stdin.close()
        holder.wait(10)
    for result in results:
        assert result.returncode == 0, result.stderr
    assert sum(int(r.stdout) for r in results[:6]) == STALE  # each dead engine removed exactly once
    assert [int(r.stdout) for r in results[6:]] == [20, 20]
    for root in ROOTS:
        left = {p.name for p in (tmp_path / root).iterdir()}
        assert left == {f"acecoder-e{b}" for b in live} | ({"acecoder-e7x"} if root == "memory" else set())
        assert all(len(list((tmp_path / root / f"acecoder-e{b}").iterdir())) == 2 for b in live)
    locks = {p.name for p in lock_dir.iterdir()}
    assert {str(b) for b in live} <= locks and not locks & {str(b) for b in stale}


def test_a_group_that_cannot_be_removed_keeps_its_lock_for_a_later_sweep(tmp_path, monkeypatch):
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir()
    monkeypatch.setattr(uids, "_LOCK_DIR", str(lock_dir))
    busy, gone, unknown = uids._FIRST, uids._FIRST + uids._STRIDE, uids._FIRST + 2 * uids._STRIDE
    for base in (busy, gone, unknown):
        (tmp_path / "cg" / f"acecoder-e{base}" / "w0").mkdir(parents=True)
    (tmp_path / "cg" / f"acecoder-e{busy}" / "w0" / "cgroup.procs").write_text(
        "123\n"
    )  # stands for a process
    (lock_dir / str(busy)).touch()
    (lock_dir / str(gone)).touch()  # `unknown` has no lock file: it may be a live engine's, left alone
    assert remove_stale_cgroups([str(tmp_path / "cg"), str(tmp_path / "no-such-root")]) == 1
    assert sorted(p.name for p in (tmp_path / "cg").iterdir()) == [
        f"acecoder-e{busy}",
        f"acecoder-e{unknown}",
    ]
    assert sorted(p.name for p in lock_dir.iterdir()) == [str(busy)]
    assert not uids.UidRange.in_use(busy) and uids.UidRange.in_use(unknown)


def test_a_lock_file_replaced_under_a_locker_is_locked_afresh(tmp_path, monkeypatch):
    """The race the inode check closes: A opens the lock file, its owner unlinks it and closes, A locks the
    unlinked file; without the check a third engine would lock the new file and share the range with A."""
    monkeypatch.setattr(uids, "_LOCK_DIR", str(tmp_path))
    path = uids.lock_path(uids._FIRST)
    Path(path).touch()  # an engine's lock file
    real_flock, calls = uids.fcntl.flock, []

    def flock_after_release(fd, mode):
        calls.append(fd)
        if len(calls) == 1:
            os.unlink(path)  # the owner releases between our open and our lock
        return real_flock(fd, mode)

    monkeypatch.setattr(uids.fcntl, "flock", flock_after_release)
    fd = uids._locked(path, uids.fcntl.LOCK_EX, create=True)
    assert fd is not None and os.path.samestat(os.fstat(fd), os.stat(path))
    assert len(calls) == 2  # the first lock, on the unlinked file, was dropped
    os.close(fd)


def test_engine_names():
    assert engine_base("acecoder-e1048576") == 1048576
    assert [engine_base(n) for n in ("acecoder-e", "acecoder-e12a", "acecoder-e²", "other-e1")] == [None] * 4


# ---- real engines ---------------------------------------------------------------------------------------------

_ENGINE = """
import json, sys
from acecoder.execution import ExecutionEngine, Job, Limits
engine = ExecutionEngine(workers=1, limits=Limits(timeout=2.0)).start()
print(json.dumps(sorted(engine._cgroup_dirs)), flush=True)
"""


def _cgroups_available() -> bool:
    if os.getuid() != 0:
        return False
    done = subprocess.run(
        [sys.executable, "-c", _ENGINE + "engine.close()"], capture_output=True, text=True, timeout=120
    )
    return done.returncode == 0 and json.loads(done.stdout.splitlines()[0]) != []


@pytest.mark.slow
def test_many_engines_start_at_once_over_killed_engines_groups():
    """Kill engines (their cgroups and lock files stay), then start six engines at once in six processes: every
    one starts and runs a program, and the dead engines' groups are gone."""
    if not _cgroups_available():
        pytest.skip("needs root and cgroups (the sandbox runs without them here)")
    dead = []
    for _ in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-c", _ENGINE + "import time; time.sleep(600)"],
            stdout=subprocess.PIPE,
            text=True,
        )
        dead.append((proc, json.loads(proc.stdout.readline())))
    for proc, _dirs in dead:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    leftovers = [d for _proc, dirs in dead for d in dirs]
    time.sleep(0.5)  # the killed engines' sandbox servers die with them (parent-death signal)
    assert any(os.path.isdir(d) for d in leftovers)
    run = _ENGINE + textwrap.dedent("""
        [result] = engine.run([Job("def f():\\n    return 1\\n", ("assert f() == 1",))])
        assert result.passed_all, result
        engine.close()
        print("ok")
        """)
    results = _run_all([run] * 6, timeout=300)
    for result in results:
        assert result.returncode == 0 and result.stdout.splitlines()[-1] == "ok", result.stderr
    assert [d for d in leftovers if os.path.isdir(os.path.dirname(d))] == []
