"""The judge process of one engine worker: reads jobs from the engine, drives its sandbox server, answers.

Started by :class:`acecoder.execution.worker.Worker` with the engine's interpreter. Its stdin and stdout are
the engine's pipes; the descriptor named in its configuration is its link to the worker's sandbox server.
Before the first job it confines itself: a network namespace with no interface, a mount namespace whose
mounts are all read-only, its own unprivileged uid (never the programs'), no new privileges, a memory cap.
An infrastructure error is reported only from what this process observes (the server died or broke the
protocol), never from anything a program wrote.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import tempfile
from collections import deque
from typing import Any

from acecoder.execution.judge.job import (
    JobRun,
    ServerGone,
    _on_judge_timeout,
    make_working_directory,
    recv_reply,
)
from acecoder.execution.sandbox import isolation, wire


def confine(config: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """Leave the network and make the file system read-only (as root), then become the judge's own uid."""
    info: dict[str, Any] = {"network": "host", "filesystem": "host", "uid": os.getuid()}
    memory = int(config.get("memory_mb", 8192)) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if os.getuid() == 0 and config.get("isolation", "auto") != "none":
        flags = isolation.CLONE_NEWNET | isolation.CLONE_NEWNS
        if isolation.libc.unshare(flags) == 0:
            info["network"] = "none"
            try:
                isolation.mount(None, "/", None, isolation.MS_REC | isolation.MS_PRIVATE)
                for point in _mount_points():
                    try:
                        isolation.mount(
                            None, point, None, isolation.MS_REMOUNT | isolation.MS_BIND | isolation.MS_RDONLY
                        )
                    except OSError:
                        pass
                info["filesystem"] = "host, read-only"
                info["scratch"] = _private_scratch(warnings)
            except OSError as e:
                warnings.append(f"judge: file system stays writable: {e}")
        else:
            warnings.append("judge: cannot leave the host network")
    uid = config.get("uid")
    if os.getuid() == 0 and uid is not None:
        # Its own uid (never a program's: no program can signal or trace it), keeping only the right to read
        # (the interpreter's tree may sit under a private home); the file system is read-only anyway.
        isolation.drop_to(uid, keep_read_search=True)
        info["uid"] = uid
    isolation.libc.prctl(isolation.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    isolation.libc.prctl(isolation.PR_SET_DUMPABLE, 0, 0, 0, 0)
    isolation.libc.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return info


SCRATCH = "/dev/shm"  # a private tmpfs is mounted over it, in the judge's own mount namespace only
SCRATCH_MB = 64


def _private_scratch(warnings: list[str]) -> str | None:
    """A small private tmpfs over /dev/shm (in this namespace only) for the files a test writes (its working
    directory and ``tempfile``'s): the rest of the file system is read-only."""
    try:
        isolation.mount(
            "tmpfs",
            SCRATCH,
            "tmpfs",
            isolation.MS_NOSUID | isolation.MS_NODEV,
            f"size={SCRATCH_MB}m,mode=1777",
        )
    except OSError as e:
        warnings.append(f"judge: no writable scratch for tests' files: {e}")
        return None
    tempfile.tempdir = SCRATCH
    return SCRATCH


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4].replace("\\040", " ") for line in f]


def main() -> None:
    config = json.loads(sys.argv[-1])
    engine_in, engine_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    link = socket.socket(fileno=int(config["link"]))
    warnings: list[str] = []
    info = confine(config, warnings)
    signal.signal(signal.SIGPROF, _on_judge_timeout)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        sandbox = wire.recv(link.fileno())
    except (EOFError, OSError, ValueError):
        sandbox = {"ready": False}
    ready = dict(sandbox, judge=info)
    ready["warnings"] = list(sandbox.get("warnings", [])) + warnings
    wire.send(engine_out, ready)
    if not sandbox.get("ready"):
        return
    work = make_working_directory()
    try:
        serve(engine_in, engine_out, link)
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


_IN_FLIGHT = 2  # batched requests queued at the sandbox server, so that it never waits for the judge


def serve(engine_in: int, engine_out: int, link: socket.socket) -> None:
    """Answer the engine's jobs in order. A job's batched request goes to the sandbox server at once, while
    the answers of earlier jobs are judged; a job that must talk to the server alone (stdin tests, tests run
    here) first collects the answers already asked for."""
    inflight: deque[list] = deque()  # [run, answer or None], oldest first
    engine_poll = select.poll()
    engine_poll.register(engine_in, select.POLLIN)
    closed = False

    def collect() -> None:
        for entry in inflight:
            if entry[1] is None:
                entry[1] = recv_reply(link)

    while not (closed and not inflight):
        while not closed and len(inflight) < _IN_FLIGHT and (not inflight or engine_poll.poll(0)):
            try:
                job = wire.recv(engine_in)
            except EOFError:
                closed = True
                break
            run = JobRun(job, link)
            try:
                waiting = run.begin()
            except ServerGone as e:
                _answer(engine_out, _gone(e))
                return
            inflight.append([run, None] if waiting else [run, (None, b"")])
        if not inflight:
            continue
        run, answer = inflight[0]
        try:
            if answer is None:
                answer = recv_reply(link)
            inflight.popleft()
            reply = run.resume(*answer, quiesce=collect)
        except ServerGone as e:
            _answer(engine_out, _gone(e))
            return
        except (EOFError, OSError, ValueError) as e:
            _answer(engine_out, _gone(ServerGone(str(e) or type(e).__name__)))
            return
        except Exception as e:  # a fault of ours, never a verdict
            inflight.popleft() if inflight and inflight[0][0] is run else None
            reply = {"infra": f"judge: {type(e).__name__}: {str(e)[:300]}", "retire": "a fault in the judge"}
        if not _answer(engine_out, reply):
            return


def _gone(error: Exception) -> dict:
    return {"infra": f"the sandbox server died: {error}", "retire": "the sandbox server died"}


def _answer(out: int, reply: dict) -> bool:
    """Send one job's answer; False when the worker must be replaced (the engine then resends the rest)."""
    wire.send(out, reply)
    return not reply.get("retire")


def run() -> None:
    """``main``, profiled when ``ACECODER_JUDGE_PROFILE`` is set (a developer's view, printed to the log)."""
    if not os.environ.get("ACECODER_JUDGE_PROFILE"):
        main()
        return
    import cProfile
    import pstats
    import time

    profile = cProfile.Profile(time.process_time)
    try:
        profile.runcall(main)
    finally:
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    run()
