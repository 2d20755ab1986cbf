"""``evaluate_file``: judge every sample of a file on a benchmark, write OUT and the summary.

OUT holds every input row in input order with evalplus's fields added per sample (flat rows: on the row;
AceCode rows: on each inference). Finished rows go to a progress file as they complete (``kill -9`` and a rerun
resume without redoing them); the summary (pass@k, Average, Oracle, best-of-N per ranker and group) is computed
from the progress file at the end, then OUT is written without the private ranker data kept there.
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
from acecoder.evaluation import codet as codet_mod
from acecoder.evaluation.benchmarks import Benchmark
from acecoder.evaluation.dispatch import DedupStats, run_plans
from acecoder.evaluation.groundtruth import Expected, reference_issues
from acecoder.evaluation.programs import job, limits_with, main_guard_off
from acecoder.evaluation.report import TaskSamples, markdown, summarize_group
from acecoder.evaluation.samples import Sample, SampleReader
from acecoder.evaluation.verdicts import Judge, SampleRun, Settings, Verdict
from acecoder.execution import Executor, Job, JobResult, Limits
from acecoder.execution.limits import BENCHMARK

BUILTIN_RANKERS = ("pass_rate", "codet")
PRIVATE = "__acecoder_eval__"


@dataclass(frozen=True)
class EvalOptions:
    """What ``acecoder evaluate`` does besides the benchmark's own verdicts."""

    group_by: str | None = None
    rank_by: tuple[str, ...] = ()
    ks: tuple[int, ...] = (1, 10, 100)
    extract: bool = True
    codet_tests: str | None = None
    codet_limit: int = codet_mod.TEST_LIMIT
    codet_timeout: float = BENCHMARK.codet_test
    draws: int = 200
    seed: int = 0
    settings: Settings = field(default_factory=Settings)

    @property
    def score_columns(self) -> tuple[str, ...]:
        return tuple(r for r in self.rank_by if r not in BUILTIN_RANKERS)


@dataclass
class RunStats:
    rows: int = 0
    samples: int = 0
    errors: int = 0
    jobs: int = 0
    jobs_run: int = 0


class SamplePlan:
    """A sample's jobs over rounds: its verdict (:class:`SampleRun`, differential inputs in growing chunks), and
    in the first round its ranker jobs (pass rate on the row's tests, CodeT's tests)."""

    def __init__(self, sample: Sample, run: SampleRun, pass_rate: Job | None, codet: Job | None):
        self.sample, self.run, self.pass_rate, self.codet = sample, run, pass_rate, codet
        self.ranker_results: dict[str, JobResult] = {}
        self._rankers = [
            (name, j) for name, j in (("pass_rate", pass_rate), ("codet", codet)) if j is not None
        ]

    def next_jobs(self) -> list[Job]:
        self._asked = self.run.next_jobs()
        return self._asked + [j for _, j in self._rankers]

    def feed(self, results: list[JobResult]) -> None:
        count = len(self._asked)
        self.run.feed(results[:count])
        for (name, _), result in zip(self._rankers, results[count:], strict=True):
            self.ranker_results[name] = result
        self._rankers = []

    @property
    def done(self) -> bool:
        return self.run.done and not self._rankers


class Evaluation:
    """One evaluation run: a benchmark, its judge and the rankers' test pools."""

    def __init__(
        self,
        benchmark: Benchmark,
        expected: dict[str, Expected] | None,
        options: EvalOptions,
        *,
        limits: Limits | None = None,
    ):
        self.benchmark, self.expected, self.options = benchmark, expected, options
        self.limits = limits or Limits()
        self.judge = Judge(benchmark, expected, settings=options.settings, limits=self.limits)
        self.codet_tests: dict[str, list[str]] | None = None
        if "codet" in options.rank_by and options.codet_tests:
            self.codet_tests = codet_mod.load_tests(options.codet_tests, benchmark, limit=options.codet_limit)
        self._pools: dict[str, tuple[list[str], list[int]]] = {}

    def pool(self, sample: Sample) -> tuple[list[str], list[int]] | None:
        """The CodeT test pool of a sample's task: distinct tests and their multiplicities."""
        if self.codet_tests is not None:
            if sample.task_id not in self._pools:
                self._pools[sample.task_id] = codet_mod.pooled_tests(self.codet_tests.get(sample.task_id, []))
            return self._pools[sample.task_id]
        if sample.test_cases:
            return codet_mod.pooled_tests(sample.test_cases)
        return None

    def plan(self, sample: Sample) -> SamplePlan:
        run = self.judge.start(sample.task_id, sample.program)
        pass_rate = codet = None
        rankers = set(self.options.rank_by) & {"pass_rate", "codet"}
        program = main_guard_off(sample.program) if rankers else sample.program
        if "pass_rate" in self.options.rank_by and sample.test_cases:
            pass_rate = job(program, sample.test_cases, limits=self.limits)
        if "codet" in self.options.rank_by:
            pool = self.pool(sample)
            if pool and pool[0]:
                # CodeT gives each test its own limit and the program all of them together
                limits = limits_with(self.limits, timeout=self.options.codet_timeout, program_timeout=None)
                codet = job(program, pool[0], limits=limits)
        return SamplePlan(sample, run, pass_rate, codet)

    def record(self, plan: SamplePlan) -> tuple[Verdict, dict[str, Any]]:
        """The sample's verdict and the private data the summary needs."""
        verdict = plan.run.verdict()
        sample = plan.sample
        data: dict[str, Any] = {
            "task": sample.task_id,
            "group": sample.group,
            "scores": sample.scores,
            "base": verdict.passed(),
            "plus": verdict.passed(plus=True) if self.benchmark.has_plus else None,
        }
        if "pass_rate" in self.options.rank_by:
            result = plan.ranker_results.get("pass_rate")
            if result is not None:
                data["pass_rate"] = result.pass_rate  # None when the engine failed
            else:
                data["pass_rate"] = sample.stored_pass_rate
        result = plan.ranker_results.get("codet")
        if result is not None:
            data["codet"] = None if result.infra_error else _bitmask(result)
            if self.codet_tests is None:  # the row's own tests: keep their multiplicities and identity
                tests, weights = self.pool(sample) or ([], [])
                data["codet_weights"] = weights
                data["codet_pool"] = fingerprint(tests=tests)
        return verdict, data


def _bitmask(result: JobResult) -> str:
    mask = 0
    for i, ok in enumerate(result.test_results):
        if ok:
            mask |= 1 << i
    return format(mask, "x")


def _passed_set(mask: str | None) -> frozenset[int] | None:
    if mask is None:
        return None
    value = int(mask, 16)
    return frozenset(i for i in range(value.bit_length()) if value >> i & 1)


def _apply(
    row: dict[str, Any], planned: list[SamplePlan], outcomes: list[tuple[Verdict, dict]], has_plus: bool
):
    private = []
    for plan, (verdict, data) in zip(planned, outcomes, strict=True):
        target = row if plan.sample.inference is None else row["inferences"][plan.sample.inference]
        data["replaced"] = keep_previous(target)
        target.update(verdict.fields(has_plus))
        data["label"] = f"row {plan.sample.row + 1}" + (
            "" if plan.sample.inference is None else f" inference {plan.sample.inference}"
        )
        private.append(data)
    row[PRIVATE] = private
    return row


VERDICT_FIELDS = ("base_status", "plus_status", "base_fail_tests", "plus_fail_tests", "eval_error")
PREVIOUS = "previous_"


def keep_previous(target: dict[str, Any]) -> bool:
    """Move verdict fields an earlier evaluation left on a sample to ``previous_<field>``; whether there were any."""
    found = [key for key in VERDICT_FIELDS if key in target]
    for key in found:
        target[PREVIOUS + key] = target.pop(key)
    return bool(found)


def evaluate_rows(
    evaluation: Evaluation,
    samples_path: str | os.PathLike,
    executor: Executor,
    *,
    skip: int = 0,
    stats: RunStats | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each row of SAMPLES (after the first ``skip``) with its verdicts, in input order."""
    stats = stats or RunStats()
    reader = SampleReader(
        evaluation.benchmark,
        path=str(samples_path),
        group_by=evaluation.options.group_by,
        score_columns=evaluation.options.score_columns,
        extract=evaluation.options.extract,
    )

    dedup = DedupStats()

    def row_plans() -> Iterator[RowPlan]:
        for index, (line, row) in enumerate(iter_rows(samples_path)):
            if index >= skip:
                yield RowPlan(row, [evaluation.plan(s) for s in reader.samples(index, line, row)])

    for row_plan in run_plans(executor, row_plans(), stats=dedup):
        outcomes = [evaluation.record(plan) for plan in row_plan.plans]
        stats.rows += 1
        stats.samples += len(row_plan.plans)
        stats.errors += sum(1 for verdict, _ in outcomes if verdict.error)
        stats.jobs, stats.jobs_run = dedup.jobs, dedup.ran
        row = _apply(row_plan.row, row_plan.plans, outcomes, evaluation.benchmark.has_plus)
        if on_row is not None:
            on_row(row)
        yield row


class RowPlan:
    """The plans of one row's samples, dispatched together; done when all are."""

    def __init__(self, row: dict[str, Any], plans: list[SamplePlan]):
        self.row, self.plans = row, plans
        self._asked: list[tuple[SamplePlan, int]] = []

    def next_jobs(self) -> list[Job]:
        jobs: list[Job] = []
        self._asked = []
        for plan in self.plans:
            if not plan.done:
                asked = plan.next_jobs()
                self._asked.append((plan, len(asked)))
                jobs += asked
        return jobs

    def feed(self, results: list[JobResult]) -> None:
        offset = 0
        for plan, count in self._asked:
            plan.feed(results[offset : offset + count])
            offset += count

    @property
    def done(self) -> bool:
        return all(plan.done for plan in self.plans)


def summarize(
    rows: Iterator[dict[str, Any]],
    evaluation: Evaluation,
    *,
    samples_file: str,
) -> dict[str, Any]:
    """The JSON summary from evaluated rows (their private data)."""
    options, benchmark = evaluation.options, evaluation.benchmark
    groups: dict[str, dict[str, TaskSamples]] = {}
    codet_data: dict[tuple[str, str], list[dict[str, Any]]] = {}
    errors = replaced = 0
    for row in rows:
        for data in row.get(PRIVATE, []):
            replaced += bool(data.get("replaced"))
            if data["base"] is None:
                errors += 1
                continue
            task = groups.setdefault(data["group"], {}).setdefault(data["task"], TaskSamples())
            task.correct["base"].append(bool(data["base"]))
            task.correct["plus"].append(bool(data["plus"]))
            task.labels.append(data["label"])
            for name in options.score_columns:
                task.scores.setdefault(name, []).append(data["scores"].get(name))
            if "pass_rate" in options.rank_by:
                task.scores.setdefault("pass_rate", []).append(data.get("pass_rate"))
            if "codet" in options.rank_by:
                codet_data.setdefault((data["group"], data["task"]), []).append(data)
    for (group, task_id), entries in codet_data.items():
        groups[group][task_id].subset_scorers["codet"] = _codet_scorer(evaluation, task_id, entries)
    figures = {
        group: summarize_group(
            tasks,
            has_plus=benchmark.has_plus,
            ks=options.ks,
            rankers=options.rank_by,
            draws=options.draws,
            seed=options.seed,
        )
        for group, tasks in sorted(groups.items())
    }
    notes = []
    covered = {t for tasks in groups.values() for t in tasks}
    if len(covered) < len(benchmark.tasks):
        notes.append(
            f"samples cover {len(covered)} of the {len(benchmark.tasks)} tasks; figures are over those"
        )
    if errors:
        notes.append(f"{errors} samples could not be judged (engine errors) and are left out")
    if replaced:
        notes.append(
            f"{replaced} samples already had verdicts (base_status/plus_status, from an earlier evaluation); they "
            f"are replaced, the old values kept as {PREVIOUS}base_status, {PREVIOUS}plus_status, ..."
        )
    summary: dict[str, Any] = {
        "benchmark": benchmark.name,
        "dataset": benchmark.path,
        "dataset_md5": benchmark.digest,
        "samples_file": samples_file,
        "options": {
            "group_by": options.group_by,
            "rank_by": list(options.rank_by),
            "k": list(options.ks),
            "draws": options.draws,
            "seed": options.seed,
            "settings": dataclasses.asdict(options.settings),
        },
        "groups": figures,
        "unjudged_samples": errors,
        "notes": notes,
    }
    if evaluation.expected is not None:
        summary["reference"] = reference_issues(evaluation.expected)
    return summary


def _codet_scorer(evaluation: Evaluation, task_id: str, entries: list[dict[str, Any]]):
    """Scores a subset of a task's samples by CodeT's consensus over the task's test pool."""
    if evaluation.codet_tests is not None:
        weights = codet_mod.pooled_tests(evaluation.codet_tests.get(task_id, []))[1]
    else:
        pools = {e.get("codet_pool") for e in entries if e.get("codet_pool")}
        if len(pools) > 1:
            raise DataError(
                f"{task_id}: the codet ranker needs the same test_cases for every sample of a task"
            )
        weights = next((e["codet_weights"] for e in entries if e.get("codet_weights")), [])
    passed = [_passed_set(e.get("codet")) for e in entries]

    def score(indices: list[int]) -> list[float]:
        return codet_mod.consensus_scores([passed[i] for i in indices], weights)

    return score


def evaluate_file(
    samples_path: str | os.PathLike,
    out_path: str | os.PathLike,
    evaluation: Evaluation,
    executor: Executor,
    *,
    resume: bool = True,
    stats: RunStats | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    on_resume: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Evaluate SAMPLES into OUT (resumable); write ``OUT.summary.json`` and ``OUT.summary.md``; return the
    summary."""
    samples_path, out_path = Path(samples_path), Path(out_path)
    if not samples_path.is_file():
        raise DataError("no such file", path=str(samples_path))
    file_format(out_path)
    run_id = fingerprint(
        samples=file_identity(samples_path),
        benchmark=evaluation.benchmark.name,
        dataset=evaluation.benchmark.digest,
        options=dataclasses.asdict(evaluation.options),
        limits=dataclasses.asdict(evaluation.limits),
    )
    checkpoint = Checkpoint(out_path, run_id, resume=resume)
    if checkpoint.done and on_resume is not None:
        on_resume(checkpoint.done)
    with checkpoint:
        for row in evaluate_rows(
            evaluation, samples_path, executor, skip=checkpoint.done, stats=stats, on_row=on_row
        ):
            checkpoint.append(row)
    summary = summarize(checkpoint.rows(), evaluation, samples_file=str(samples_path))
    with RowWriter(out_path) as writer:
        for row in checkpoint.rows():
            row.pop(PRIVATE, None)
            writer.write(row)
    checkpoint.path.unlink()
    write_summary(summary, summary_paths(out_path))
    return summary


def summary_paths(out_path: str | os.PathLike) -> tuple[Path, Path]:
    out_path = Path(out_path)
    stem = out_path.name
    for suffix in (".jsonl.gz", ".jsonl", ".parquet", ".json.gz", ".ndjson", ".pq"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return out_path.with_name(stem + ".summary.json"), out_path.with_name(stem + ".summary.md")


def write_summary(summary: dict[str, Any], paths: tuple[Path, Path]) -> None:
    json_path, md_path = paths
    write_json(json_path, summary)
    write_atomic(md_path, markdown(summary))
