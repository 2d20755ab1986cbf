"""Async request and token rate limits (token buckets) with a shared pause after a 429."""

from __future__ import annotations

import asyncio
import random
import time


class _Bucket:
    """A token bucket holding up to ``per_minute`` units, refilled continuously; it may go negative when a
    settled call used more than was reserved."""

    def __init__(self, per_minute: float, burst_seconds: float):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.level = self.capacity
        self.stamp = time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` (capped at capacity) is available."""
        need = min(amount, self.capacity) - self.level
        return max(0.0, need / self.rate)


class RateLimiter:
    """Requests per minute and tokens per minute (prompt + completion), either optional.

    A caller reserves an estimate with :meth:`acquire` and corrects it with :meth:`settle` once the real usage
    is known. :meth:`pause` holds every caller back, e.g. for a server's Retry-After on a 429. A bucket
    holds ``burst_seconds`` worth of its rate (a full minute by default, like the providers' windows).
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        burst_seconds: float = 60.0,
    ):
        self._requests = _Bucket(requests_per_minute, burst_seconds) if requests_per_minute else None
        self._tokens = _Bucket(tokens_per_minute, burst_seconds) if tokens_per_minute else None
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.pauses = 0

    @property
    def paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def pause(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1

    async def wait_pause(self) -> None:
        while (delay := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    async def acquire(self, tokens: int = 0) -> None:
        async with self._lock:
            while True:
                await self.wait_pause()
                now = time.monotonic()
                delay = 0.0
                for bucket, amount in ((self._requests, 1), (self._tokens, tokens)):
                    if bucket is not None:
                        bucket.refill(now)
                        delay = max(delay, bucket.wait_for(amount))
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            if self._requests is not None:
                self._requests.level -= 1
            if self._tokens is not None:
                self._tokens.level -= tokens

    def settle(self, reserved: int, used: int) -> None:
        """Give back (or take) the difference between the reserved and the real token count."""
        if self._tokens is not None:
            self._tokens.level = min(self._tokens.capacity, self._tokens.level + reserved - used)


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter for retry ``attempt`` (1-based): uniform in [b/2, b]."""
    bound = min(cap, base * 2 ** (attempt - 1))
    return random.uniform(bound / 2, bound)
