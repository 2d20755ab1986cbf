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
from acecoder.execution.rows import BODY_TEMPLATE, ProgramTemplate, RowSummary, execute_rows, row_jobs
from acecoder.execution.values import Opaque, Raised

__all__ = [
    "BODY_TEMPLATE",
    "ExecutionEngine",
    "ExecutionSummary",
    "Executor",
    "Job",
    "JobResult",
    "Limits",
    "Opaque",
    "ProgramTemplate",
    "Raised",
    "RowSummary",
    "SandboxError",
    "execute_rows",
    "extract_program",
    "row_jobs",
]
