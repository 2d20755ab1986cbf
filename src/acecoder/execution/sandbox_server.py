"""The sandbox fork server: a small, stdlib-only process that runs untrusted programs, one forked child each.

It is started by :mod:`acecoder.execution.engine` with the configured interpreter, as a file (it never imports
acecoder, so any Python >= 3.8 works), enters its isolation once (network, mount and IPC namespaces, a read-only
view of the file system with private tmpfs scratch), then serves jobs read from stdin and answers on stdout,
each message a 4-byte big-endian length followed by JSON.

Per job it forks a child that drops to an unprivileged uid, sets its resource limits, runs the program, then
each test in the program's namespace, reporting one line per test on a private pipe. A test that crashes, exits
or exceeds its limits fails alone: the server starts a fresh child that re-runs the program and goes on with the
next test. The server enforces CPU and wall-clock backstops from outside and kills every process a child left.
"""

import array
import ast
import builtins
import collections
import collections.abc
import ctypes
import datetime
import decimal
import enum
import errno
import fractions
import gc
import json
import mmap
import operator
import os
import resource
import select
import signal
import struct
import sys
import time
import types
from collections import OrderedDict

_HEADER = struct.Struct(">I")
_TICK = 0.02  # seconds between backstop checks while a child is silent
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_KEEPCAPS = 8
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE = 47, 2
_CAP_DAC_READ_SEARCH = 2
_CAPABILITY_VERSION_3 = 0x20080522
_CLONE_NEWNS, _CLONE_NEWNET, _CLONE_NEWIPC, _CLONE_NEWUTS = 0x20000, 0x40000000, 0x08000000, 0x04000000
_CLONE_NEWPID, _CLONE_NEWUSER = 0x20000000, 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = (
    1,
    2,
    4,
    32,
    4096,
    16384,
    1 << 18,
)
# Private tmpfs mounts, each server its own: the scratch directory (a fixed, empty mount point on the host, so
# nothing over the interpreter or the caller's files is ever hidden) and /dev/shm (multiprocessing's semaphores).
_SCRATCH_MOUNT = os.path.join(os.environ.get("TMPDIR") or "/tmp", ".acecoder-sandbox")
_SHM = "/dev/shm"
_libc = ctypes.CDLL(None, use_errno=True)


class _Timeout(BaseException):
    """Raised in the child when a stage used up its CPU time (never an Exception, so `except Exception` misses it)."""


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


def _recv(fd):
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    return json.loads(_read_exact(fd, size))


def _send(fd, message):
    data = json.dumps(message).encode()
    data = _HEADER.pack(len(data)) + data
    while data:
        data = data[os.write(fd, data) :]


# --------------------------------------------------------------------------------------------------- isolation


def _syscall_ok(result, what, warnings):
    if result != 0:
        err = ctypes.get_errno()
        warnings.append("%s failed: %s" % (what, os.strerror(err)))
        return False
    return True


def _mount(source, target, fstype, flags, data, warnings=None):
    result = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if result != 0 and warnings is not None:
        warnings.append("mount %s: %s" % (target, os.strerror(ctypes.get_errno())))
    return result == 0


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            points.append(fields[4].replace("\\040", " "))
    return points


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _enter_namespaces(scratch_mb, warnings):
    """Unshare the network, mount, IPC, UTS and PID namespaces (inside a user namespace when not root); make
    every mount read-only and mount private tmpfs scratch. The next fork becomes the PID namespace's init."""
    uid, gid = os.getuid(), os.getgid()
    try:
        os.makedirs(_SCRATCH_MOUNT, mode=0o755, exist_ok=True)
    except OSError as e:
        warnings.append("cannot create the scratch mount point %s: %s" % (_SCRATCH_MOUNT, e))
        return None
    flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS | _CLONE_NEWPID
    if uid != 0:
        flags |= _CLONE_NEWUSER
    if not _syscall_ok(_libc.unshare(flags), "unshare(user, net, mount, ipc, uts, pid)", warnings):
        return None
    if uid != 0:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", "0 %d 1" % uid)
        _write("/proc/self/gid_map", "0 %d 1" % gid)
    if not _mount(None, "/", None, _MS_REC | _MS_PRIVATE, None, warnings):
        return None
    for point in _mount_points():
        if not point.startswith("/proc"):
            _mount(None, point, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None)
    opts = "size=%dm,mode=1777" % scratch_mb
    if not _mount("tmpfs", _SCRATCH_MOUNT, "tmpfs", _MS_NOSUID | _MS_NODEV, opts, warnings):
        return None
    if os.path.isdir(_SHM):
        _mount("tmpfs", _SHM, "tmpfs", _MS_NOSUID | _MS_NODEV, opts, warnings)
    return {"network": "none", "filesystem": "read-only, private tmpfs scratch", "pid_namespace": True}


def _start_namespace_init():
    """Fork the PID namespace's init: it reaps orphans and exits when the server does (its end of a pipe
    closes), and the kernel then kills every process left in the namespace. Programs in the namespace can
    neither see nor signal the server."""
    lifeline_r, lifeline_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(lifeline_r)
        return pid, lifeline_w
    try:
        os.closerange(0, lifeline_r)
        os.closerange(lifeline_r + 1, 1 << 16)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        poller = select.poll()
        poller.register(lifeline_r, select.POLLIN)
        poller.register(wake_r, select.POLLIN)
        while True:
            if any(fd == lifeline_r for fd, _ in poller.poll(1000)):
                break
            os.read(wake_r, 4096) if select.select([wake_r], [], [], 0)[0] else None
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
    finally:
        os._exit(0)


# ------------------------------------------------------------------------------------------ equality guard


_SCALARS = frozenset([int, float, complex, str, bytes, bool, type(None)])
_CONTAINERS = frozenset([list, tuple, set, frozenset])
# Classes whose comparisons are believed: every class of these modules as loaded before any program ran (a
# program cannot swap them afterwards), plus numpy's own classes, found through the numpy module itself.
_TRUSTED_CLASSES = frozenset(
    value
    for module in (builtins, collections, collections.abc, decimal, fractions, datetime, enum, array)
    for value in vars(module).values()
    if isinstance(value, type)
)


def _plain(value, depth=0, _type=type, _all=all):
    """A value built only of exact builtin types: what a test writes as its expected value."""
    kind = _type(value)
    if kind in _SCALARS:
        return True
    if depth > 64:
        return False
    if kind in _CONTAINERS:
        return _all(_plain(item, depth + 1) for item in value)
    if kind is dict:
        return _all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
    return False


def _trusted_method(cls, name, _getattr=getattr):
    """Whether ``cls.<name>`` comes from a trusted class (builtins, some of the standard library, numpy)."""
    for owner in cls.__mro__:
        if name in owner.__dict__:
            break
    else:
        return True
    if owner in _TRUSTED_CLASSES:
        return True
    # numpy's classes are static C types (no Python code can make one) named in the numpy package.
    module = str(_getattr(owner, "__module__", "") or "")
    return not owner.__flags__ & _HEAPTYPE and module.split(".")[0] == "numpy"


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set on every class created by a class statement or type()
_ModuleType = types.ModuleType


def _trustworthy(value, depth=0, _type=type, _isinstance=isinstance, _all=all):
    """Whether a value's comparisons can be believed when it meets a plain value: its class and the classes
    of everything inside it compare, hash and iterate the way Python's own types do."""
    kind = _type(value)
    if kind in _SCALARS:
        return True
    if depth > 64:
        return False
    for name in ("__eq__", "__ne__", "__contains__"):
        if not _trusted_method(kind, name):
            return False
    if _isinstance(value, _Mapping):
        if not (_trusted_method(kind, "__iter__") and _trusted_method(kind, "__getitem__")):
            return False
        return _all(_trustworthy(k, depth + 1) and _trustworthy(v, depth + 1) for k, v in value.items())
    if _isinstance(value, _Collection):
        if not _trusted_method(kind, "__iter__"):
            return False
        return _all(_trustworthy(item, depth + 1) for item in value)
    return True


_Mapping, _Collection = collections.abc.Mapping, collections.abc.Collection


def _suspect(left, right):
    """True when exactly one side is plain and the other side's comparisons cannot be believed."""
    left_plain, right_plain = _plain(left), _plain(right)
    return left_plain != right_plain and not _trustworthy(right if left_plain else left)


def _guarded_eq(left, right, negate):
    """``left == right`` (or ``!=``), except that a value whose type forges equality never equals a plain one."""
    if _suspect(left, right):
        return negate
    return left != right if negate else left == right


def _guarded_in(item, container, negate):
    """``item in container`` (or ``not in``), with the same rule."""
    if _suspect(item, container):
        return negate
    return item not in container if negate else item in container


_ORDER = {
    "Lt": operator.lt,
    "LtE": operator.le,
    "Gt": operator.gt,
    "GtE": operator.ge,
    "Is": operator.is_,
    "IsNot": operator.is_not,
    "Eq": lambda a, b: _guarded_eq(a, b, False),
    "NotEq": lambda a, b: _guarded_eq(a, b, True),
    "In": lambda a, b: _guarded_in(a, b, False),
    "NotIn": lambda a, b: _guarded_in(a, b, True),
}


def _guarded_chain(left, steps):
    """A chained comparison ``a < b == c``, evaluated lazily left to right as Python does, each link guarded."""
    result = True
    for op, right_thunk in steps:
        right = right_thunk()
        result = _ORDER[op](left, right)
        if not result:
            return result
        left = right
    return result


_GUARDS = {
    "__acecoder_eq__": _guarded_eq,
    "__acecoder_in__": _guarded_in,
    "__acecoder_chain__": _guarded_chain,
}
_GUARDED_OPS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)


class _GuardComparisons(ast.NodeTransformer):
    """Rewrite comparisons in test code that involve ``==``, ``!=``, ``in`` or ``not in`` into guarded calls."""

    def visit_Compare(self, node):
        self.generic_visit(node)
        if not any(isinstance(op, _GUARDED_OPS) for op in node.ops):
            return node
        if len(node.ops) == 1:
            op = node.ops[0]
            helper = "__acecoder_eq__" if isinstance(op, (ast.Eq, ast.NotEq)) else "__acecoder_in__"
            negate = isinstance(op, (ast.NotEq, ast.NotIn))
            args = [node.left, node.comparators[0], ast.Constant(negate)]
        else:
            steps = [
                ast.Tuple(
                    elts=[
                        ast.Constant(type(op).__name__),
                        ast.Lambda(
                            args=ast.arguments(
                                posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
                            ),
                            body=comparator,
                        ),
                    ],
                    ctx=ast.Load(),
                )
                for op, comparator in zip(node.ops, node.comparators)
            ]
            helper, args = "__acecoder_chain__", [node.left, ast.Tuple(elts=steps, ctx=ast.Load())]
        call = ast.Call(func=ast.Name(id=helper, ctx=ast.Load()), args=args, keywords=[])
        return ast.copy_location(call, node)


def _compile_test(source, guard):
    """A test's code object, or the name of the error that keeps it from compiling."""
    try:
        tree = ast.parse(source, "<test>", "exec")
        if guard:
            tree = ast.fix_missing_locations(_GuardComparisons().visit(tree))
        return compile(tree, "<test>", "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return type(e).__name__


# ------------------------------------------------------------------------------------------------ the child


def _classify(exc):
    if isinstance(exc, _Timeout):
        return "timeout"
    if isinstance(exc, SystemExit):
        return "exit"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, AssertionError):
        return "assertion"
    if isinstance(exc, RecursionError):
        return "recursion"
    return "error:" + type(exc).__name__


def _on_timeout(signum, frame):
    raise _Timeout()


def _set_limits(limits, capped_uid):
    mem = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = int(limits["cpu_budget"]) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    fsize = limits["file_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["max_files"], limits["max_files"]))
    if capped_uid:  # the uid is this worker's own, so its process count is the program's (plus the server)
        nproc = limits["max_processes"] + 1
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


_KEEP_CAPS = 1 << _CAP_DAC_READ_SEARCH
# Built before any fork: creating ctypes objects in each child costs more than all its other set-up together.
_CAP_HEADER = _CapHeader(_CAPABILITY_VERSION_3, 0)
_CAP_DATA = (_CapData * 2)(_CapData(_KEEP_CAPS, _KEEP_CAPS, _KEEP_CAPS), _CapData(0, 0, 0))
_CAP_ARGS = (ctypes.byref(_CAP_HEADER), _CAP_DATA)


def _drop_privileges(uid):
    """Become an unprivileged uid that keeps only CAP_DAC_READ_SEARCH: it may read the interpreter and its
    libraries wherever they are installed (e.g. under a private /root), but write nothing it does not own
    and signal no process of another uid."""
    _libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if _libc.capset(*_CAP_ARGS) != 0:
        raise OSError(ctypes.get_errno(), "capset: " + os.strerror(ctypes.get_errno()))
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, _CAP_DAC_READ_SEARCH, 0, 0)


class _Board:
    """Verdicts in shared memory: the child writes one slot per finished stage, the server reads them when the
    child is gone. No message, no wake-up per test. Header: the stage now running (-1: the program, i: test i)
    and the child's CPU seconds when it began; slot 0 is the program, slot i + 1 is test i."""

    HEADER = struct.Struct("<id")
    SLOT = 64
    PASS, FAIL = 1, 2

    def __init__(self, tests=256):
        self.mem = mmap.mmap(-1, self.HEADER.size + self.SLOT * (tests + 1))

    def reset(self, tests):
        if len(self.mem) < self.HEADER.size + self.SLOT * (tests + 1):
            self.mem.close()
            self.__init__(tests)
        self.mem[: self.HEADER.size + self.SLOT * (tests + 1)] = bytes(
            self.HEADER.size + self.SLOT * (tests + 1)
        )

    def begin(self, stage, cpu):
        self.HEADER.pack_into(self.mem, 0, stage, cpu)

    def stage(self):
        return self.HEADER.unpack_from(self.mem, 0)

    def finish(self, stage, verdict):
        offset = self.HEADER.size + self.SLOT * (stage + 1)
        code = self.PASS if verdict == "pass" else self.FAIL
        self.mem[offset : offset + self.SLOT] = bytes([code]) + verdict.encode()[: self.SLOT - 1].ljust(
            self.SLOT - 1, b"\0"
        )

    def verdict(self, stage):
        """None while the stage has not finished, else ``"pass"`` or the failure kind."""
        offset = self.HEADER.size + self.SLOT * (stage + 1)
        code = self.mem[offset]
        if code == 0:
            return None
        return self.mem[offset + 1 : offset + self.SLOT].rstrip(b"\0").decode("ascii", "replace")


def _seed_random_generators():
    """Same seeds in every child (``random`` reseeds itself from the OS at fork), so reruns agree."""
    random = sys.modules.get("random")
    if random is not None:
        random.seed(0)
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed(0)


def _child(program, tests, start, limits, capped_uid, board, output_fd):
    """Runs in the forked child and never returns."""
    clock, setitimer, prof = time.process_time, signal.setitimer, signal.ITIMER_PROF
    try:
        os.setsid()
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.closerange(3, 1 << 16)
        _set_limits(limits, capped_uid)
        _seed_random_generators()
    except BaseException as e:  # a setup failure is an infrastructure error, never a verdict
        board.finish(-1, "infra:" + type(e).__name__)
        os._exit(3)
    # The program's own __main__: this server module stays out of its reach through sys.modules.
    main = _ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    namespace = main.__dict__
    verdict = "pass"
    board.begin(-1, clock())
    try:
        try:
            setitimer(prof, limits["setup_timeout"], 0.05)
            exec(program, namespace)
        finally:
            setitimer(prof, 0)
    except BaseException as e:
        verdict = _classify(e)
    board.finish(-1, verdict)
    if verdict != "pass":
        os._exit(0)
    namespace.update(_GUARDS)
    timeout = limits["timeout"]
    for index in range(start, len(tests)):
        code, verdict = tests[index], None
        board.begin(index, clock())
        if isinstance(code, str):
            verdict = "test:" + code
        else:
            try:
                try:
                    setitimer(prof, timeout, 0.05)
                    exec(code, namespace)
                    verdict = "pass"
                finally:
                    setitimer(prof, 0)
            except BaseException as e:
                if verdict is None:
                    verdict = _classify(e)
        board.finish(index, verdict)
    board.begin(len(tests), clock())
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(0)


def _cpu_seconds(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def _make_scratch(base=None):
    """A fresh private directory (tempfile would import shared libraries that make every fork slower)."""
    base = base or os.environ.get("TMPDIR") or "/tmp"
    for attempt in range(100):
        path = os.path.join(
            base, "acecoder-sandbox-%d-%d-%d" % (os.getpid(), int(time.time() * 1e6), attempt)
        )
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise OSError("cannot create a scratch directory in %s" % base)


def _scandir(path):
    try:
        return list(os.scandir(path))
    except OSError:
        return []


def _remove_entry(entry):
    try:
        if entry.is_dir(follow_symlinks=False):
            _remove_tree(entry.path)
        else:
            os.unlink(entry.path)
    except OSError:
        pass


def _remove_tree(path, remove_top=True):
    """Delete a directory's contents (and itself) without following symbolic links, even where a program made
    a directory read-only."""
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    for entry in _scandir(path):
        _remove_entry(entry)
    if remove_top:
        try:
            os.rmdir(path)
        except OSError:
            pass


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


class Server:
    def __init__(self, config):
        self.config = config
        self.warnings = []
        self.isolation = {"network": "host", "filesystem": "host", "pid_namespace": False}
        self.tests_cache = OrderedDict()
        self.board = _Board()
        self.init_pid = None
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        mode = config.get("isolation", "auto")
        if mode in ("auto", "namespaces"):
            entered = _enter_namespaces(config.get("scratch_mb", 256), self.warnings)
            if entered:
                self.isolation = entered
                self.init_pid, self.lifeline = _start_namespace_init()
            elif mode == "namespaces":
                raise SystemExit("cannot enter namespaces: " + "; ".join(self.warnings))
            else:
                self.warnings.append("running without namespaces: the network and file system are the host's")
        self.scratch = _make_scratch(_SCRATCH_MOUNT if self.isolation["pid_namespace"] else None)
        os.environ.update(HOME=self.scratch, TMPDIR=self.scratch, PWD=self.scratch)
        os.chdir(self.scratch)
        # Privileges are dropped once, here: per child it would cost more than the rest of its set-up.
        self.dropped = os.getuid() == 0 and config.get("uid") is not None
        if self.dropped:
            os.chown(self.scratch, config["uid"], config["uid"])
            _drop_privileges(config["uid"])
        elif os.getuid() == 0:
            self.warnings.append("running programs as root (no uid given)")
        if not self.isolation["pid_namespace"]:
            self.warnings.append(
                "no PID namespace: a program may signal its sandbox server (it is restarted)"
            )
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        self.isolation["uid"] = os.getuid()
        # Signal dispositions are inherited by every child: set them once here, not per fork.
        signal.signal(signal.SIGPROF, _on_timeout)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        import random  # noqa: F401 (seeded in each child)

        for name in config.get("preload", ()):
            try:
                __import__(name)
            except Exception as e:  # a missing optional module must not stop the server
                self.warnings.append("preload %s: %s" % (name, e))

    def compiled_tests(self, tests, guard):
        key = (tuple(tests), guard)
        code = self.tests_cache.get(key)
        if code is None:
            code = [_compile_test(t, guard) for t in tests]
            self.tests_cache[key] = code
            if len(self.tests_cache) > 256:
                self.tests_cache.popitem(last=False)
        else:
            self.tests_cache.move_to_end(key)
        return code

    def run(self, job):
        limits = job["limits"]
        tests = job["tests"]
        n = len(tests)
        result = {"id": job.get("id"), "results": [0] * n, "errors": [None] * n, "setup": None, "restarts": 0}
        output = bytearray()
        started = time.monotonic()
        try:
            program = compile(job["program"], "<program>", "exec", dont_inherit=True, optimize=0)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
            program = None
            result["setup"] = "compile:" + type(e).__name__
        if program is not None and n:
            code = self.compiled_tests(tests, limits.get("strict_equality", True))
            next_test = 0
            while next_test < n:
                next_test = self._run_child(program, code, next_test, limits, result, output)
                if next_test < n and result["setup"] is None:
                    result["restarts"] += 1
                if result["setup"] is not None:
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
        return result

    def _run_child(self, program, tests, start, limits, result, output):
        """Run one child from test ``start``; record its verdicts; return the next test still to run."""
        n = len(tests)
        board = self.board
        board.reset(n)
        output_r, output_w = os.pipe()
        budget = dict(limits, cpu_budget=limits["setup_timeout"] + limits["timeout"] * (n - start))
        gc.freeze()  # the child's collector then never walks (and so never copies) the server's objects
        pid = os.fork()
        if pid == 0:
            os.close(output_r)
            _child(program, tests, start, budget, self.dropped, board, output_w)
        os.close(output_w)
        os.set_blocking(output_r, False)
        gc.unfreeze()
        killed, status = self._supervise(pid, board, limits, output_r, output, budget["cpu_budget"])
        self._kill_all(pid)
        if status is None:
            _, status = os.waitpid(pid, 0)
        self._reap_orphans()
        self._drain(output_r, output, limits["output_bytes"])
        os.close(output_r)

        setup = board.verdict(-1)
        if setup is not None and setup.startswith("infra:"):
            raise RuntimeError("sandbox child could not set itself up: " + setup[6:])
        if setup is not None and setup != "pass":
            result["setup"] = setup
            return n
        for index in range(start, n):
            verdict = board.verdict(index) if setup is not None else None
            if verdict is None:
                break
            result["results"][index] = 1 if verdict == "pass" else 0
            result["errors"][index] = None if verdict == "pass" else verdict
        else:
            return n
        if killed:
            reason = "timeout"
        elif os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            reason = "timeout" if sig == signal.SIGXCPU else "crash:" + _signal_name(sig)
        else:
            reason = "exit"
        if setup is None:
            result["setup"] = reason
            return n
        result["errors"][index] = reason
        return index + 1

    def _supervise(self, pid, board, limits, output_r, output, cpu_budget):
        """Wait for the child to end, draining its output; kill it at its CPU or wall-clock backstop.
        Return (killed, wait status or None)."""
        poller = select.poll()
        poller.register(output_r, select.POLLIN)
        pidfd = _pidfd_open(pid)
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        tick = _TICK if pidfd is not None else 0.002
        seen, stage_wall, cap = None, time.monotonic(), limits["output_bytes"]
        # A deadline for the whole child that nothing the program writes can move (it could rewrite the board).
        child_deadline = stage_wall + cpu_budget * limits["wall_factor"] + limits["wall_extra"]
        try:
            while True:
                for fd, _ in poller.poll(tick * 1000):
                    if fd == pidfd:
                        return False, None
                    if not self._drain(output_r, output, cap):
                        poller.unregister(output_r)
                if pidfd is None:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        return False, status
                now = time.monotonic()
                stage, stage_cpu = board.stage()
                if stage != seen:
                    seen, stage_wall = stage, now
                stage_budget = limits["setup_timeout"] if stage == -1 else limits["timeout"]
                if now > min(
                    child_deadline, stage_wall + stage_budget * limits["wall_factor"] + limits["wall_extra"]
                ):
                    return True, None
                if _cpu_seconds(pid) - stage_cpu > stage_budget * 1.1 + 0.05:
                    return True, None
        finally:
            if pidfd is not None:
                os.close(pidfd)

    @staticmethod
    def _drain(fd, output, cap):
        """Read what the pipe holds (bounded), keeping the first ``cap`` bytes; False at end of file."""
        for _ in range(64):
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return True
            if not data:
                return False
            if len(output) < cap:
                output += data[: cap - len(output)]
        return True

    def _kill_all(self, pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

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
        self._clean_scratch()

    def _clean_scratch(self):
        """Empty the scratch directory and, in a private namespace, every writable tmpfs, so that no program
        sees what an earlier one left (verdicts must not depend on which worker ran what)."""
        _remove_tree(self.scratch, remove_top=False)
        if self.isolation.get("pid_namespace"):
            for root in (_SCRATCH_MOUNT, _SHM):
                for entry in _scandir(root):
                    if entry.path != self.scratch:
                        _remove_entry(entry)


def main():
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    # The protocol pipes move to high descriptors so that nothing a child does to 0/1/2 can reach them.
    inp, out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    server = Server(config)
    _send(
        out, {"ready": True, "pid": os.getpid(), "isolation": server.isolation, "warnings": server.warnings}
    )
    while True:
        try:
            job = _recv(inp)
        except EOFError:
            break
        try:
            reply = server.run(job)
        except Exception as e:  # an infrastructure error is reported as such, never as a failed test
            reply = {"id": job.get("id"), "infra": "%s: %s" % (type(e).__name__, e)}
        _send(out, reply)
    _remove_tree(server.scratch)


if __name__ == "__main__":
    try:
        main()
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
