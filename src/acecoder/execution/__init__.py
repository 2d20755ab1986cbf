"""The execution engine: run untrusted programs against tests, fast, isolated and exact."""

from acecoder.execution.engine import ExecutionEngine
from acecoder.execution.jobs import ExecutionSummary, Executor, Job, JobResult
from acecoder.execution.limits import Limits
from acecoder.execution.program import extract_program
from acecoder.execution.rows import BODY_TEMPLATE, ProgramTemplate, RowSummary, execute_rows, row_jobs
from acecoder.execution.testkinds import CallTest, StdinTest, parse_test
from acecoder.execution.values import Opaque, Raised
from acecoder.execution.worker import SandboxError

SUPPORTS_TEST_KINDS = True
"""The engine accepts stdin tests and functional calls beside assert strings."""

__all__ = [
    "BODY_TEMPLATE",
    "SUPPORTS_TEST_KINDS",
    "CallTest",
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
    "StdinTest",
    "execute_rows",
    "extract_program",
    "parse_test",
    "row_jobs",
]
