"""The execution engine: run untrusted programs against tests, fast, isolated and exact."""

from acecoder.execution.engine import (
    ExecutionEngine,
    ExecutionSummary,
    Executor,
    Job,
    JobResult,
    SandboxError,
)
from acecoder.execution.limits import Limits
from acecoder.execution.program import extract_program

__all__ = [
    "ExecutionEngine",
    "ExecutionSummary",
    "Executor",
    "Job",
    "JobResult",
    "Limits",
    "SandboxError",
    "extract_program",
]
