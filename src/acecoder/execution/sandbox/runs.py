"""Running programs: one forked child per run, supervised from outside, cleaned up after.

A batched run executes the program and then its batched tests (split probes, or in-process tests where the
caller allows them); a test that crashes, exits or times out fails alone, and a fresh child re-runs the program
for the next test while the program's budget lasts. A serving run executes the program and then answers the
judge's calls on a channel until the judge hangs up. A stdin run executes the whole program once with a given
standard input and returns what it printed.

Limits are enforced from outside: CPU time over the whole process tree (the worker's cgroup), and a backstop on
the time the program spends neither running nor waiting for a CPU (it sleeps, blocks or waits on a child): a
loaded machine delays a program, but never makes it fail.
"""

import fcntl
import gc
import os
import select
import signal
import time

from . import board as board_mod
from . import child as _child
from . import cleanup, isolation, wire

_TICK = 0.02  # seconds between backstop checks while a child is silent
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_CHANNEL_FD, _SETUP_FD = 3, 4  # where a child finds its descriptors beside 0, 1 and 2


def _cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def waiting_seconds(pid):
    """Seconds the process spent runnable but waiting for a CPU (``/proc/PID/schedstat``): on a loaded
    machine this grows while the program is ready to run; it never counts as the program's idle time."""
    try:
        with open("/proc/%d/schedstat" % pid, "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _state(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode("ascii", "replace")
    except (OSError, IndexError):
        return "?"


def _pidfd_open(pid):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "signal%d" % number


def _drain(fd, buffer, cap):
    """Read what the pipe holds (bounded), keeping the first ``cap`` bytes; False at end of file."""
    for _ in range(64):
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        if len(buffer) < cap:
            buffer += data[: cap - len(buffer)]
    return True


def _place(pairs):
    """dup2 each (source, target) without one move clobbering another's source."""
    moved = [(fcntl.fcntl(source, fcntl.F_DUPFD, 64), target) for source, target in pairs]
    for source, target in moved:
        os.dup2(source, target)
        os.close(source)


class Runs:
    """The run methods of the sandbox server (mixed into :class:`.server.Server`)."""

    # ---------------------------------------------------------------------------------------- batched/serve
    def run(self, job, channel=None, link=None):
        """The program and its batched tests, or (with ``channel``) the program, then the judge's calls."""
        limits = job["limits"]
        tests = job.get("tests") or []
        n = len(tests)
        result = {"results": [0] * n, "errors": [None] * n, "setup": None, "restarts": 0, "cpu": 0.0}
        self.values = {}
        self.values_data = bytearray()
        output = bytearray()
        started = time.monotonic()
        timeouts = limits.get("timeouts") or [limits["timeout"]] * n
        limits = dict(limits, timeouts=timeouts, stop_on_failure=job.get("stop_on_failure", False))
        program = self.compiled_program(job["program"])
        if isinstance(program, str):
            result["setup"], program = "compile:" + program, None
        self._apply_cgroup_limits(limits)
        budget = job.get("budget") or limits.get("program_timeout") or float("inf")
        # The program's idle allowance across its restarts: a program that blocks (sockets, sleeps) uses no
        # CPU, and each restart would otherwise get a fresh allowance.
        self.idle_left = budget * limits["wall_factor"] + limits["wall_extra"]
        if program is not None and channel is not None:
            self._run_child(
                program, [], 0, limits, result, output, budget, channel, link, job.get("serve_limit")
            )
        elif program is not None and n:
            code = self.compiled_tests(tests, limits.get("strict_equality", True))
            next_test = 0
            while next_test < n:
                left = budget - result["cpu"]
                if left <= 0 or self.idle_left <= 0:
                    for index in range(next_test, n):
                        result["errors"][index] = "timeout:budget"
                    break
                next_test = self._run_child(program, code, next_test, limits, result, output, left)
                if result["setup"] is not None:
                    break
                if next_test < n and not self.skipping:
                    result["restarts"] += 1
                if self.skipping:
                    for index in range(next_test, n):
                        result["errors"][index] = "skipped"
                    break
        if (
            result["setup"] is not None
        ):  # tests judged before a re-run of the program failed keep their verdicts
            failed = "setup:" + result["setup"]
            result["errors"] = [
                error if passed or error else failed
                for passed, error in zip(result["results"], result["errors"])
            ]
        result["output"] = output.decode("utf-8", "replace")
        result["wall"] = time.monotonic() - started
        index, blob = [], bytearray()
        for test, (offset, length) in sorted(self.values.items()):
            index.append([test, len(blob), length])
            blob += self.values_data[offset : offset + length]
        result["values"] = index
        return result, bytes(blob)

    def compiled_program(self, source):
        """The program's code object (the last one is kept: stdin tests run one program many times)."""
        if self.last_program is not None and self.last_program[0] == source:
            return self.last_program[1]
        try:
            code = compile(source, "<program>", "exec", dont_inherit=True, optimize=0)
        except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError) as e:
            code = type(e).__name__
        self.last_program = (source, code)
        return code

    # ----------------------------------------------------------------------------------------------- stdin
    def run_stdin(self, job):
        """The whole program once, with ``job["stdin"]`` as its standard input; what it printed on stdout."""
        limits = job["limits"]
        started = time.monotonic()
        program = self.compiled_program(job["program"])
        if isinstance(program, str):
            return {"status": "compile:" + program, "stdout": "", "cpu": 0.0, "wall": 0.0, "output": ""}, b""
        self._apply_cgroup_limits(limits)
        timeout = float(job.get("timeout") or limits["timeout"])
        budget = min(timeout, float(job.get("budget") or timeout))
        self.idle_left = timeout * limits["wall_factor"] + limits["wall_extra"]
        data = job.get("stdin", "").encode("utf-8", "surrogateescape")
        stdin_fd = os.memfd_create("stdin", 0) if hasattr(os, "memfd_create") else None
        if stdin_fd is None:  # pragma: no cover (Linux has memfd_create)
            raise RuntimeError("stdin tests need os.memfd_create")
        try:
            wire.write_all(stdin_fd, data)
            os.lseek(stdin_fd, 0, os.SEEK_SET)
            stdout, output = bytearray(), bytearray()
            result = {"setup": None, "cpu": 0.0, "results": [], "errors": []}
            stage = {"stdin": stdin_fd, "stdout": stdout, "cap": max(limits["value_bytes"], 1 << 16)}
            limits = dict(
                limits, timeouts=[timeout], stop_on_failure=False, setup_timeout=timeout, whole_program=True
            )
            self._run_child(program, [], 0, limits, result, output, budget, stdio=stage)
        finally:
            os.close(stdin_fd)
        # a kill after the top level ended (its threads still running, see child._join_threads) is the test's too
        status = result["setup"] or result.get("ended") or "ok"
        return {
            # one test, one budget: running out of it is this test's timeout
            "status": "timeout" if status == "timeout:budget" else status,
            "stdout": stdout[: stage["cap"]].decode("utf-8", "surrogateescape"),
            "truncated": stage.get("truncated", False),
            "cpu": result["cpu"],
            "wall": time.monotonic() - started,
            "output": output.decode("utf-8", "replace"),
        }, b""

    # ----------------------------------------------------------------------------------------------- one child
    def _run_child(
        self,
        program,
        tests,
        start,
        limits,
        result,
        output,
        budget,
        channel=None,
        link=None,
        serve_limit=None,
        stdio=None,
    ):
        """Run one child from test ``start``; record its verdicts; return the next test still to run."""
        n = len(tests)
        board = self.board
        board.reset(n)
        board_mod.reset_arena(self._arena(limits["value_bytes"]))
        self.skipping = False
        output_r, output_w = os.pipe()
        setup_r, setup_w = os.pipe()
        stdout_r = stdout_w = None
        if stdio is not None:
            stdout_r, stdout_w = os.pipe()
        stage_limit = limits["setup_timeout"] + sum(limits["timeouts"][start:])
        if serve_limit is not None:
            stage_limit = limits["setup_timeout"] + float(serve_limit)
        cpu_limit = min(budget, stage_limit)
        self._prepare_scratch()
        cpu_before = self.cgroup.cpu_seconds() if self.cgroup is not None else 0.0
        oom_before = self.cgroup.oom_kills() if self.cgroup is not None else 0
        gc.freeze()  # the child's collector then never walks (and so never copies) the server's objects
        pid = os.fork()
        if pid == 0:
            try:
                fds = {"output": output_w, "setup": setup_w, "channel": channel, "stdout": stdout_w}
                if stdio is not None:
                    fds["stdin"] = stdio["stdin"]
                self._child(program, tests, start, limits, board, fds, cpu_limit)
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:  # whatever happened in the child, it never returns into the server's loop
                os._exit(70)
        os.close(output_w)
        os.close(setup_w)
        os.set_blocking(output_r, False)
        pipes = {output_r: (output, limits["output_bytes"])}
        if stdout_w is not None:
            os.close(stdout_w)
            os.set_blocking(stdout_r, False)
            pipes[stdout_r] = (stdio["stdout"], stdio["cap"] + 1)  # one byte more: truncation shows
        if channel is not None:
            os.close(channel)
        gc.unfreeze()
        self.set_up = bytearray()
        killed, status = self._supervise(pid, board, limits, pipes, cpu_limit, stage_limit, link, setup_r)
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if status is None:
            _, status = os.waitpid(pid, 0)
        if self.cgroup is not None and not self.cgroup.kill_all():
            self.retire = "processes survive in the worker's cgroup"
        if self.cgroup is None:  # with one, killing the cgroup's processes got the orphans too
            self._reap_orphans()
        for fd, (buffer, cap) in pipes.items():
            _drain(fd, buffer, cap)
            os.close(fd)
        if stdio is not None and len(stdio["stdout"]) > stdio["cap"]:
            stdio["truncated"] = True
        _drain(setup_r, self.set_up, 4096)
        os.close(setup_r)
        set_up = bytes(self.set_up)
        # written before any program code ran (the child closes the pipe before the program): its pid when it
        # set itself up, else why it could not
        if set_up and not (len(set_up) == _child.SET_UP.size and set_up[0] == 0):
            raise RuntimeError("sandbox child could not set itself up: " + set_up.decode("utf-8", "replace"))
        used = (self.cgroup.cpu_seconds() - cpu_before) if self.cgroup is not None else self.last_cpu
        result["cpu"] += used
        oom = self.cgroup is not None and self.cgroup.oom_kills() > oom_before
        self._release_scratch()
        self._collect_values(start, n)
        return self._verdicts(board, start, n, limits, result, killed, status, used, budget, oom, channel)

    def _verdicts(self, board, start, n, limits, result, killed, status, used, budget, oom, channel):
        """Read the board into ``result``; return the next test still to run. A serving or stdin run (no
        batched tests) that did not end cleanly records why in ``result["ended"]``."""
        setup = board.verdict(-1)
        if setup is not None and setup != "pass":
            result["setup"] = _label(setup)
            return n
        if setup is None and limits.get("whole_program") and not killed and _clean_exit(status):
            return n  # a whole program may end with os._exit(0), as in a terminal
        index = start
        if setup is not None:
            for index in range(start, n):
                verdict = board.verdict(index)
                if verdict is None:
                    break
                result["results"][index] = 1 if verdict == "pass" else 0
                result["errors"][index] = None if verdict == "pass" else _label(verdict)
                if limits["stop_on_failure"] and verdict not in ("pass", "values"):
                    self.skipping = True
                    return index + 1
            else:
                index = n
            if index >= n and (n > 0 or (not killed and _clean_exit(status))):
                return n
        if killed == "abort":
            reason = "aborted"
        elif killed == "budget" or used >= budget:
            reason = "timeout:budget"
        elif killed or (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU):
            reason = "timeout"
        elif oom:
            reason = "memory"
        elif os.WIFSIGNALED(status):
            reason = "crash:" + _signal_name(os.WTERMSIG(status))
        else:
            reason = "exit"
        if setup is None:
            result["setup"] = reason
            return n
        if index >= n:
            result["ended"] = reason
            return n
        result["errors"][index] = reason
        if reason == "timeout:budget":
            for later in range(index + 1, n):
                result["errors"][later] = "timeout:budget"
            return n
        if limits["stop_on_failure"]:
            self.skipping = True
        return index + 1

    def _arena(self, size):
        """The shared memory a child appends its value records to (its first 4 bytes: the bytes used)."""
        if self.arena is None or len(self.arena) != size + board_mod.ARENA_HEADER.size:
            if self.arena is not None:
                self.arena.close()
            self.arena = board_mod.new_arena(size)
        return self.arena

    def _collect_values(self, start, n):
        """Copy this child's value records out of the arena (the first record of a test wins)."""
        for test, data in board_mod.records(self.arena, start, n):
            if test not in self.values:
                self.values[test] = (len(self.values_data), len(data))
                self.values_data += data

    def _child(self, program, tests, start, limits, board, fds, cpu_limit):
        """The forked child's set-up as root, then the harness (never returns)."""
        try:
            if self.cgroup is not None:  # first: its descriptors may sit where the moves below put others
                for fd in self.cgroup.join_fds:
                    os.write(fd, b"0")
            moves = [(fds["output"], 2), (fds["setup"], _SETUP_FD)]
            moves.append((fds["stdout"] if fds["stdout"] is not None else fds["output"], 1))
            if fds.get("stdin") is not None:
                moves.append((fds["stdin"], 0))
            if fds["channel"] is not None:
                moves.append((fds["channel"], _CHANNEL_FD))
            _place(moves)
        except BaseException as e:
            _child.report_setup_failure(fds["setup"], e)
        try:
            if fds["channel"] is None:
                try:
                    os.close(_CHANNEL_FD)
                except OSError:
                    pass
            os.closerange(_SETUP_FD + 1, 1 << 16)
            os.setsid()
            os.chdir(self.scratch)
            nproc = limits["max_processes"] + 1 if self.uid is not None else 0
            _child.set_limits(limits, cpu_limit, nproc)
        except BaseException as e:
            _child.report_setup_failure(_SETUP_FD, e)
        uid, keep = self.uid, self.keep_read_search
        _child.run(
            program,
            tests,
            start,
            limits,
            board,
            self.arena,
            lambda: isolation.drop_to(uid, keep),
            self.arm_audit_hook,
            cpu_limit,
            _SETUP_FD,
            _CHANNEL_FD if fds["channel"] is not None else None,
        )

    def _supervise(self, pid, board, limits, pipes, budget, stage_limit, link, setup_r):
        """Wait for the child to end, draining its pipes; kill it at its CPU limits, or when it has been idle
        (neither running nor waiting for a CPU) past its allowance. While it answers the judge's calls, the
        judge watches its idle time per call (through ``status`` requests on ``link``), since the child then
        also waits for the judge. Return (why it was killed or None, wait status or None)."""
        poller = select.poll()
        for fd in pipes:
            poller.register(fd, select.POLLIN)
        os.set_blocking(setup_r, False)
        poller.register(setup_r, select.POLLIN)
        own_pid = pid  # the child's pid in this process's /proc (its PID namespace's), once it reports it
        if link is not None:
            poller.register(link.fileno(), select.POLLIN)
        pidfd = _pidfd_open(pid)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        tick = _TICK if pidfd is not None else 0.002
        seen, stage_wall, stage_cpu, stage_wait = None, time.monotonic(), 0.0, 0.0
        child_wall = stage_wall
        cpu_start = self._tree_cpu(pid)
        # Idle allowances for the whole child that nothing the program writes can move (it could rewrite
        # the board): over this child, and over the program's every run.
        child_idle = stage_limit * limits["wall_factor"] + limits["wall_extra"]
        idle_left = self.idle_left
        self.last_cpu = 0.0
        idle = 0.0
        try:
            while True:
                for fd, _ in poller.poll(tick * 1000):
                    if fd == pidfd:
                        if self.cgroup is None:
                            self.last_cpu = _cpu_seconds(pid)
                        return None, None
                    if fd == setup_r:
                        if not _drain(setup_r, self.set_up, 4096):
                            poller.unregister(setup_r)
                        if len(self.set_up) == _child.SET_UP.size and self.set_up[0] == 0:
                            own_pid = _child.SET_UP.unpack(bytes(self.set_up))[1]
                        continue
                    if link is not None and fd == link.fileno():
                        if self._answer_judge(link, own_pid, cpu_start):
                            return "abort", None
                        continue
                    buffer, cap = pipes[fd]
                    if not _drain(fd, buffer, cap):
                        poller.unregister(fd)
                if pidfd is None:
                    self.last_cpu = _cpu_seconds(pid)
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        return None, status
                now = time.monotonic()
                cpu = self._tree_cpu(own_pid) - cpu_start
                stage = board.stage()[0]
                if stage != seen:
                    # the time waited for a CPU is a file read: only once a check could need it
                    stage_wait = waiting_seconds(own_pid) if now - child_wall > 0.25 else 0.0
                    seen, stage_wall, stage_cpu = stage, now, cpu
                if cpu > budget * 1.1 + 0.05:
                    return "budget", None
                if stage == _child.SERVING:
                    self.idle_left = idle_left - idle
                    continue  # the judge watches idle time while the child serves it
                stage_budget = (
                    limits["setup_timeout"]
                    if stage < 0
                    else limits["timeouts"][min(stage, len(limits["timeouts"]) - 1)]
                )
                if cpu - stage_cpu > stage_budget * 1.1 + 0.05:
                    return "cpu", None
                stage_allowance = stage_budget * limits["wall_factor"] + limits["wall_extra"]
                if now - child_wall <= min(idle_left, child_idle) and now - stage_wall <= stage_allowance:
                    continue  # not even the wall-clock time reaches an idle allowance yet
                waited = waiting_seconds(own_pid)
                idle = (now - child_wall) - cpu - waited
                stage_idle = (now - stage_wall) - (cpu - stage_cpu) - (waited - stage_wait)
                self.idle_left = idle_left - idle
                if idle > idle_left:
                    return "budget", None
                if idle > child_idle or stage_idle > stage_allowance:
                    return "wall", None
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _answer_judge(self, link, pid, cpu_start):
        """A request of the judge while the child serves it: ``status`` (the child's CPU, its time waiting for
        a CPU and its state, for the judge's idle watch) or ``abort``. True to abort."""
        try:
            request = wire.recv(link.fileno())
        except (EOFError, OSError, ValueError):
            return True
        if request.get("op") == "status":
            wire.send(
                link.fileno(),
                {
                    "cpu": self._tree_cpu(pid) - cpu_start,
                    "waited": waiting_seconds(pid),
                    "state": _state(pid),
                },
            )
            return False
        return True

    def _tree_cpu(self, pid):
        return self.cgroup.cpu_seconds() if self.cgroup is not None else _cpu_seconds(pid)

    def _apply_cgroup_limits(self, limits):
        wanted = (limits["memory_mb"], limits["max_processes"])
        if self.cgroup is None or wanted == self.cgroup_limits:
            return
        self.cgroup.set_limits(wanted[0] * 1024 * 1024, wanted[1])
        self.cgroup_limits = wanted

    # ---------------------------------------------------------------------------------------------- scratch
    def _mount_scratch(self):
        """One tmpfs per server for the programs' scratch space: root-owned, sticky and world-writable, so a
        program can create anything in it but can neither remove nor unmount it."""
        opts = "size=%dm,mode=1777" % self.scratch_mb
        isolation.mount("tmpfs", self.scratch, "tmpfs", isolation.MS_NOSUID | isolation.MS_NODEV, opts)

    def _prepare_scratch(self):
        """A fresh IPC namespace when the last program left an IPC object (SysV or POSIX), so none outlives it;
        looking costs far less than a new namespace for every program."""
        if self.scratch_is_mount and isolation.ipc_objects_left():
            isolation.new_ipc_namespace()

    def _release_scratch(self):
        """Empty the scratch space however the program left it (deep, long-named, locked); when that fails, a
        fresh tmpfs replaces it; when that fails too, the server retires."""
        try:
            cleanup.empty_directory(self.scratch)
            if not self.scratch_is_mount:  # the program owns this one and may have locked it
                os.chmod(self.scratch, 0o700)
            return
        except OSError as e:
            reason = "cannot empty the scratch space: %s" % e
        if self.scratch_is_mount:
            try:
                isolation.umount(self.scratch)
                self._mount_scratch()
                return
            except OSError as e:
                reason += "; cannot remount it: %s" % e
        self.retire = reason

    def _reap_orphans(self):
        """Kill whatever the child left behind, however it detached: orphans go to the PID namespace's init
        (or to this server, a subreaper, without one), whose children list names them."""
        parent = self.init_pid or os.getpid()
        children_file = "/proc/%d/task/%d/children" % (parent, parent)
        for _ in range(10000):
            try:
                with open(children_file) as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                pids = []
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if self.init_pid is None:
                for pid in pids:
                    try:
                        os.waitpid(pid, 0)
                    except ChildProcessError:
                        pass
            else:
                time.sleep(0.0005)  # the namespace's init reaps them
        if self.init_pid is None:
            while True:
                try:
                    if os.waitpid(-1, os.WNOHANG)[0] == 0:
                        break
                except ChildProcessError:
                    break


_VERDICT_WORDS = frozenset(
    ["pass", "values", "raised", "timeout", "timeout:budget", "exit", "memory", "assertion", "recursion"]
)


def _label(verdict):
    """A board verdict as an engine label: the board is the program's to write, so anything outside the
    engine's vocabulary (a label no child of ours writes) is reduced to a generic error."""
    if verdict in _VERDICT_WORDS:
        return verdict
    kind, _, rest = verdict.partition(":")
    if kind in ("error", "compile", "crash") and rest.replace("_", "").isalnum() and len(rest) <= 40:
        return verdict
    if kind == "test" and len(verdict) <= 60:
        return "test:" + rest
    return "error:Exception"


def _clean_exit(status):
    return status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
