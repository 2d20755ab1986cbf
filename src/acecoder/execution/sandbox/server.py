"""The sandbox fork server: a small, stdlib-only process that runs untrusted programs, one forked child each.

Started by :mod:`acecoder.execution.engine` with the configured interpreter (it never imports acecoder, so any
Python >= 3.8 works). It enters its isolation once (namespaces, a minimal read-only root, a fresh /proc,
seccomp, a cgroup for the worker), then serves jobs read from stdin and answers on stdout, each message a
4-byte big-endian length followed by JSON (a reply is followed by a second frame: the raw probe values).

Per job it forks a child in a fresh IPC namespace, on a fresh scratch tmpfs, in the worker's cgroup, under
the worker's own uid; the child runs the program, then each test. A test that crashes, exits or times out
fails alone: the server starts a fresh child that re-runs the program and goes on with the next test, while
the program's budget lasts. The server enforces CPU (over the whole process tree) and wall-clock backstops
from outside, kills every process a child left and unmounts its scratch space.
"""

import errno
import gc
import json
import mmap
import os
import resource
import select
import signal
import struct
import sys
import time
import warnings
from collections import OrderedDict

from . import child as _child
from . import cleanup, isolation
from .cgroups import WorkerCgroup
from .guard import compile_test

_HEADER = struct.Struct(">I")
_TICK = 0.02  # seconds between backstop checks while a child is silent
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_ARENA_HEADER = struct.Struct("<I")
_ARENA_RECORD = struct.Struct("<II")


# ---------------------------------------------------------------------------------------------------- protocol


def _read_exact(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv(fd):
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    return json.loads(_read_exact(fd, size))


def send(fd, message, blob=None):
    data = json.dumps(message).encode()
    data = _HEADER.pack(len(data)) + data
    if blob is not None:
        data += _HEADER.pack(len(blob)) + blob
    while data:
        data = data[os.write(fd, data) :]


# ---------------------------------------------------------------------------------------------------- board


class Board:
    """Verdicts in shared memory: the child writes one slot per finished stage, the server reads them when the
    child is gone. No message, no wake-up per test. Header: the stage now running (-1: the program, i: test i)
    and the child's CPU seconds when it began; slot 0 is the program, slot i + 1 is test i."""

    HEADER = struct.Struct("<id")
    SLOT = 64

    def __init__(self, tests=256):
        self.mem = mmap.mmap(-1, self.HEADER.size + self.SLOT * (tests + 1))

    def reset(self, tests):
        size = self.HEADER.size + self.SLOT * (tests + 1)
        if len(self.mem) < size:
            self.mem.close()
            self.mem = mmap.mmap(-1, size)
        self.mem[:size] = bytes(size)

    def begin(self, stage, cpu):
        self.HEADER.pack_into(self.mem, 0, stage, cpu)

    def stage(self):
        return self.HEADER.unpack_from(self.mem, 0)

    def finish(self, stage, verdict):
        offset = self.HEADER.size + self.SLOT * (stage + 1)
        self.mem[offset : offset + self.SLOT] = b"\1" + verdict.encode()[: self.SLOT - 1].ljust(
            self.SLOT - 1, b"\0"
        )

    def verdict(self, stage):
        """None while the stage has not finished, else ``"pass"``, ``"values"``, ``"raised"`` or the failure."""
        offset = self.HEADER.size + self.SLOT * (stage + 1)
        if self.mem[offset] == 0:
            return None
        return self.mem[offset + 1 : offset + self.SLOT].rstrip(b"\0").decode("ascii", "replace")


# ------------------------------------------------------------------------------------------------- helpers


def _cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


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


def _compile_probe(source):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compile(source, "<probe>", "eval", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return type(e).__name__


# ---------------------------------------------------------------------------------------------------- server


_WARM_UP_PROGRAM = "def f(x):\n    return [x, (x, 1.5), {'k': {x}}, 'a', None, True]\n"
_WARM_UP_TESTS = [
    {"probes": ["f(1)"], "names": []},
    {"probes": ["f(2)", "f(3)[0]"], "names": ["math"]},
    {"probes": ["f(None)[9]"], "names": []},
    {"source": "assert f(1)[0] == 1 and len(f(2)) == 6"},
]


class Server:
    def __init__(self, config):
        self.config = config
        self.warnings = []
        self.isolation = {"network": "host", "filesystem": "host", "pid_namespace": False}
        self.tests_cache = OrderedDict()
        self.board = Board()
        self.arena = None
        self.init_pid = None
        self.retire = None
        self.keep_read_search = False  # only where the minimal root could not be built
        isolation.server_prctl()
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.root = os.getuid() == 0
        self.uid = config.get("uid") if self.root else None
        if self.root and self.uid is None:
            self.warnings.append("running programs as root (no uid given)")
        defaults = config.get("limits", {})
        self.cgroup = (
            WorkerCgroup(
                config.get("engine", "acecoder-%d" % os.getpid()),
                "w%d" % config.get("worker", 0),
                config.get("workers", 1),
                defaults.get("memory_mb", 4096) * 1024 * 1024,
                defaults.get("max_processes", 64),
                self.warnings,
            )
            if self.root and config.get("cgroups", True)
            else None
        )
        if self.cgroup is not None and not self.cgroup.active:
            self.cgroup = None
        if self.cgroup is not None:
            self.cgroup.join_server()
        self.cgroup_limits = (defaults.get("memory_mb", 4096), defaults.get("max_processes", 64))
        self._preload(config.get("preload", ()))
        mode = config.get("isolation", "auto")
        self.scratch, self.scratch_mb = None, config.get("scratch_mb", 256)
        self.scratch_is_mount = False
        if mode in ("auto", "namespaces"):
            self._enter_namespaces(config, mode)
        if self.scratch is None:  # no namespaces: a private directory on the host, emptied after each program
            base = os.environ.get("TMPDIR") or "/tmp"
            self.scratch = os.path.join(
                base, "acecoder-sandbox-%d-%d" % (os.getpid(), int(time.time() * 1e6))
            )
            os.mkdir(self.scratch, 0o700)
            if self.uid is not None:
                os.chown(self.scratch, self.uid, self.uid)
        if self.scratch_is_mount:
            self._mount_scratch()
        os.environ.update(HOME=self.scratch, TMPDIR=self.scratch, PWD=self.scratch)
        os.chdir("/")
        if self.isolation.get("pid_namespace"):
            self.isolation["seccomp"] = isolation.install_seccomp(self.warnings)
        self.isolation["uid"] = self.uid if self.uid is not None else os.getuid()
        self.isolation["cgroup"] = "v%d" % self.cgroup.version if self.cgroup is not None else None
        if self.keep_read_search and self.uid is not None:
            self.warnings.append("programs keep CAP_DAC_READ_SEARCH: root-only host files are readable")
        if self.cgroup is None:
            self.warnings.append("no cgroup: memory and process caps are per process, CPU time per process")
        # Signal dispositions are inherited by every child: set them once here, not per fork.
        signal.signal(signal.SIGPROF, _child.on_timeout)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        import random  # noqa: F401 (seeded in each child)

        self.arm_audit_hook = _child.install_audit_hook()
        self._warm_up()

    def _preload(self, names):
        """Import the operator's modules before entering the namespaces: a process that has unshared its PID
        namespace cannot start threads (some imports do), and caches such modules build on first import
        (matplotlib's font list) are then kept on the host, built once rather than per server."""
        for name in names:
            try:
                __import__(name)
            except Exception as e:  # a missing optional module must not stop the server
                self.warnings.append("preload %s: %s" % (name, e))
        # A lingering thread would make unshare() fail. Only when a preloaded module imported threading: its
        # at-fork handler costs every forked child ~0.3 ms, so the server never imports it itself.
        threading = sys.modules.get("threading")
        for thread in threading.enumerate() if threading is not None else ():
            if thread is not threading.main_thread():
                thread.join(timeout=5.0)

    def _enter_namespaces(self, config, mode):
        warnings_ = self.warnings
        try:
            os.makedirs(isolation.ROOT_MOUNT, mode=0o755, exist_ok=True)
        except OSError as e:
            warnings_.append("cannot create the sandbox mount point %s: %s" % (isolation.ROOT_MOUNT, e))
            return self._no_namespaces(mode)
        if not isolation.unshare_namespaces(warnings_):
            return self._no_namespaces(mode)
        root = isolation.ROOT_MOUNT
        try:
            scratch = isolation.build_root(root, warnings_)
            proc_target = root + "/proc"
        except OSError as e:
            warnings_.append("cannot build the minimal root (host files stay readable): %s" % e)
            root, proc_target = None, None
        self.init_pid, self.lifeline, proc = isolation.start_namespace_init(proc_target)
        info = {"network": "none", "pid_namespace": True, "ipc_namespace": "per program"}
        if root is not None:
            try:
                isolation.pivot(root)
                info.update(filesystem="minimal read-only root, private tmpfs scratch", root="minimal")
                info["proc"] = "own PID namespace" if proc else "none"
                self.scratch = scratch
                try:
                    isolation.new_ipc_namespace()  # mounts the namespace's message-queue file system
                except OSError as e:
                    warnings_.append("no /dev/mqueue (a new IPC namespace for every program instead): %s" % e)
            except OSError as e:
                warnings_.append("cannot pivot into the minimal root (host files stay readable): %s" % e)
                root = None
        if root is None:
            for point in _mount_points():
                if not point.startswith("/proc"):
                    try:
                        isolation.mount(
                            None, point, None, isolation.MS_REMOUNT | isolation.MS_BIND | isolation.MS_RDONLY
                        )
                    except OSError:
                        pass
            info.update(filesystem="host, read-only; private tmpfs scratch", root="host")
            self.scratch = isolation.ROOT_MOUNT
            self.keep_read_search = True
        self.scratch_is_mount = True
        self.isolation = info

    def _no_namespaces(self, mode):
        if mode == "namespaces":
            raise SystemExit("cannot enter namespaces: " + "; ".join(self.warnings))
        self.warnings.append("running without namespaces: the network and file system are the host's")
        self.scratch_is_mount = False
        self.keep_read_search = True

    def _warm_up(self, rounds=16):
        """Run the harness on a dummy job a few times here: Python specialises the code it runs often, writing
        into the code objects, and doing that once in the server spares every forked child those copied pages."""
        program = compile(_WARM_UP_PROGRAM, "<warm-up>", "exec")
        tests = [self._compile(test, True) for test in _WARM_UP_TESTS]
        limits = {"setup_timeout": 1.0, "timeouts": [1.0] * len(tests), "stop_on_failure": False}
        board, arena = Board(len(tests)), mmap.mmap(-1, 1 << 16)
        for _ in range(rounds):
            board.reset(len(tests))
            _ARENA_HEADER.pack_into(arena, 0, _ARENA_HEADER.size)
            _child.execute(program, tests, 0, limits, board, arena, 10.0, {"__builtins__": __builtins__})
        arena.close()

    # ------------------------------------------------------------------------------------------ compiling

    def compiled_tests(self, tests, guard):
        key = (json.dumps(tests), guard)
        code = self.tests_cache.get(key)
        if code is None:
            code = [self._compile(test, guard) for test in tests]
            self.tests_cache[key] = code
            if len(self.tests_cache) > 256:
                self.tests_cache.popitem(last=False)
        else:
            self.tests_cache.move_to_end(key)
        return code

    @staticmethod
    def _compile(test, guard):
        """A split test: ("split", probe code objects, names whose bindings the judge needs); an in-process
        test: ("process", code object); or the name of the error that keeps it from compiling."""
        if "probes" in test:
            probes = [_compile_probe(source) for source in test["probes"]]
            for probe in probes:
                if isinstance(probe, str):
                    return probe
            return ("split", probes, test.get("names") or [])
        code = compile_test(test["source"], guard)
        return code if isinstance(code, str) else ("process", code)

    # -------------------------------------------------------------------------------------------- running

    def run(self, job):
        limits = job["limits"]
        tests = job["tests"]
        n = len(tests)
        result = {"results": [0] * n, "errors": [None] * n, "setup": None, "restarts": 0, "cpu": 0.0}
        self.values = {}
        self.values_data = bytearray()
        output = bytearray()
        started = time.monotonic()
        timeouts = limits.get("timeouts") or [limits["timeout"]] * n
        limits = dict(limits, timeouts=timeouts, stop_on_failure=job.get("stop_on_failure", False))
        try:
            program = compile(job["program"], "<program>", "exec", dont_inherit=True, optimize=0)
        except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError) as e:
            program = None
            result["setup"] = "compile:" + type(e).__name__
        self._apply_cgroup_limits(limits)
        budget = limits.get("program_timeout") or float("inf")
        # The program's wall-clock backstop across its restarts: a program that blocks (sockets, sleeps) uses no
        # CPU, and each restart would otherwise get a fresh wall-clock allowance.
        deadline = started + budget * limits["wall_factor"] + limits["wall_extra"]
        if program is not None and n:
            code = self.compiled_tests(tests, limits.get("strict_equality", True))
            next_test = 0
            while next_test < n:
                left = budget - result["cpu"]
                if left <= 0 or time.monotonic() >= deadline:
                    for index in range(next_test, n):
                        result["errors"][index] = "timeout:budget"
                    break
                next_test = self._run_child(program, code, next_test, limits, result, output, left, deadline)
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

    def _apply_cgroup_limits(self, limits):
        wanted = (limits["memory_mb"], limits["max_processes"])
        if self.cgroup is None or wanted == self.cgroup_limits:
            return
        self.cgroup.set_limits(wanted[0] * 1024 * 1024, wanted[1])
        self.cgroup_limits = wanted

    def _tree_cpu(self, pid):
        return self.cgroup.cpu_seconds() if self.cgroup is not None else _cpu_seconds(pid)

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

    def _run_child(self, program, tests, start, limits, result, output, budget, deadline):
        """Run one child from test ``start``; record its verdicts; return the next test still to run."""
        n = len(tests)
        board = self.board
        board.reset(n)
        self._reset_arena(limits["value_bytes"])
        self.skipping = False
        output_r, output_w = os.pipe()
        stage_limit = limits["setup_timeout"] + sum(limits["timeouts"][start:])
        cpu_limit = min(budget, stage_limit)
        self._prepare_scratch()
        cpu_before = self.cgroup.cpu_seconds() if self.cgroup is not None else 0.0
        oom_before = self.cgroup.oom_kills() if self.cgroup is not None else 0
        gc.freeze()  # the child's collector then never walks (and so never copies) the server's objects
        pid = os.fork()
        if pid == 0:
            self._child(program, tests, start, limits, board, output_w, cpu_limit)
        os.close(output_w)
        os.set_blocking(output_r, False)
        gc.unfreeze()
        killed, status = self._supervise(
            pid, board, limits, output_r, output, cpu_limit, stage_limit, deadline
        )
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
        _drain(output_r, output, limits["output_bytes"])
        os.close(output_r)
        used = (self.cgroup.cpu_seconds() - cpu_before) if self.cgroup is not None else self.last_cpu
        result["cpu"] += used
        oom = self.cgroup is not None and self.cgroup.oom_kills() > oom_before
        self._release_scratch()
        self._collect_values(start, n)

        setup = board.verdict(-1)
        if setup is not None and setup.startswith("infra:"):
            raise RuntimeError("sandbox child could not set itself up: " + setup[6:])
        if setup is not None and setup != "pass":
            result["setup"] = setup
            return n
        index = start
        for index in range(start, n):
            verdict = board.verdict(index) if setup is not None else None
            if verdict is None:
                break
            result["results"][index] = 1 if verdict == "pass" else 0
            result["errors"][index] = None if verdict == "pass" else verdict
            if limits["stop_on_failure"] and verdict not in ("pass", "values"):
                self.skipping = True
                return index + 1
        else:
            return n
        if killed == "budget" or used >= budget:
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
        result["errors"][index] = reason
        if reason == "timeout:budget":
            for later in range(index + 1, n):
                result["errors"][later] = "timeout:budget"
            return n
        if limits["stop_on_failure"]:
            self.skipping = True
        return index + 1

    def _reset_arena(self, size):
        """The shared memory a child appends its value records to (its first 4 bytes: the bytes used)."""
        size += _ARENA_HEADER.size
        if self.arena is None or len(self.arena) != size:
            if self.arena is not None:
                self.arena.close()
            self.arena = mmap.mmap(-1, size)
        _ARENA_HEADER.pack_into(self.arena, 0, _ARENA_HEADER.size)

    def _collect_values(self, start, n):
        """Copy this child's value records out of the arena (the first record of a test wins)."""
        arena = self.arena
        used = min(_ARENA_HEADER.unpack_from(arena, 0)[0], len(arena))
        offset = _ARENA_HEADER.size
        while offset + _ARENA_RECORD.size <= used:
            test, length = _ARENA_RECORD.unpack_from(arena, offset)
            offset += _ARENA_RECORD.size
            if offset + length > used:
                break
            if start <= test < n and test not in self.values:
                self.values[test] = (len(self.values_data), length)
                self.values_data += arena[offset : offset + length]
            offset += length

    def _child(self, program, tests, start, limits, board, output_w, cpu_limit):
        """The forked child's set-up as root, then the harness (never returns)."""
        try:
            if self.cgroup is not None:
                for fd in self.cgroup.join_fds:
                    os.write(fd, b"0")
            os.setsid()
            os.dup2(output_w, 1)
            os.dup2(output_w, 2)
            os.closerange(3, 1 << 16)
            os.chdir(self.scratch)
            nproc = limits["max_processes"] + 1 if self.uid is not None else 0
            _child.set_limits(limits, cpu_limit, nproc)
        except BaseException as e:
            board.finish(-1, "infra:%s: %s" % (type(e).__name__, e))
            os._exit(3)
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
        )

    def _supervise(self, pid, board, limits, output_r, output, budget, stage_limit, deadline):
        """Wait for the child to end, draining its pipes; kill it at its CPU or wall-clock backstop.
        Return (why it was killed or None, wait status or None)."""
        poller = select.poll()
        poller.register(output_r, select.POLLIN)
        pidfd = _pidfd_open(pid)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        tick = _TICK if pidfd is not None else 0.002
        seen, stage_wall, stage_cpu = None, time.monotonic(), 0.0
        cpu_start = self._tree_cpu(pid)
        # A deadline for the whole child that nothing the program writes can move (it could rewrite the board).
        child_deadline = stage_wall + stage_limit * limits["wall_factor"] + limits["wall_extra"]
        self.last_cpu = 0.0
        try:
            while True:
                for fd, _ in poller.poll(tick * 1000):
                    if fd == pidfd:
                        if self.cgroup is None:
                            self.last_cpu = _cpu_seconds(pid)
                        return None, None
                    if not _drain(fd, output, limits["output_bytes"]):
                        poller.unregister(fd)
                if pidfd is None:
                    self.last_cpu = _cpu_seconds(pid)
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        return None, status
                now = time.monotonic()
                cpu = self._tree_cpu(pid) - cpu_start
                stage = board.stage()[0]
                if stage != seen:
                    seen, stage_wall, stage_cpu = stage, now, cpu
                stage_budget = (
                    limits["setup_timeout"]
                    if stage < 0
                    else limits["timeouts"][min(stage, len(limits["timeouts"]) - 1)]
                )
                if cpu > budget * 1.1 + 0.05 or now > deadline:
                    return "budget", None
                if now > min(
                    child_deadline, stage_wall + stage_budget * limits["wall_factor"] + limits["wall_extra"]
                ):
                    return "wall", None
                if cpu - stage_cpu > stage_budget * 1.1 + 0.05:
                    return "cpu", None
        finally:
            if pidfd is not None:
                os.close(pidfd)

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


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            points.append(line.split()[4].replace("\\040", " "))
    return points


def main():
    config = json.loads(sys.argv[-1]) if len(sys.argv) > 1 else {}
    # The protocol pipes move to high descriptors so that nothing a child does to 0/1/2 can reach them.
    inp, out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    server = Server(config)
    send(
        out,
        {
            "ready": True,
            "pid": os.getpid(),
            "isolation": server.isolation,
            "warnings": server.warnings,
            "cgroups": server.cgroup.dirs if server.cgroup is not None else [],
        },
    )
    while True:
        try:
            job = recv(inp)
        except EOFError:
            break
        try:
            reply, blob = server.run(job)
        except Exception as e:  # an infrastructure error is reported as such, never as a failed test
            reply, blob = {"infra": "%s: %s" % (type(e).__name__, e)}, b""
        if server.retire:  # it could not clean up after a program: the engine starts a fresh server
            reply["retire"] = server.retire
        send(out, reply, blob)
        if server.retire:
            break
    if not server.scratch_is_mount:
        try:
            cleanup.empty_directory(server.scratch)
            os.rmdir(server.scratch)
        except OSError:
            pass


def run_main():
    try:
        main()
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
