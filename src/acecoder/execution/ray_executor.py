"""Run jobs on a Ray cluster: each Ray actor holds a local :class:`ExecutionEngine` (its fork servers run on the
actor's node), jobs travel in batches, results come back in input order with the local pool's verdicts.

    with RayExecutor(address="ray://head:10001", limits=Limits(timeout=1.0)) as executor:
        for result in executor.run(jobs):
            ...

Without an address a local Ray cluster is started (and stopped on close). Ray's token authentication is turned
off for clusters this module starts (``RAY_AUTH_MODE=disabled`` unless set). By default there is one actor per
alive node, pinned to it, with one sandbox worker per CPU of that node. :func:`make_executor` picks the local
pool or Ray from a name, for command lines and configs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from acecoder.execution.engine import ExecutionEngine, Job, JobResult
from acecoder.execution.limits import DEFAULT_PRELOAD, Limits

EXECUTORS = ("local", "ray")
INSTALL_HINT = "the Ray executor needs Ray: pip install 'acecoder[ray]'"
_ACTOR_CLASS: Any = None  # _EngineActor as a Ray actor class, made on first use
_RETRIES = (
    2  # replacement actors a batch may go through before its jobs are reported as infrastructure errors
)


def _ray():
    try:
        import ray
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return ray


class _EngineActor:
    """The body of a Ray actor: one started engine on the actor's node."""

    def __init__(self, engine_options: dict[str, Any]):
        self.engine = ExecutionEngine(**engine_options).start()

    def info(self) -> dict[str, Any]:
        import socket

        return {
            "workers": self.engine.workers,
            "isolation": self.engine.isolation,
            "host": socket.gethostname(),
        }

    def run(self, jobs: list[Job]) -> list[JobResult]:
        return list(self.engine.run(jobs))

    def close(self) -> None:
        self.engine.close()


class RayExecutor:
    """The :class:`~acecoder.execution.engine.Executor` protocol on Ray actors, each with a local engine.

    ``address``: an existing cluster (``auto``, ``ray://host:10001`` or ``host:6379``); None starts a local one
    with ``num_cpus`` CPUs (default: this machine's). ``actors``: how many engines (default: one per alive node,
    pinned to it); ``workers``: sandbox workers per actor (default: the node's CPUs, or 1 with ``actors``).
    ``batch_size`` jobs go to an actor per call and each actor has up to ``depth`` batches queued, so that it
    never waits for the driver. The other options are :class:`ExecutionEngine`'s."""

    def __init__(
        self,
        *,
        address: str | None = None,
        actors: int | None = None,
        workers: int | None = None,
        limits: Limits | None = None,
        interpreter: str | None = None,
        isolation: str = "auto",
        preload: Sequence[str] = DEFAULT_PRELOAD,
        batch_size: int = 32,
        depth: int = 2,
        num_cpus: int | None = None,
        dedupe: bool = True,
    ):
        if isolation not in ("auto", "namespaces", "none"):
            raise ValueError(f"isolation must be auto, namespaces or none, got {isolation!r}")
        if batch_size < 1 or depth < 1:
            raise ValueError("batch_size and depth must be at least 1")
        if actors is not None and actors < 1:
            raise ValueError("actors must be at least 1")
        self.address, self.actors, self.batch_size, self.depth = address, actors, batch_size, depth
        self.limits = limits or Limits()
        self.num_cpus = num_cpus
        self._workers = workers
        self._engine_options = {
            "limits": self.limits,
            "interpreter": interpreter,
            "isolation": isolation,
            "preload": list(preload),
            "dedupe": dedupe,
        }
        self._handles: list[Any] = []
        self._specs: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (actor options, engine options)
        self._owns_ray = False
        self._lock = threading.Lock()
        self.isolation: dict[str, Any] = {}
        self.workers = 0
        self.nodes: list[str] = []

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> RayExecutor:
        if self._handles:
            return self
        ray = _ray()
        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
            if self.address:
                options["address"] = self.address
            else:
                options["num_cpus"] = self.num_cpus or os.cpu_count() or 1
            ray.init(**options)
            self._owns_ray = True
        try:
            self._specs = self._plan(ray)
            self._handles = [self._spawn(ray, i) for i in range(len(self._specs))]
            infos = ray.get([h.info.remote() for h in self._handles])
        except BaseException:
            self.close()
            raise
        self.workers = sum(info["workers"] for info in infos)
        self.isolation = infos[0]["isolation"]
        self.nodes = sorted({info["host"] for info in infos})
        return self

    def _plan(self, ray) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Actor placement: one per alive node (pinned, the node's CPUs) unless ``actors`` is given."""
        if self.actors is not None:
            workers = self._workers or 1
            return [
                (
                    {"num_cpus": workers},
                    {**self._engine_options, "workers": workers, "uid_base": 64000 + i * workers},
                )
                for i in range(self.actors)
            ]
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        specs = []
        for node in ray.nodes():
            cpus = int(node.get("Resources", {}).get("CPU", 0))
            if not node.get("Alive") or cpus < 1:
                continue
            workers = self._workers or cpus
            strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
            specs.append(
                (
                    {"num_cpus": min(workers, cpus), "scheduling_strategy": strategy},
                    {**self._engine_options, "workers": workers},
                )
            )
        if not specs:
            raise RuntimeError("the Ray cluster has no alive node with a CPU")
        return specs

    def _spawn(self, ray, index: int):
        global _ACTOR_CLASS
        if _ACTOR_CLASS is None:
            _ACTOR_CLASS = ray.remote(_EngineActor)
        actor_options, engine_options = self._specs[index]
        return _ACTOR_CLASS.options(max_concurrency=1, **actor_options).remote(engine_options)

    def close(self) -> None:
        ray = _ray() if (self._handles or self._owns_ray) else None
        if ray is not None and ray.is_initialized():
            for handle in self._handles:
                try:
                    ray.get(handle.close.remote(), timeout=30)
                except Exception:  # a dead actor has nothing left to close
                    pass
                ray.kill(handle)
            if self._owns_ray:
                ray.shutdown()
        self._handles, self._owns_ray = [], False

    def __enter__(self) -> RayExecutor:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------- running
    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Yield one result per job, in input order; batches go to the least busy actor."""
        with self._lock:
            self.start()
            yield from self._dispatch(iter(jobs))

    def run_one(self, program: str, tests: Sequence[str], limits: Limits | None = None) -> JobResult:
        return next(iter(self.run([Job(program, tests, limits)])))

    def _dispatch(self, source: Iterator[Job]) -> Iterator[JobResult]:
        ray = _ray()
        busy = [0] * len(self._handles)
        pending: dict[
            Any, tuple[int, int, list[Job], int, Any]
        ] = {}  # ref -> (batch, actor, jobs, attempt, handle)
        done: dict[int, list[JobResult]] = {}
        submitted = emitted = 0
        exhausted = False
        window = len(self._handles) * self.depth * 4  # batches held ahead of the one being waited for

        def submit(index: int, batch: list[Job], attempt: int) -> None:
            actor = min(range(len(busy)), key=busy.__getitem__)
            busy[actor] += 1
            handle = self._handles[actor]
            pending[handle.run.remote(batch)] = (index, actor, batch, attempt, handle)

        while True:
            while not exhausted and min(busy) < self.depth and submitted - emitted < window:
                batch = list(islice(source, self.batch_size))
                if not batch:
                    exhausted = True
                    break
                submit(submitted, batch, 0)
                submitted += 1
            while emitted in done:
                yield from done.pop(emitted)
                emitted += 1
            if not pending:
                if exhausted:
                    return
                continue
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            index, actor, batch, attempt, handle = pending.pop(ref)
            busy[actor] -= 1
            try:
                done[index] = ray.get(ref)
            except ray.exceptions.RayActorError as e:
                if (
                    self._handles[actor] is handle
                ):  # the batches queued behind this one find it replaced already
                    self._replace(ray, actor)
                if attempt < _RETRIES:
                    submit(index, batch, attempt + 1)
                else:
                    reason = f"Ray actor died running this batch: {type(e).__name__}"
                    done[index] = [_infra(job, reason) for job in batch]

    def _replace(self, ray, actor: int) -> None:
        """Start a new actor in the place of one that died (the jobs it had queued are resubmitted by the caller)."""
        try:
            ray.kill(self._handles[actor])
        except Exception:
            pass
        self._handles[actor] = self._spawn(ray, actor)


def _infra(job: Job, reason: str) -> JobResult:
    n = len(job.tests)
    return JobResult([0] * n, ["infra"] * n, infra_error=reason)


def make_executor(
    kind: str = "local",
    *,
    ray_address: str | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
    interpreter: str | None = None,
    isolation: str = "auto",
    preload: Sequence[str] = DEFAULT_PRELOAD,
    dedupe: bool = True,
) -> ExecutionEngine | RayExecutor:
    """The local pool (``local``) or a :class:`RayExecutor` (``ray``) with the same options; an address without
    ``ray`` is an error rather than silently ignored."""
    options = {
        "limits": limits,
        "interpreter": interpreter,
        "isolation": isolation,
        "preload": preload,
        "dedupe": dedupe,
    }
    if kind == "local":
        if ray_address:
            raise ValueError("a Ray address was given but the executor is local: add --executor ray")
        return ExecutionEngine(workers=workers or None, **options)
    if kind == "ray":
        _ray()
        return RayExecutor(address=ray_address or None, workers=workers or None, **options)
    raise ValueError(f"unknown executor {kind!r}; expected one of {', '.join(EXECUTORS)}")
