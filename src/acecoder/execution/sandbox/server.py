"""The sandbox fork server: a small, stdlib-only process that runs untrusted programs, one forked child each.

Started by :mod:`acecoder.execution.engine` with the configured interpreter (it never imports acecoder, so any
Python >= 3.8 works). It enters its isolation once (namespaces, a minimal read-only root, a fresh /proc,
seccomp, a cgroup for the worker), then serves the requests of its worker's trusted judge, read from a unix
socket (:mod:`.wire`: length-prefixed JSON frames; a descriptor may come with a request).

Per request it forks a child in a fresh IPC namespace, on a fresh scratch tmpfs, in the worker's cgroup, under
the worker's own uid (:mod:`.runs`). Expected values never reach this process: the judge keeps them, so no
child (a copy of this process) can find one in its memory.
"""

import errno
import json
import os
import resource
import signal
import socket
import sys
import time
import warnings
from collections import OrderedDict

from . import board as board_mod
from . import child as _child
from . import cleanup, isolation, wire
from .cgroups import WorkerCgroup
from .guard import compile_test
from .runs import Runs


def _compile_probe(source):
    try:
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


class Server(Runs):
    def __init__(self, config):
        self.config = config
        self.warnings = []
        self.isolation = {"network": "host", "filesystem": "host", "pid_namespace": False}
        self.tests_cache = OrderedDict()
        self.last_program = None
        self.board = board_mod.Board()
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
        else:  # the host's file system: the interpreter's tree may sit under a home only root can enter
            self.keep_read_search = True
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
        board, arena = board_mod.Board(len(tests)), board_mod.new_arena(1 << 16)
        for _ in range(rounds):
            board.reset(len(tests))
            board_mod.reset_arena(arena)
            _child.execute(program, tests, 0, limits, board, arena, 10.0, {"__builtins__": __builtins__})
        arena.close()

    # ------------------------------------------------------------------------------------------ compiling

    def compiled_tests(self, tests, guard):
        key = (json.dumps(tests), guard)
        code = self.tests_cache.get(key)
        if code is None:
            with warnings.catch_warnings():  # a test's SyntaxWarning is nobody's business here
                warnings.simplefilter("ignore")
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

    # ------------------------------------------------------------------------------------------- requests

    def handle(self, request, fds, link):
        """One request of the judge: ``run`` (batched tests, or serving the judge's calls on the descriptor
        that came with it) or ``stdin`` (the whole program once with a standard input)."""
        op = request.get("op", "run")
        if op == "run":
            channel = fds.pop(0) if request.get("serve") and fds else None
            return self.run(request, channel, link)
        if op == "stdin":
            return self.run_stdin(request)
        if op in ("status", "abort"):  # about a child that has already ended: nothing to answer
            return None, None
        raise ValueError("unknown request %r" % (op,))


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            points.append(line.split()[4].replace("\\040", " "))
    return points


def main():
    config = json.loads(sys.argv[-1]) if len(sys.argv) > 1 else {}
    # The judge's end of the link is this process's stdin and stdout; it moves to a high descriptor so that
    # nothing a child does to 0/1/2 can reach it.
    link = socket.socket(fileno=os.dup(0))
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    server = Server(config)
    out = link.fileno()
    wire.send(
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
            request, fds = wire.recv_with_fds(link)
        except EOFError:
            break
        try:
            reply, blob = server.handle(request, fds, link)
        except Exception as e:  # an infrastructure error is reported as such, never as a failed test
            reply, blob = {"infra": "%s: %s" % (type(e).__name__, str(e)[:500])}, b""
        finally:
            for fd in fds:
                os.close(fd)
        if reply is None:
            continue
        if server.retire:  # it could not clean up after a program: the engine starts a fresh server
            reply["retire"] = server.retire
        wire.send(out, reply, blob)
        if server.retire:
            break
    if not server.scratch_is_mount:
        try:
            cleanup.empty_directory(server.scratch)
            os.rmdir(server.scratch)
        except OSError:
            pass


def run_main():
    if os.environ.get("ACECODER_SANDBOX_PROFILE"):  # a developer's view of where the server's time goes
        import cProfile
        import pstats

        profile = cProfile.Profile(time.process_time)
        try:
            profile.runcall(main)
        finally:
            pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        return
    try:
        main()
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
