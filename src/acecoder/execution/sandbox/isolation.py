"""Isolation a sandbox server enters once: namespaces, a minimal read-only root, a fresh /proc, seccomp.

After :func:`enter`, the server (still root inside its namespaces) sees only a small tree: the interpreter, its
site-packages and sys.path entries, the system's shared libraries and programs (/usr), a few files of /etc,
null/zero/full/random/urandom in /dev, a /proc of its own PID namespace and a /tmp mount point for each
program's scratch tmpfs. Host files, host processes and host unix sockets are out of reach.
"""

import ctypes
import os
import platform
import select
import signal
import sys

libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_SET_DUMPABLE = 1, 38, 22, 4
PR_SET_CHILD_SUBREAPER = 36

# The new root is built on a tmpfs mounted over this (host) directory inside the server's private mount
# namespace; the host never sees what is mounted there.
ROOT_MOUNT = os.path.join(os.environ.get("TMPDIR") or "/tmp", ".acecoder-sandbox")
SCRATCH = "/tmp"  # each program's scratch tmpfs, inside the new root (see scratch_point)

_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "host.conf",
    "services",
    "protocols",
    "mime.types",
    "os-release",
)
_DEVICES = ("null", "zero", "full", "random", "urandom")
_DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1"}
_DEV_LINKS.update({"stderr": "/proc/self/fd/2"})


def _errno_text():
    return os.strerror(ctypes.get_errno())


def mount(source, target, fstype, flags, data=None):
    result = libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if result != 0:
        raise OSError(ctypes.get_errno(), "mount %s: %s" % (target, _errno_text()))


def umount(target):
    if libc.umount2(target.encode(), MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "umount %s: %s" % (target, _errno_text()))


def _locked_flags(path):
    """Flags a bind mount of ``path`` must keep when remounted (in a user namespace they are locked)."""
    try:
        flag = os.statvfs(path).f_flag
    except OSError:
        return 0
    pairs = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, MS_NOATIME))
    pairs += ((2048, MS_NODIRATIME), (4096, MS_RELATIME))
    return sum(ms for st, ms in pairs if flag & st)


def _make_parents(root, path):
    """Create ``root + dirname(path)`` as plain directories (mode 0755), never following a link."""
    current = root
    for part in os.path.dirname(path).strip("/").split("/"):
        if not part:
            continue
        current = os.path.join(current, part)
        if os.path.islink(current):
            raise OSError("path crosses a link inside the sandbox root: %s" % current)
        if not os.path.isdir(current):
            os.mkdir(current, 0o755)


def bind_read_only(root, source, target=None):
    """Bind ``source`` at the same path (or ``target``) under ``root``, read-only, no set-uid."""
    target = root + (target or source)
    _make_parents(root, target[len(root) :])
    if os.path.isdir(source):
        if not os.path.isdir(target):
            os.mkdir(target, 0o755)
    elif not os.path.exists(target):
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
    mount(source, target, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | _locked_flags(source)
    mount(None, target, None, flags)


def _covered(path, bound):
    return any(path == b or path.startswith(b.rstrip("/") + "/") for b in bound)


def runtime_paths():
    """Where the interpreter, its standard library and its packages live (as given and as resolved)."""
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    paths += [p for p in sys.path if p]
    paths.append(os.path.dirname(sys.executable))
    out = []
    for path in paths:
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            if os.path.exists(candidate) and candidate not in out:
                out.append(candidate)
    return sorted(out, key=len)


def build_root(root, warnings):
    """Mount a tmpfs at ``root`` and fill it with the minimal read-only tree."""
    mount("tmpfs", root, "tmpfs", MS_NOSUID, "size=8m,mode=0755")
    bound = []
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), root + path)
        elif os.path.isdir(path):
            bind_read_only(root, path)
            bound.append(path)
    for path in runtime_paths():
        if _covered(path, bound) or _covered(os.path.realpath(path), bound):
            continue
        try:
            bind_read_only(root, path)
            bound.append(path)
        except OSError as e:
            warnings.append("cannot bind %s into the sandbox: %s" % (path, e))
    os.mkdir(root + "/etc", 0o755)
    for name in _ETC_FILES:
        path = "/etc/" + name
        try:
            if os.path.islink(path):
                os.symlink(os.readlink(path), root + path)
            elif os.path.exists(path):
                bind_read_only(root, path)
        except OSError as e:
            warnings.append("cannot bind %s into the sandbox: %s" % (path, e))
    os.mkdir(root + "/dev", 0o755)
    for name in _DEVICES:
        if os.path.exists("/dev/" + name):
            target = root + "/dev/" + name
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
            mount("/dev/" + name, target, None, MS_BIND)
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC | MS_RDONLY)
    for name, link in _DEV_LINKS.items():
        os.symlink(link, root + "/dev/" + name)
    os.mkdir(root + MQUEUE, 0o755)
    os.symlink(scratch_point(bound), root + "/dev/shm")
    for name in ("proc", "tmp"):
        if not os.path.isdir(root + "/" + name):
            os.mkdir(root + "/" + name, 0o755)
    scratch = scratch_point(bound)
    if not os.path.isdir(root + scratch):
        os.mkdir(root + scratch, 0o755)
    return scratch


def scratch_point(bound):
    """/tmp, unless part of the runtime lives under /tmp (a venv there): then a directory inside it, so that
    each program's scratch tmpfs hides nothing."""
    if any(_covered(path, [SCRATCH]) for path in bound):
        return SCRATCH + "/.acecoder-scratch"
    return SCRATCH


def pivot(root):
    """Make ``root`` the root of this mount namespace and drop the old root (the pivot_root(".", ".") idiom)."""
    os.chdir(root)
    number = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
    if number is None or libc.syscall(number, b".", b".") != 0:
        raise OSError(ctypes.get_errno(), "pivot_root: %s" % _errno_text())
    umount(".")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID)


def unshare_namespaces(warnings):
    """Network, mount, IPC, UTS and PID namespaces (inside a user namespace when not root). True on success."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    if uid != 0:
        flags |= CLONE_NEWUSER
    if libc.unshare(flags) != 0:
        warnings.append("unshare(user, net, mount, ipc, uts, pid) failed: %s" % _errno_text())
        return False
    if uid != 0:
        for name, text in (("setgroups", "deny"), ("uid_map", "0 %d 1" % uid), ("gid_map", "0 %d 1" % gid)):
            with open("/proc/self/" + name, "w") as f:
                f.write(text)
    try:
        mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError as e:
        warnings.append(str(e))
        return False
    return True


def start_namespace_init(proc_target):
    """Fork the PID namespace's init. It mounts a fresh /proc for the namespace at ``proc_target`` (None:
    none), reaps orphans, and exits when the server does (its end of a pipe closes); the kernel then kills
    every process left in the namespace. Returns (pid, lifeline fd, whether /proc was mounted)."""
    lifeline_r, lifeline_w = os.pipe()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(lifeline_r)
        os.close(ready_w)
        answer = os.read(ready_r, 1)
        os.close(ready_r)
        return pid, lifeline_w, answer == b"1"
    try:
        mounted = b"0"
        if proc_target:
            try:
                mount("proc", proc_target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
                mounted = b"1"
            except OSError:
                pass
        os.write(ready_w, mounted)
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
            if select.select([wake_r], [], [], 0)[0]:
                os.read(wake_r, 4096)
            try:
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            except ChildProcessError:
                pass
    finally:
        os._exit(0)


# ------------------------------------------------------------------------------------------------ seccomp

_ARCH = {
    # machine: (AUDIT_ARCH, clone, unshare, clone3, [syscalls refused outright])
    # refused: add_key, request_key, keyctl, userfaultfd, perf_event_open, io_uring_setup/enter/register
    "x86_64": (0xC000003E, 56, 272, 435, [248, 249, 250, 323, 298, 425, 426, 427]),
    "aarch64": (0xC00000B7, 220, 97, 435, [217, 218, 219, 282, 241, 425, 426, 427]),
}


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def install_seccomp(warnings):
    """Refuse creating user namespaces (clone/unshare with CLONE_NEWUSER; clone3, whose flags a filter cannot
    read, answers ENOSYS so libc falls back to clone), kernel keyrings, userfaultfd, perf events, io_uring and
    foreign-ABI system calls. Installed once in the server; every child inherits it."""
    spec = _ARCH.get(platform.machine())
    if spec is None:
        warnings.append(
            "no seccomp filter for %s: user namespaces stay available to programs" % platform.machine()
        )
        return False
    arch, clone, unshare, clone3, refused = spec
    ld_w_abs, jeq, jset, ret = 0x20, 0x15, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38
    program = [(ld_w_abs, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, enosys), (ld_w_abs, 0, 0, 0)]
    program.append((jset, 0, 1, 0x40000000))  # x32 system call numbers
    program.append((ret, 0, 0, enosys))
    program.append((jeq, 0, 1, clone3))
    program.append((ret, 0, 0, enosys))
    for number in refused:
        program.append((jeq, 0, 1, number))
        program.append((ret, 0, 0, enosys))
    program.append((jeq, 1, 0, clone))
    program.append((jeq, 0, 3, unshare))
    program.append((ld_w_abs, 0, 0, 16))  # low 32 bits of the first argument (the flags)
    program.append((jset, 0, 1, CLONE_NEWUSER))
    program.append((ret, 0, 0, eperm))
    program.append((ret, 0, 0, allow))
    filters = (_SockFilter * len(program))(*[_SockFilter(*i) for i in program])
    fprog = _SockFprog(len(program), filters)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if libc.prctl(PR_SET_SECCOMP, 2, ctypes.byref(fprog), 0, 0) != 0:
        warnings.append("seccomp filter refused: %s" % _errno_text())
        return False
    return True


# ------------------------------------------------------------------------------------------- credentials


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


# Built before any fork: creating ctypes objects in each child costs more than all its other set-up together.
_CAP_HEADER = _CapHeader(0x20080522, 0)
_NO_CAPS = (_CapData * 2)(_CapData(0, 0, 0), _CapData(0, 0, 0))
_CAPSET = libc.capset
_PRCTL = libc.prctl
_HEADER_REF = ctypes.byref(_CAP_HEADER)


_READ_SEARCH = 1 << 2  # CAP_DAC_READ_SEARCH
_KEEP_READ_SEARCH = (_CapData * 2)(_CapData(_READ_SEARCH, _READ_SEARCH, 0), _CapData(0, 0, 0))
PR_SET_KEEPCAPS = 8


def drop_to(uid, keep_read_search=False):
    """In the child: become ``uid`` (no groups, no capabilities). Without root, drop every capability the
    user namespace gave instead (the sandbox then has a single uid). ``keep_read_search`` (only where the
    minimal root could not be built) keeps CAP_DAC_READ_SEARCH, so an interpreter under a private home stays
    importable."""
    if uid is not None:
        if keep_read_search:
            _PRCTL(PR_SET_KEEPCAPS, 1, 0, 0, 0)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        if keep_read_search and _CAPSET(_HEADER_REF, _KEEP_READ_SEARCH) != 0:
            raise OSError(ctypes.get_errno(), "capset: " + _errno_text())
        return  # changing uid already made the process non-dumpable (its /proc files are root's)
    if _CAPSET(_HEADER_REF, _NO_CAPS) != 0:
        raise OSError(ctypes.get_errno(), "capset: " + _errno_text())
    _PRCTL(PR_SET_DUMPABLE, 0, 0, 0, 0)


def server_prctl():
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


MQUEUE = (
    "/dev/mqueue"  # the POSIX message queues of the server's IPC namespace (mounted by new_ipc_namespace)
)
_SYSV = ("/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem")


def ipc_objects_left():
    """Whether the current IPC namespace holds a SysV object or a POSIX message queue (or cannot tell)."""
    for path in _SYSV:
        try:
            with open(path, "rb") as f:
                if f.read().count(b"\n") > 1:  # a header line, then one line per object
                    return True
        except OSError:
            return True
    try:
        return bool(os.listdir(MQUEUE))
    except OSError:
        return True


def new_ipc_namespace():
    """A fresh IPC namespace for the next child, with its own message-queue file system at /dev/mqueue."""
    if libc.unshare(CLONE_NEWIPC) != 0:
        raise OSError(ctypes.get_errno(), "unshare(ipc): " + _errno_text())
    try:
        umount(MQUEUE)
    except OSError:
        pass
    mount("mqueue", MQUEUE, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
