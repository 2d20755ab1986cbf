"""The forked child: sets itself up, runs the program, then each test, and reports on private channels.

Verdicts of in-process tests and the progress of every test go to shared memory (the board); the values of
probes (the program calls a split test makes) go, one JSON line per test, to the values pipe. The child never
sees the expected value of a split test: the engine judges those.
"""

import builtins
import json
import os
import resource
import signal
import struct
import sys
import time
import types

from . import board as board_mod
from . import codec, serve


class Timeout(BaseException):
    """Raised in the child when a stage used up its CPU time (never an Exception, so `except Exception` misses it)."""


class BudgetSpent(Timeout):
    """Raised at the start of a stage once the program's CPU budget is spent."""


class SandboxRestriction(ValueError):
    """What an operation the sandbox forbids raises. A ValueError, because the standard library already copes
    with ValueError from ``sys._getframe`` (namedtuple, typing, enum, logging)."""


def on_timeout(signum, frame):
    raise Timeout()


def classify(exc):
    """A failure's label, from the engine's vocabulary (builtin exception names), never a program's class name."""
    kind = type(exc)
    if kind is Timeout:
        return "timeout"
    if kind is BudgetSpent:
        return "timeout:budget"
    if kind is SandboxRestriction:
        return "error:SandboxRestriction"
    if isinstance(exc, SystemExit):
        return "exit"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, AssertionError):
        return "assertion"
    if isinstance(exc, RecursionError):
        return "recursion"
    return "error:" + codec.builtin_base(kind)


# ------------------------------------------------------------------------------------------- audit hook

_DENIED_EVENTS = frozenset(
    [
        "sys._getframe",  # sys._getframemodulename (3.12+) stays allowed: it gives a module name, not a frame,
        # and namedtuple, enum and typing call it without catching an error (they catch one from _getframe)
        "sys._current_frames",
        "sys._current_exceptions",
        "sys.settrace",
        "sys.setprofile",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "code.__new__",
        "function.__new__",
    ]
)
_FRAME_ATTRIBUTES = frozenset(["tb_frame", "gi_frame", "cr_frame", "ag_frame"])
_PROC_FILES = frozenset(
    ["mem", "maps", "smaps", "smaps_rollup", "pagemap", "map_files", "environ", "syscall"]
)


def _proc_path(path):
    """Whether an opened path names process memory or memory maps under /proc."""
    if isinstance(path, int):
        return False
    try:
        path = os.fsdecode(path)
    except Exception:
        return True
    if not path.startswith("/"):
        try:
            path = os.path.join(os.getcwd(), path)
        except OSError:
            return True
    parts = os.path.normpath(path).split("/")
    return len(parts) > 2 and parts[1] == "proc" and any(part in _PROC_FILES for part in parts[2:])


def install_audit_hook():
    """Install, once in the server, a hook that (once armed, in a child) refuses frame introspection, trace and
    profile hooks, heap walking, ctypes and process memory. Returns the function that arms it; the switch lives
    only in this closure (no module global a program could flip)."""
    denied, frame_attributes, restriction = _DENIED_EVENTS, _FRAME_ATTRIBUTES, SandboxRestriction
    armed = []

    def hook(event, args):
        if not armed:
            return
        if event in denied or event.startswith("ctypes."):
            raise restriction("%s is not available in the acecoder sandbox" % event)
        if event == "object.__getattr__" and len(args) > 1 and args[1] in frame_attributes:
            raise restriction("frame introspection is not available in the acecoder sandbox")
        if event == "open" and args and _proc_path(args[0]):
            raise restriction("process memory is not readable in the acecoder sandbox")

    sys.addaudithook(hook)
    return lambda: armed.append(True)


# ----------------------------------------------------------------------------------------------- set-up


def set_limits(limits, cpu_seconds, nproc):
    mem = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    cpu = int(cpu_seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    fsize = limits["file_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["max_files"], limits["max_files"]))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def seed_random_generators():
    """Same seeds in every child (``random`` reseeds itself from the OS at fork), so reruns agree."""
    random = sys.modules.get("random")
    if random is not None:
        random.seed(0)
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed(0)


def _binding(scope, name):
    """What a name a split test's check uses is bound to in the program's namespace: a module's name, a
    module-level object's ``module.name``, or None. (Forging this gains nothing: the judge only ever uses its
    own pristine copy of an allowed object.)"""
    if name not in scope:
        return None
    value = scope[name]
    if type(value) is types.ModuleType:
        return "module:" + str(value.__name__)
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if type(module) is str and type(qualname) is str:
        return "object:%s.%s" % (module, qualname)
    return "value"


def probe_values(probes, scope, encoder=None):
    """The encoded value of each probe, in order, up to the first that raises; and whether one raised."""
    encode = (encoder or codec._DEFAULT).encode
    values = []
    for probe in probes:
        if type(probe) is str:
            probe = _compile_probe(probe)
            if type(probe) is str:
                values.append(codec.raised(SyntaxError(probe)))
                return values, True
        try:
            value = eval(probe, scope)
        except Timeout:
            raise
        except BaseException as e:
            values.append(codec.raised(e, Timeout))
            return values, True
        try:
            values.append(encode(value))
        except Timeout:
            raise
        except BaseException as e:
            values.append({"U": "%s: %s" % (type(e).__name__, str(e)[:100])})
    return values, False


def _compile_probe(source):
    try:
        return compile(source, "<probe>", "eval", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        return type(e).__name__


binding = _binding


# ---------------------------------------------------------------------------------------------- running


PROGRAM_NAME = "solution.py"
SET_UP = struct.Struct("<BI")  # a zero byte, then the child's pid as its own /proc shows it


def report_setup_failure(setup_fd, exc):
    """A set-up failure is an infrastructure error, never a verdict: it goes to the server on a pipe the child
    closes before any program code runs (so no program can write there)."""
    try:
        os.write(setup_fd, ("%s: %s" % (type(exc).__name__, exc)).encode("utf-8", "replace")[:500])
    finally:
        os._exit(3)


def run(program, tests, start, limits, board, arena, drop, arm, budget, setup_fd, channel=None):
    """Run the program, then tests[start:] (or, with a ``channel``, answer the judge's calls); never returns.
    ``drop`` switches to the sandbox's credentials, ``arm`` arms the audit hook."""
    try:
        drop()
        seed_random_generators()
        if limits.get("harden_in_process", True) and any(
            type(t) is tuple and t[0] == "process" for t in tests
        ):
            arm()
        sys.argv[:] = [PROGRAM_NAME]
        main = types.ModuleType("__main__")
        main.__builtins__ = builtins
        sys.modules["__main__"] = main  # the program's own: the server's modules stay out of its reach
        os.write(setup_fd, SET_UP.pack(0, os.getpid()))  # set up; the server reads this process's times by it
        os.close(setup_fd)
    except BaseException as e:
        report_setup_failure(setup_fd, e)
    if execute(program, tests, start, limits, board, arena, budget, main.__dict__) and channel is not None:
        board.begin(SERVING, time.process_time())
        try:
            serve.run(channel, main.__dict__, budget, sys.modules[__name__])
        except BaseException:
            import traceback

            traceback.print_exc()
            os._exit(70)
    _join_threads()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(0)


def _join_threads():
    """Wait for the program's non-daemon threads, as the interpreter does at exit: a stdin program that runs
    ``main`` in a thread (``threading.Thread(target=main).start()``, for a larger stack) prints from it after its
    top level ends. The child's CPU and idle limits still apply while it waits."""
    threading = sys.modules.get("threading")
    if threading is None:
        return
    try:
        threading._shutdown()
    except BaseException:
        pass


SERVING = 1 << 30  # the board's stage while the child answers the judge's calls


def execute(program, tests, start, limits, board, arena, budget, namespace):
    """The program, then tests[start:], each verdict on the board and each split test's values in the arena.
    Returns (the server runs it on a dummy job at start-up, so that the interpreter's specialisation of this
    code happens once there, not again in every forked child)."""
    clock, setitimer, prof = time.process_time, signal.setitimer, signal.ITIMER_PROF
    began = clock()
    # Once a stage runs out of time on the program's budget (its timer was the budget's rest, not its own
    # limit), the budget is spent: the few milliseconds a timer tick may leave over must not let later tests
    # run on some machines' timing and not on others' (a verdict must not depend on the tick it fell on).
    state = {"bound": False, "spent": False}

    def stage_timer(limit):
        left = budget - (clock() - began)
        if left <= 0 or state["spent"]:
            raise BudgetSpent()
        state["bound"] = left < limit
        setitimer(prof, min(limit, left), 0.05)

    def spent(verdict):
        if verdict == "timeout" and state["bound"]:
            state["spent"] = True

    verdict = "pass"
    board.begin(-1, clock())
    try:
        try:
            stage_timer(limits["setup_timeout"])
            exec(program, namespace)
        finally:
            setitimer(prof, 0)
    except BaseException as e:
        verdict = classify(e)
        spent(verdict)
        if verdict == "exit" and limits.get("whole_program") and getattr(e, "code", 1) in (None, 0):
            verdict = "pass"  # a whole program may end with exit() after printing, as in a terminal
    board.finish(-1, verdict)
    if verdict != "pass":
        return False
    # Tests run in their own scope over the program's names: what a test defines (a `check` function and its
    # expected values) is not in the globals of the program's functions.
    overlay = any(type(t) is tuple and t[0] == "process" for t in tests)
    scope = {} if overlay else namespace
    timeouts, stop_on_failure = limits["timeouts"], limits.get("stop_on_failure")
    for index in range(start, len(tests)):
        test, verdict = tests[index], None
        if overlay:
            scope.update(namespace)
        board.begin(index, clock())
        try:
            try:
                stage_timer(timeouts[index])
                if type(test) is str:
                    verdict = "test:" + test
                elif test[0] == "split":
                    values, raised = probe_values(test[1], scope)
                    bindings = [[name, _binding(scope, name)] for name in test[2]]
                    setitimer(prof, 0)
                    board_mod.put_record(
                        arena, index, json.dumps([values, bindings], ensure_ascii=True).encode("ascii")
                    )
                    verdict = "raised" if raised else "values"
                else:
                    exec(test[1], scope)
                    verdict = "pass"
            finally:
                setitimer(prof, 0)
        except BaseException as e:
            if verdict is None:
                verdict = classify(e)
                spent(verdict)
        board.finish(index, verdict)
        if stop_on_failure and verdict not in ("pass", "values"):
            break
    board.begin(len(tests), clock())
    return True
