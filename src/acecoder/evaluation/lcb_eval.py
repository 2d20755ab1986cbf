"""``acecoder evaluate --benchmark livecodebench``: judge samples on LiveCodeBench problems; pass@1 over n samples,
overall, per difficulty and per platform, as LiveCodeBench reports it.

Samples (JSONL, JSONL.gz or Parquet), any of:

* LiveCodeBench's own output rows: ``question_id`` and ``code_list`` (extracted programs) or ``output_list``
  (answers, extracted here);
* ``acecoder sample`` rows (``id`` = question id; ``inferences[].raw_completion``, the answer, else
  ``inferences[].completion``, a program);
* flat rows: ``question_id`` (or ``task_id``) and ``completion`` / ``solution`` (answers) or ``code``.

Answers are cut as LiveCodeBench cuts them (:func:`~acecoder.evaluation.lcb_data.extract_code`: the last fenced
block; no block, no program). OUT is SAMPLES with each sample's verdict added (LiveCodeBench rows:
``graded_list`` and ``pass@1``; AceCode rows: ``inferences[].lcb_passed``; flat rows: ``lcb_passed``), plus
``lcb_error`` (the first failing test and why). Finished rows go to a progress file, so a killed run resumes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acecoder.data import DataError, RowWriter, iter_rows
from acecoder.data.checkpoint import Checkpoint, file_identity, fingerprint
from acecoder.data.io import file_format, write_atomic, write_json
from acecoder.evaluation import lcb_programs
from acecoder.evaluation.lcb_data import LcbBenchmark, LcbProblem, extract_code, problem_json
from acecoder.evaluation.metrics import pass_at_k
from acecoder.evaluation.runner import summary_paths
from acecoder.execution import Executor, Job, JobResult, Limits

PRIVATE = "__acecoder_lcb__"


@dataclass(frozen=True)
class LcbOptions:
    grader: str = "terminal"
    time_limit: float = lcb_programs.TIME_LIMIT
    group_by: str | None = None
    ks: tuple[int, ...] = (1, 5, 10)


@dataclass
class LcbSample:
    task_id: str
    code: str
    group: str
    where: tuple[str, int]
    """("code_list", i), ("inferences", i) or ("row", 0): where the verdict goes."""


def _task(row: dict[str, Any], bench: LcbBenchmark, loc: dict) -> LcbProblem | None:
    task_id = next((row[k] for k in ("question_id", "task_id", "id") if row.get(k) is not None), None)
    if task_id is None:
        raise DataError("no question_id (or task_id, id)", **loc)
    problem = bench.problems.get(str(task_id))
    if problem is None and str(task_id) not in bench.excluded:
        raise DataError(
            f"unknown LiveCodeBench question_id {task_id!r} ({len(bench.problems)} problems in "
            f"{', '.join(Path(f).name for f in bench.files)})",
            **loc,
        )
    return problem


def row_samples(row: dict[str, Any], bench: LcbBenchmark, options: LcbOptions, loc: dict) -> list[LcbSample]:
    """A row's samples (none when its problem is filtered out)."""
    if not isinstance(row, dict):
        raise DataError("expected a JSON object", **loc)
    problem = _task(row, bench, loc)
    if problem is None:
        return []

    def group(*sources: dict) -> str:
        if options.group_by is None:
            return "all"
        for source in sources:
            if source.get(options.group_by) is not None:
                return str(source[options.group_by])
        raise DataError("missing (needed by --group-by)", field=options.group_by, **loc)

    def text(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise DataError(f"expected a string, got {type(value).__name__}", field=name, **loc)
        return value

    qid = problem.question_id
    if isinstance(row.get("code_list"), list):
        return [
            LcbSample(qid, text(c, f"code_list[{i}]"), group(row), ("code_list", i))
            for i, c in enumerate(row["code_list"])
        ]
    if isinstance(row.get("output_list"), list):
        return [
            LcbSample(qid, extract_code(text(c, f"output_list[{i}]")), group(row), ("code_list", i))
            for i, c in enumerate(row["output_list"])
        ]
    if isinstance(row.get("inferences"), list):
        out = []
        for i, inf in enumerate(row["inferences"]):
            if not isinstance(inf, dict):
                raise DataError("expected an object", field=f"inferences[{i}]", **loc)
            if isinstance(inf.get("raw_completion"), str):  # the model's answer, cut as LiveCodeBench cuts it
                code = extract_code(inf["raw_completion"])
            else:  # a program already extracted (acecoder sample writes both)
                code = text(inf.get("completion"), f"inferences[{i}].completion")
            out.append(LcbSample(qid, code, group(inf, row), ("inferences", i)))
        return out
    for name in ("completion", "solution"):
        if name in row:
            return [LcbSample(qid, extract_code(text(row[name], name)), group(row), ("row", 0))]
    if "code" in row:
        return [LcbSample(qid, text(row["code"], "code"), group(row), ("row", 0))]
    raise DataError(
        "no samples: expected code_list, output_list, inferences, completion, solution or code", **loc
    )


def _error(result: JobResult) -> str | None:
    if result.passed_all:
        return None
    if result.setup_error:
        return f"program: {result.setup_error}"
    for index, error in enumerate(result.errors):
        if error is not None and error != "skipped":
            return f"test {index}: {error}"
    return "no test passed" if result.test_results else "no tests"


def _apply(
    row: dict[str, Any], samples: list[LcbSample], results: list[JobResult]
) -> tuple[dict, list[dict]]:
    graded: dict[int, bool] = {}
    private = []
    for sample, result in zip(samples, results, strict=True):
        verdict = None if result.infra_error else result.passed_all
        error = f"engine: {result.infra_error}" if result.infra_error else _error(result)
        kind, index = sample.where
        if kind == "code_list":
            graded[index] = bool(verdict)
            row.setdefault("lcb_errors", {})[str(index)] = error
        elif kind == "inferences":
            row["inferences"][index].update(lcb_passed=verdict, lcb_error=error)
        else:
            row.update(lcb_passed=verdict, lcb_error=error)
        private.append({"task": sample.task_id, "group": sample.group, "passed": verdict})
    if graded:
        row["graded_list"] = [graded[i] for i in sorted(graded)]
        row["pass@1"] = sum(row["graded_list"]) / len(row["graded_list"])
    return row, private


def _jobs_of(samples: list[LcbSample], bench: LcbBenchmark, options: LcbOptions, limits: Limits) -> list[Job]:
    return [lcb_programs.job(bench.problems[s.task_id], s.code, options.grader, limits) for s in samples]


def evaluate_rows(
    samples_path: str | os.PathLike,
    bench: LcbBenchmark,
    options: LcbOptions,
    executor: Executor,
    *,
    limits: Limits,
    skip: int = 0,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Each row of SAMPLES (after the first ``skip``) with its samples' verdicts, in input order."""
    pending: list[tuple[dict[str, Any], list[LcbSample]]] = []

    def jobs() -> Iterator[Job]:
        for index, (line, row) in enumerate(iter_rows(samples_path)):
            if index < skip:
                continue
            samples = row_samples(row, bench, options, {"path": str(samples_path), "row": line})
            pending.append((row, samples))
            yield from _jobs_of(samples, bench, options, limits)

    results: list[JobResult] = []
    for result in executor.run(jobs()):
        results.append(result)
        while pending and len(results) >= len(pending[0][1]):
            row, samples = pending.pop(0)
            done, results[: len(samples)] = results[: len(samples)], []
            out, private = _apply(row, samples, done)
            out[PRIVATE] = private
            if on_row is not None:
                on_row(out)
            yield out
    while pending:  # rows without samples (filtered out), after the last job
        row, samples = pending.pop(0)
        out, private = _apply(row, samples, [])
        out[PRIVATE] = private
        yield out


@dataclass
class _Problem:
    difficulty: str
    platform: str
    verdicts: list[bool] = field(default_factory=list)


def summarize(
    rows: Iterator[dict[str, Any]], bench: LcbBenchmark, options: LcbOptions, samples_file: str
) -> dict:
    groups: dict[str, dict[str, _Problem]] = {}
    unjudged = 0
    for row in rows:
        for item in row.get(PRIVATE, []):
            if item["passed"] is None:
                unjudged += 1
                continue
            problem = bench.problems[item["task"]]
            entry = groups.setdefault(item["group"], {}).setdefault(
                item["task"], _Problem(problem.difficulty, problem.platform)
            )
            entry.verdicts.append(bool(item["passed"]))
    figures = {name: _figures(tasks, options.ks) for name, tasks in sorted(groups.items())}
    notes = []
    for name, tasks in groups.items():
        if len(tasks) < len(bench.problems):
            notes.append(
                f"{name}: samples cover {len(tasks)} of the {len(bench.problems)} problems; figures are over those"
            )
    if bench.bundled:
        notes.append(
            "the bundled sample of LiveCodeBench problems (public tests only): pass --dataset with LiveCodeBench's "
            "test*.jsonl files for real figures"
        )
    if unjudged:
        notes.append(f"{unjudged} samples could not be judged (engine errors) and are left out")
    return {
        "benchmark": "livecodebench",
        "grader": options.grader,
        "dataset": bench.files,
        "release": bench.release,
        "filters": bench.filters,
        "problems": len(bench.problems),
        "samples_file": samples_file,
        "time_limit": options.time_limit,
        "groups": figures,
        "unjudged_samples": unjudged,
        "notes": notes,
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _figures(tasks: dict[str, _Problem], ks: tuple[int, ...]) -> dict[str, Any]:
    counts = [len(t.verdicts) for t in tasks.values()]
    low = min(counts) if counts else 0
    out: dict[str, Any] = {
        "problems": len(tasks),
        "samples": sum(counts),
        "samples_per_problem": [low, max(counts) if counts else 0],
        "pass@k": {
            f"pass@{k}": _mean([pass_at_k(len(t.verdicts), sum(t.verdicts), k) for t in tasks.values()])
            for k in ks
            if k <= low
        },
    }
    for key in ("difficulty", "platform"):
        values = sorted({getattr(t, key) for t in tasks.values()})
        out[f"pass@1_by_{key}"] = {
            v: {
                "problems": sum(1 for t in tasks.values() if getattr(t, key) == v),
                "pass@1": _mean(
                    [sum(t.verdicts) / len(t.verdicts) for t in tasks.values() if getattr(t, key) == v]
                ),
            }
            for v in values
        }
    return out


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        f"## LiveCodeBench ({summary['grader']} grader): {summary['samples_file']}",
        "",
        f"{summary['problems']} problems"
        + (f", release {summary['release']}" if summary["release"] else "")
        + f"; {summary['time_limit']:g} s per test; figures in %.",
        "",
        "| group | problems | samples/problem | pass@1 | easy | medium | hard |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for group, fig in summary["groups"].items():
        by = fig["pass@1_by_difficulty"]
        low, high = fig["samples_per_problem"]
        n = str(low) if low == high else f"{low}-{high}"
        lines.append(
            f"| {group} | {fig['problems']} | {n} | {_pct(fig['pass@k'].get('pass@1'))} | "
            + " | ".join(_pct(by.get(d, {}).get("pass@1")) for d in ("easy", "medium", "hard"))
            + " |"
        )
    for group, fig in summary["groups"].items():
        extra = {k: v for k, v in fig["pass@k"].items() if k != "pass@1"}
        if extra:
            lines.append(f"\n{group}: " + ", ".join(f"{k} {_pct(v)}" for k, v in extra.items()))
    if summary["notes"]:
        lines += ["", *[f"- {note}" for note in summary["notes"]]]
    return "\n".join(lines) + "\n"


def evaluate_livecodebench_file(
    samples_path: str | os.PathLike,
    out_path: str | os.PathLike,
    bench: LcbBenchmark,
    options: LcbOptions,
    executor: Executor,
    *,
    limits: Limits | None = None,
    resume: bool = True,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    on_resume: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Judge SAMPLES into OUT (resumable); write ``OUT.summary.json`` and ``.md``; return the summary."""
    samples_path, out_path = Path(samples_path), Path(out_path)
    if not samples_path.is_file():
        raise DataError("no such file", path=str(samples_path))
    if options.grader not in lcb_programs.GRADERS:
        raise ValueError(
            f"unknown grader {options.grader!r}; choose one of {', '.join(lcb_programs.GRADERS)}"
        )
    file_format(out_path)
    job_limits = lcb_programs.limits(limits or getattr(executor, "limits", None), options.time_limit)
    run_id = fingerprint(
        samples=file_identity(samples_path),
        problems=fingerprint(p=[problem_json(p) for p in bench.problems.values()]),
        options=dataclasses.asdict(options),
        limits=dataclasses.asdict(job_limits),
    )
    checkpoint = Checkpoint(out_path, run_id, resume=resume)
    if checkpoint.done and on_resume is not None:
        on_resume(checkpoint.done)
    with checkpoint:
        for row in evaluate_rows(
            samples_path, bench, options, executor, limits=job_limits, skip=checkpoint.done, on_row=on_row
        ):
            checkpoint.append(row)
    summary = summarize(checkpoint.rows(), bench, options, str(samples_path))
    with RowWriter(out_path) as writer:
        for row in checkpoint.rows():
            row.pop(PRIVATE, None)
            writer.write(row)
    checkpoint.path.unlink()
    json_path, md_path = summary_paths(out_path)
    write_json(json_path, summary)
    write_atomic(md_path, markdown(summary))
    return summary
