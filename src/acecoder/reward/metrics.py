"""Counters and latency percentiles of the reward server (``GET /metrics``)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from acecoder.reward.scoring import BatchStats

PERCENTILES = (50, 90, 99)


class ServerMetrics:
    """Requests, programs, timeouts and errors since start (``infra_errors``: samples the engine failed on after
    ``infra_retries`` retries; ``neutral_rewards``: how many of them got the neutral reward); latency
    percentiles over the last ``window`` requests. Thread-safe."""

    def __init__(self, window: int = 10000):
        self.started = time.monotonic()
        self.latencies: deque[float] = deque(maxlen=window)
        self.requests: dict[str, int] = {}
        self.rejected = 0
        self.failed = 0
        self.programs = 0
        self.all_passed = 0
        self.timeouts = 0
        self.infra_errors = 0
        self.infra_retries = 0
        self.neutral_rewards = 0
        self.in_flight = 0
        self._lock = threading.Lock()

    @contextmanager
    def track(self, endpoint: str) -> Iterator[RequestRecord]:
        """Count one request: its status (from an exception's ``status_code``, 500 for others), its latency
        and the programs of the ``stats`` it records."""
        record = RequestRecord()
        started = self.begin(endpoint)
        status = 200
        try:
            yield record
        except Exception as e:
            status = getattr(e, "status_code", 500)
            raise
        finally:
            self.end(started, record.stats, status=status)

    def begin(self, endpoint: str) -> float:
        with self._lock:
            self.requests[endpoint] = self.requests.get(endpoint, 0) + 1
            self.in_flight += 1
        return time.monotonic()

    def end(self, started: float, stats: BatchStats | None = None, *, status: int = 200) -> None:
        with self._lock:
            self.in_flight -= 1
            if status >= 500:
                self.failed += 1
            elif status >= 400:
                self.rejected += 1
            if stats is not None:
                self.latencies.append(time.monotonic() - started)
                self.programs += stats.samples
                self.all_passed += stats.all_passed
                self.timeouts += stats.timeouts
                self.infra_errors += stats.infra_errors
                self.infra_retries += stats.retried
                self.neutral_rewards += stats.neutral

    def snapshot(self, pending: int = 0) -> dict:
        with self._lock:
            latencies = sorted(self.latencies)
            uptime = time.monotonic() - self.started
            return {
                "uptime_s": round(uptime, 3),
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "rejected_4xx": self.rejected,
                "failed_5xx": self.failed,
                "in_flight_requests": self.in_flight,
                "pending_programs": pending,
                "programs": self.programs,
                "programs_per_s": round(self.programs / uptime, 2) if uptime > 0 else 0.0,
                "all_passed": self.all_passed,
                "timeouts": self.timeouts,
                "infra_errors": self.infra_errors,
                "infra_retries": self.infra_retries,
                "neutral_rewards": self.neutral_rewards,
                "latency_ms": {f"p{p}": _percentile(latencies, p) for p in PERCENTILES}
                | {"max": round(latencies[-1] * 1000, 2) if latencies else None, "window": len(latencies)},
            }


@dataclass
class RequestRecord:
    stats: BatchStats | None = None


def _percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[rank] * 1000, 2)
