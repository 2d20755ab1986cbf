"""``evaluate`` in a run: :func:`acecoder.evaluation.evaluate_file`, what ``acecoder evaluate`` calls, on the run's
latest rows whose ids are tasks of the benchmark (e.g. the bundled sample's HumanEval rows), through the run's
executor. ``questions: heldout`` keeps only the questions the run's train-rm stage held out, so that best-of-N by
``rm_score`` ranks programs for questions the reward model never trained on.

Output: the rows with evalplus's statuses added (``dataset``; failing inputs as JSON text), ``samples.jsonl`` (the
rows evaluated, which the summary names), ``evaluated.jsonl`` (as ``acecoder evaluate`` writes it) with its
summary files, and ``summary.json`` for the report: Average, Oracle and best-of-N by each ranker (``rm_score`` from
the ``score`` stage, ``pass_rate`` on the synthesized tests) in the paper's Table 2 layout, plus the best-of-N
curves.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from acecoder.data.io import write_json
from acecoder.execution.limits import BENCHMARK
from acecoder.pipeline.stage import Stage, StageContext, StageSkipped


class Evaluate(Stage):
    name = "evaluate"
    help = "best-of-N on a benchmark (HumanEval(+), MBPP(+)): Average, Oracle and best-of-N per ranker"
    kind = "global"
    output = "dataset"
    uses = ("score", "train-rm")

    def defaults(self, config: Any) -> dict[str, Any]:
        return {
            "benchmark": "humaneval+",
            "rank_by": ["rm_score", "pass_rate"],
            "k": [1],
            "group_by": None,
            "min_time": BENCHMARK.min_time,
            "time_factor": BENCHMARK.time_factor,
            "seed": 0,
            "questions": "all",
        }

    def check(self, ctx: StageContext) -> None:
        from acecoder.evaluation import SPECS, EvalOptions, Settings

        s = ctx.settings
        if s["benchmark"] not in SPECS:
            raise ValueError(
                f"stages.evaluate.benchmark: {s['benchmark']!r} is not one of {', '.join(SPECS)}"
            )
        if s["questions"] not in ("all", "heldout"):
            raise ValueError(f"stages.evaluate.questions: expected all or heldout, got {s['questions']!r}")
        if s["questions"] == "heldout" and "train-rm" not in ctx.upstream:
            raise ValueError(
                "stages.evaluate.questions: heldout ranks the questions the run's reward model never trained on; "
                "it needs a train-rm stage in the run"
            )
        rank_by = [str(r) for r in s["rank_by"] or []]
        if "rm_score" in rank_by and "score" not in ctx.upstream:
            rank_by.remove("rm_score")
            ctx.log("evaluate: no score stage in this run, so no best-of-N by rm_score")
        self.options = EvalOptions(
            group_by=s["group_by"],
            rank_by=tuple(dict.fromkeys(rank_by)),
            ks=tuple(int(k) for k in s["k"]),
            seed=int(s["seed"]),
            settings=Settings(min_time=float(s["min_time"]), time_factor=float(s["time_factor"])),
        )

    def run_all(self, ctx: StageContext, output: Path) -> dict[str, Any]:
        from acecoder.evaluation import Evaluation, evaluate_file, load_benchmark, load_expected
        from acecoder.evaluation.report import table2
        from acecoder.execution import Limits

        bench = load_benchmark(ctx.settings["benchmark"])
        samples = ctx.dir.path / "samples.jsonl"  # kept: the summary names it as the file evaluated
        tasks, what = set(bench.tasks), f"{bench.name} tasks"
        if ctx.settings["questions"] == "heldout":
            tasks &= _heldout(ctx)
            what += " the reward model never trained on (train-rm held them out)"
        rows_in, kept = _task_rows(ctx.inputs, tasks, samples)
        if not kept:
            raise StageSkipped(f"none of the {rows_in} rows is one of the {what}")
        ctx.log(f"evaluate: {kept} of {rows_in} rows are {what}")
        limits = Limits()  # the engine's defaults, as `acecoder evaluate` (each job sets its own time limits)
        executor = ctx.executor(limits)
        expected = load_expected(bench, lambda: executor, log=ctx.log) if bench.has_plus else None
        evaluation = Evaluation(bench, expected, self.options, limits=limits)
        evaluated = ctx.dir.path / "evaluated.jsonl"  # failing inputs are any Python values: JSONL keeps them
        summary = evaluate_file(samples, evaluated, evaluation, executor, resume=True)
        for note in summary["notes"]:
            ctx.log(f"evaluate: {note}")
        _write_dataset(evaluated, output)
        report = table2(summary)
        report["questions"] = ctx.settings["questions"]
        write_json(ctx.dir.path / "summary.json", report)
        return {"rows_in": rows_in, "rows_out": kept, "summary": report}


def _heldout(ctx: StageContext) -> set[str]:
    """The question ids train-rm held out (``train-rm/heldout_questions.json``)."""
    from acecoder.pipeline.stages.reward_model import HELDOUT_FILE
    from acecoder.rundir.store import read_json

    data = read_json(ctx.run_dir / "train-rm" / HELDOUT_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ValueError(f"stages.evaluate.questions: heldout: train-rm wrote no {HELDOUT_FILE}")
    return {str(q) for q in data["questions"]}


def _task_rows(sources: list[Path], tasks: set[str], out: Path) -> tuple[int, int]:
    """Write the rows whose ``id`` is a task of the benchmark to ``out``; (rows read, rows kept). An existing
    ``out`` (an interrupted run of the same stage: the runner clears the directory when settings or inputs
    change) is kept as it is, so that the evaluation's checkpoint, keyed by the file, resumes."""
    from acecoder.data import RowWriter, iter_rows

    keep = out.exists()
    seen = kept = 0
    with nullcontext() if keep else RowWriter(out) as writer:
        for source in sources:
            for _, row in iter_rows(source):
                seen += 1
                if str(row.get("id")) in tasks:
                    if writer is not None:
                        writer.write(row)
                    kept += 1
    return seen, kept


def _write_dataset(evaluated: Path, output: Path) -> None:
    """The run's dataset shard: failing inputs (values of any type) as JSON text, the rest as written."""
    from acecoder.data import RowWriter, iter_rows

    with RowWriter(output) as writer:
        for _, row in iter_rows(evaluated):
            for target in [row, *(row.get("inferences") or [])]:
                for key in ("base_fail_tests", "plus_fail_tests"):
                    if key in target:
                        target[key] = json.dumps(target[key])
            writer.write(row)
