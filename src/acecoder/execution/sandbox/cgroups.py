"""One cgroup per worker: the program's whole process tree shares its memory cap, process cap and CPU account.

cgroup v2 when its memory, pids and cpu controllers are available, else the v1 hierarchies (memory, pids, cpu,
cpuacct). Every program a worker runs joins the worker's cgroup before it starts, so CPU time is counted over
the whole tree (forked children cannot hide from the per-test and per-program budgets), memory is capped for
the tree together, and workers get equal CPU shares (one program's busy children cannot starve a neighbour).
File descriptors are opened once, before the server leaves the host's file system.
"""

import os
import signal
import time

_V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")


def _mounts():
    """(fstype, mount point, super options) of every cgroup file system."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], fields[sep + 3] if len(fields) > sep + 3 else ""
            if fstype in ("cgroup", "cgroup2"):
                found.append((fstype, fields[4], options.split(",")))
    return found


def _own_paths():
    """Controller (or "" for v2) -> this process's cgroup path."""
    paths = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


class WorkerCgroup:
    """The cgroup of one sandbox worker: ``<engine>/<worker>``, the engine's group unique per engine instance.

    The engine's group gets the CPU weight of ``workers`` ordinary processes, each worker an equal part of it:
    programs get their fair share of a busy machine (a group at the default weight would count as a single
    process against every other one), and one program's busy children cannot starve a neighbour."""

    def __init__(self, engine, worker, workers, memory_bytes, max_pids, warnings):
        self.engine, self.workers = engine, workers
        name = engine + "/" + worker
        self.version = None
        self.dirs = []
        self.join_fds = []  # cgroup.procs files a child writes "0" to, to join
        self.server_fds = []  # those the server joins once (cgroup v1's cpu and cpuacct)
        self._limit_fds = {}  # "memory" / "pids" -> the file setting that cap
        self._procs_fd = self._cpu_fd = self._oom_fd = self._kill_fd = None  # _procs_fd: the directory
        try:
            self._setup(name, memory_bytes, max_pids)
        except OSError as e:
            warnings.append("no cgroup (limits stay per process): %s" % e)
            self.close()
            self.version = None

    def _setup(self, name, memory_bytes, max_pids):
        mounts, own = _mounts(), _own_paths()
        v2 = [m for m in mounts if m[0] == "cgroup2"]
        if v2:
            root = v2[0][1]
            try:
                with open(os.path.join(root, "cgroup.controllers")) as f:
                    available = set(f.read().split())
            except OSError:
                available = set()
            if {"memory", "pids", "cpu"} <= available:
                return self._setup_v2(root, name, memory_bytes, max_pids)
        mount_of = {}
        for fstype, point, options in mounts:
            if fstype == "cgroup":
                for controller in _V1_CONTROLLERS:
                    if controller in options:
                        mount_of.setdefault(controller, point)
        missing = [c for c in _V1_CONTROLLERS if c not in mount_of]
        if missing:
            raise OSError("cgroup controllers unavailable: %s" % ", ".join(missing))
        self.version = 1
        done = {}
        for controller in _V1_CONTROLLERS:
            base = mount_of[controller] + own.get(controller, "/")
            path = os.path.join(base.rstrip("/"), name)
            if path not in done:
                os.makedirs(path, exist_ok=True)
                self.dirs.append(path)
                if controller == "cpu":
                    _write(os.path.join(os.path.dirname(path), "cpu.shares"), str(1024 * self.workers))
                procs = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY)
                # CPU shares and accounting are the server's too (its children inherit them: no move per
                # program; its own CPU is a rounding error of a program's budget); memory and process caps are
                # the program's alone.
                (self.server_fds if controller in ("cpu", "cpuacct") else self.join_fds).append(procs)
                done[path] = True
            if controller == "memory":
                self._limit_fds["memory"] = os.open(os.path.join(path, "memory.limit_in_bytes"), os.O_WRONLY)
                self._oom_fd = os.open(os.path.join(path, "memory.oom_control"), os.O_RDONLY)
            elif controller == "pids":
                self._limit_fds["pids"] = os.open(os.path.join(path, "pids.max"), os.O_WRONLY)
                self._procs_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            elif controller == "cpuacct":
                self._cpu_fd = os.open(os.path.join(path, "cpuacct.usage"), os.O_RDONLY)
        self.set_limits(memory_bytes, max_pids)

    def _setup_v2(self, root, name, memory_bytes, max_pids):
        self.version = 2
        parent = os.path.join(root, self.engine)
        os.makedirs(parent, exist_ok=True)
        for directory in (root, parent):
            try:
                _write(os.path.join(directory, "cgroup.subtree_control"), "+memory +pids +cpu")
            except OSError:
                pass
        try:
            _write(os.path.join(parent, "cpu.weight"), str(min(10000, 100 * self.workers)))
        except OSError:
            pass
        path = os.path.join(parent, name.rsplit("/", 1)[1])
        os.makedirs(path, exist_ok=True)
        self.dirs.append(path)
        try:
            _write(os.path.join(path, "memory.swap.max"), "0")
        except OSError:
            pass
        self._limit_fds["memory"] = os.open(os.path.join(path, "memory.max"), os.O_WRONLY)
        self._limit_fds["pids"] = os.open(os.path.join(path, "pids.max"), os.O_WRONLY)
        self.set_limits(memory_bytes, max_pids)
        self.join_fds.append(os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY))
        self._procs_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        self._cpu_fd = os.open(os.path.join(path, "cpu.stat"), os.O_RDONLY)
        self._oom_fd = os.open(os.path.join(path, "memory.events"), os.O_RDONLY)
        try:
            self._kill_fd = os.open(os.path.join(path, "cgroup.kill"), os.O_WRONLY)
        except OSError:
            self._kill_fd = None

    def set_limits(self, memory_bytes, max_pids):
        """The caps on the whole process tree of each program (memory in bytes, processes and threads)."""
        os.pwrite(self._limit_fds["memory"], str(memory_bytes).encode(), 0)
        os.pwrite(self._limit_fds["pids"], str(max_pids).encode(), 0)

    def join_server(self):
        """The server joins the controllers its children may inherit."""
        for fd in self.server_fds:
            os.write(fd, b"0")

    @property
    def active(self):
        return self.version is not None

    def cpu_seconds(self):
        """CPU time used by every process that ever ran in this cgroup."""
        data = os.pread(self._cpu_fd, 4096, 0)
        if self.version == 1:
            return int(data) / 1e9
        for line in data.split(b"\n"):
            if line.startswith(b"usage_usec "):
                return int(line.split()[1]) / 1e6
        return 0.0

    def oom_kills(self):
        for line in os.pread(self._oom_fd, 4096, 0).split(b"\n"):
            if line.startswith(b"oom_kill "):
                return int(line.split()[1])
        return 0

    def pids(self):
        """The processes in the cgroup now (opened afresh: cgroup v1 caches the list per open file)."""
        fd = os.open("cgroup.procs", os.O_RDONLY, dir_fd=self._procs_fd)
        try:
            return [int(p) for p in os.read(fd, 1 << 20).split()]
        finally:
            os.close(fd)

    def kill_all(self):
        """Kill every process in the cgroup and wait (bounded) until it is empty."""
        deadline = time.monotonic() + 5
        if self._kill_fd is not None:
            try:
                os.write(self._kill_fd, b"1")
            except OSError:
                pass
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                return not pids
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.0002)

    def close(self):
        fds = self.join_fds + self.server_fds + list(self._limit_fds.values())
        for fd in [*fds, self._procs_fd, self._cpu_fd, self._oom_fd, self._kill_fd]:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.join_fds, self.server_fds, self._limit_fds = [], [], {}
        self._procs_fd = self._cpu_fd = self._oom_fd = self._kill_fd = None
