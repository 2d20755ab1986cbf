"""One thread owns the execution engine; any number of callers (threads or event loops) submit jobs to it.

``ExecutionEngine.run`` serves one run at a time and must be consumed by one thread. Rewards are asked for by
many callers at once (TRL's async reward functions, verl's per-sample reward workers, OpenRLHF's one-sample
requests), so the engine sits behind :class:`EngineDispatcher`: callers put ``(job, future)`` items on a queue
and signal an eventfd; the dispatcher thread feeds them into one long engine stream (new arrivals join as
servers free up, so concurrent one-sample calls are micro-batched) and resolves each future as soon as its
program finishes, whatever runs beside it (a looping sample holds back no other caller).

Back-pressure: at most ``max_pending`` jobs are queued or running; further callers wait (threads on a
semaphore, coroutines on a per-event-loop ``asyncio.Semaphore``) instead of piling up work. The sandbox servers
are separate processes started with their own interpreter (never forked from the caller), so creating the
dispatcher before a trainer loads its model keeps the model's memory out of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from acecoder.execution import ExecutionEngine, Job, JobResult, Limits

_STOP = object()


@dataclass(eq=False)
class _Item:
    job: Job | Callable[[], Job]
    future: Future


class EngineDispatcher:
    """Runs jobs submitted from any thread or event loop on one engine, owned by one dispatcher thread.

    ``engine``: an :class:`~acecoder.execution.ExecutionEngine` to own (started here if it is not), or None
    to build one from ``workers`` and ``limits``. ``start=False`` defers starting the engine's servers to the
    first submission.
    """

    def __init__(
        self,
        engine: ExecutionEngine | None = None,
        *,
        workers: int | None = None,
        limits: Limits | None = None,
        max_pending: int = 4096,
        start: bool = True,
    ):
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        self.engine = engine or ExecutionEngine(workers=workers, limits=limits)
        self.max_pending = max_pending
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._wakeup = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)  # "the queue has work" for the engine
        self._slots = threading.BoundedSemaphore(max_pending)
        self._loop_slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.pending = 0  # jobs queued or running
        if start:
            try:
                self.start()
            except BaseException:
                os.close(self._wakeup)
                raise

    # ------------------------------------------------------------------------------------------ lifecycle
    def start(self) -> EngineDispatcher:
        """Start the engine's servers (in the calling thread, so errors surface here) and the dispatcher."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the reward engine was closed")
            if self._thread is None:
                self.engine.start()
                self._thread = threading.Thread(
                    target=self._serve, name="acecoder-reward-engine", daemon=True
                )
                self._thread.start()
        return self

    def close(self) -> None:
        """Finish the queued jobs, stop the thread and the engine's servers."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._put(_STOP)
            thread.join()
        while True:  # submitted while closing: never served
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Item) and item.future.set_running_or_notify_cancel():
                item.future.set_exception(RuntimeError("the reward engine was closed"))
        self.engine.close()
        os.close(self._wakeup)

    def __enter__(self) -> EngineDispatcher:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ submitting
    def submit(self, jobs: Sequence[Job | Callable[[], Job]]) -> list[Future]:
        """Queue jobs (blocking while ``max_pending`` are in flight); one future per job, in order.

        A job may be a callable that builds it: it is then called in the dispatcher thread, just before the
        engine runs it (how rewards keep all ``ast`` work in one thread, see :mod:`acecoder.reward.scoring`)."""
        self.start()
        futures = []
        for job in jobs:
            self._slots.acquire()
            futures.append(self._enqueue(job))
        return futures

    def run(
        self, jobs: Sequence[Job | Callable[[], Job]], *, return_exceptions: bool = False
    ) -> list[JobResult]:
        """Run jobs and wait for all their results (from any thread but the dispatcher's); with
        ``return_exceptions`` a job the engine failed on gives its exception in place of a result."""
        results = []
        for future in self.submit(jobs):
            try:
                results.append(future.result())
            except Exception as e:
                if not return_exceptions:
                    raise
                results.append(e)
        return results

    async def arun(
        self, jobs: Sequence[Job | Callable[[], Job]], *, return_exceptions: bool = False
    ) -> list[JobResult]:
        """Run jobs from a coroutine without blocking its event loop (``return_exceptions`` as in :meth:`run`)."""
        self.start()
        slots = self._async_slots()
        futures = []
        for job in jobs:
            await slots.acquire()
            while not self._slots.acquire(blocking=False):  # threads hold the shared slots
                await asyncio.sleep(0.002)
            future = self._enqueue(job)
            future.add_done_callback(lambda _f, s=slots, loop=asyncio.get_running_loop(): _release(loop, s))
            futures.append(asyncio.wrap_future(future))
        return list(await asyncio.gather(*futures, return_exceptions=return_exceptions))

    def _async_slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._lock:
            slots = self._loop_slots.get(loop)
            if slots is None:
                slots = self._loop_slots[loop] = asyncio.Semaphore(self.max_pending)
        return slots

    def _enqueue(self, job: Job | Callable[[], Job]) -> Future:
        future: Future = Future()
        with self._lock:  # close() sets _closed under this lock: nothing is queued after its stop item
            if self._closed:
                self._slots.release()
                raise RuntimeError("the reward engine was closed")
            self.pending += 1
            self._put(_Item(job, future))
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future) -> None:
        with self._lock:
            self.pending -= 1
        self._slots.release()

    # ------------------------------------------------------------------------------------------ the thread
    def _serve(self) -> None:
        while True:
            first = self._queue.get()  # blocks while there is no work and no stream
            if first is _STOP:
                return
            running: dict[int, _Item] = {}
            pending = [first]  # taken from the queue, not yet handed to the engine
            stopped: list[bool] = []
            try:
                for index, result in self.engine.stream(self._live(pending, running, stopped), self._wakeup):
                    running.pop(index).future.set_result(result)
            except BaseException as e:  # the engine itself failed: every caller of this run hears it
                for item in [*running.values(), *pending]:
                    if isinstance(item, _Item):
                        with contextlib.suppress(Exception):
                            item.future.set_exception(e)
                if not isinstance(e, Exception):
                    raise
            if stopped:
                return

    def _live(self, pending: list, running: dict[int, _Item], stopped: list[bool]) -> Iterator[Job | None]:
        """The engine's stream: queued jobs as they arrive, None when the queue is empty (the engine then waits
        on its servers and on the wake-up descriptor); it ends when the dispatcher closes."""
        index = 0
        while True:
            if not pending:
                try:
                    pending.append(self._queue.get_nowait())
                except queue.Empty:
                    yield None
                    continue
            item = pending.pop()
            if item is _STOP:
                stopped.append(True)
                return
            assert isinstance(item, _Item)
            if not item.future.set_running_or_notify_cancel():  # its caller gave up
                continue
            try:
                job = item.job() if callable(item.job) else item.job
            except Exception as e:
                item.future.set_exception(e)
                continue
            running[index] = item
            index += 1
            yield job

    def _put(self, item: object) -> None:
        self._queue.put(item)
        os.eventfd_write(self._wakeup, 1)


def _release(loop: asyncio.AbstractEventLoop, slots: asyncio.Semaphore) -> None:
    """Release an event loop's slot from whichever thread resolved the future."""
    if loop.is_closed():
        return
    try:
        loop.call_soon_threadsafe(slots.release)
    except RuntimeError:  # the loop closed in between
        pass
