"""Error classes that tell the client what to do with a failed call, and lazy imports with install hints."""

from __future__ import annotations

import importlib
from types import ModuleType


class BackendError(Exception):
    """A call failed for a reason retrying will not fix (bad request, context too long): record it, go on."""


class RetryableError(BackendError):
    """A call failed for a transient reason (429, 5xx, timeout, lost connection): back off and try again.

    ``retry_after`` is the server's hint in seconds; ``rate_limited`` marks a 429, which pauses every worker.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, rate_limited: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class FatalBackendError(BackendError):
    """Every call would fail the same way (bad API key, unknown model): stop the run."""


def require(module: str, extra: str) -> ModuleType:
    """Import an optional stack or fail with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is needed here but is not installed: pip install 'acecoder[{extra}]'"
        ) from exc
