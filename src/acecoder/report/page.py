"""``acecoder report RUN_DIR``: one self-contained HTML page (inline PNG figures, no script) about a run.

Sections appear when their data exists: the run's stages, Table 1, tests per question (and before and after test
augmentation, with mutation scores), pass rates per model,
pairs, the hard subset, and, once those stages have run, reward-model accuracy, best-of-N curves and a
Table-2-style table, RL rewards; timings and cost last.
"""

from __future__ import annotations

import html
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from acecoder.report import figures
from acecoder.report.data import RunData, hard_points, ids, iter_columns, row_stats

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f4f4; }
img { max-width: 100%; display: block; margin: .6em 0; }
.note { color: #666; font-size: .85em; }
.scope { color: #444; font-size: .9em; margin: .3em 0 .6em; }
.state-done { color: #2a7a2a; } .state-skipped { color: #888; } .state-interrupted, .state-stale { color: #b36b00; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def table(
    header: Sequence[Any], rows: Sequence[Sequence[Any]], *, classes: Sequence[str] | None = None
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{_e(classes[i])}"' if classes else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def markdown_table(text: str) -> str:
    """A pipe table (as :func:`acecoder.synthesis.format_table1` writes) as HTML, with the notes after it."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    cells = [
        [c.strip() for c in line.strip().strip("|").split("|")] for line in lines if line.startswith("|")
    ]
    notes = [line for line in lines if not line.startswith("|")]
    rows = [r for r in cells[1:] if not all(set(c) <= {"-", ":"} for c in r)]
    return table(cells[0], rows) + "".join(f'<p class="note">{_e(n)}</p>' for n in notes)


def image(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{_e(alt)}">'


def _fmt(x: Any, digits: int = 3) -> str:
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return "-" if x is None else str(x)


def section(title: str, scope: str, body: str, *, rows: int | None, stage: str | None, unit: str) -> str:
    """A report section: its heading, one line saying which rows it describes, then its tables and figures.
    ``rows``/``stage``/``unit`` go to data attributes too (``data-rows="25" data-stage="score"``: the section
    describes the 25 rows stage score wrote), so that a check can compare every section's count with the run's."""
    attributes = f' data-unit="{_e(unit)}"'
    if rows is not None:
        attributes += f' data-rows="{rows}"'
    if stage is not None:
        attributes += f' data-stage="{_e(stage)}"'
    return f'<section{attributes}><h2>{_e(title)}</h2><p class="scope">{scope}</p>{body}</section>'


def _b(value: Any) -> str:
    return f"<b>{_e(value)}</b>"


def _rows_of(run: RunData, stage: str) -> str:
    """'the 25 rows of stage score (the full executed set)'."""
    count = run.rows_out(stage)
    return f"the {_b(_fmt(count))} rows of stage {_b(stage)} (every question the run executed)"


# ---- sections: each returns HTML or "" when it has nothing to show -------------------------------------------
def stages_section(run: RunData) -> str:
    rows, classes = [], []
    for e in run.status:
        shards = "-" if e["shards"] is None else f"{e['shards_done'] or 0}/{e['shards']}"
        rows.append([e["stage"], e["state"], shards, _fmt(e["rows_in"]), _fmt(e["rows_out"])])
        classes.append(f"state-{e['state']}")
    skipped = "".join(
        f'<p class="note">{_e(e["stage"])} skipped: {_e(e["reason"])}</p>' for e in run.status if e["reason"]
    )
    scope = f"{_b(len(rows))} stages of the last run, one line each: rows each read and wrote."
    body = table(["stage", "state", "shards", "rows in", "rows out"], rows, classes=classes) + skipped
    return section("Stages", scope, body, rows=len(rows), stage=None, unit="stages")


def table1_section(run: RunData, rows_stage: str | None) -> str:
    from acecoder.synthesis.stats import run_notes

    text, stage = None, None
    if run.done("stats") and (run.run_dir / "stats" / "table1.md").is_file():
        text = run_notes((run.run_dir / "stats" / "table1.md").read_text(encoding="utf-8"))
        stage = run.source("stats")
    elif rows_stage:
        from acecoder.rundir.store import iter_dataset
        from acecoder.synthesis import format_table1, table1

        text = run_notes(format_table1(table1(iter_dataset(run.shards(rows_stage))), "markdown"))
        stage = rows_stage
    if not text:
        return ""
    count = run.rows_out(stage) if stage else None
    scope = f"Questions: the {_b(_fmt(count))} rows of stage {_b(stage)}" if stage else "Questions of the run"
    if run.done("pairs") and "#Pairs" in text:
        scope += f"; pairs: the {_b(_fmt(run.rows_out('pairs')))} rows of stage {_b('pairs')}"
    return section("Table 1: data statistics", scope + ".", markdown_table(text), rows=count, stage=stage,
                   unit="questions")  # fmt: skip


def tests_section(run: RunData, stats: Any, rows_stage: str) -> str:
    if not stats.rows:
        return ""
    before = None
    if run.done("synthesize") and run.done("filter-tests"):
        before = [len(r["test_cases"] or []) for r in iter_columns(run.shards("synthesize"), ["test_cases"])]
    summary = table(
        ["questions", "tests", "mean per question", "median", "min", "max"],
        [[stats.rows, sum(stats.tests), _fmt(statistics.fmean(stats.tests), 2), _fmt(statistics.median(stats.tests), 1),
          min(stats.tests), max(stats.tests)]],
    )  # fmt: skip
    scope = f"{_rows_of(run, rows_stage)}, one count per question."
    body = summary + image(figures.tests_histogram(stats.tests, before), "tests per question")
    return section("Tests per question", scope, body, rows=stats.rows, stage=rows_stage, unit="questions")


def augment_section(run: RunData) -> str:
    """Tests per question and the mutation score before and after ``augment``, and why rows stayed as they were."""
    if not run.done("augment"):
        return ""
    before, after, scores = [], [], []
    for row in iter_columns(run.shards("augment"), ["test_cases", "n_tests_augmented", "mutation_score"]):
        total = len(row["test_cases"] or [])
        added = row["n_tests_augmented"] if isinstance(row["n_tests_augmented"], int) else 0
        before.append(total - added)
        after.append(total)
        score = row["mutation_score"] if isinstance(row["mutation_score"], dict) else {}
        if isinstance(score.get("before"), (int, float)) and isinstance(score.get("after"), (int, float)):
            scores.append((score["before"], score["after"]))
    if not after:
        return ""
    unchanged: Counter = Counter()
    dropped: Counter = Counter()
    augmented = 0
    for m in run.markers("augment"):
        s = m.get("summary") or {}
        unchanged.update(s.get("unchanged") or {})
        dropped.update(s.get("dropped") or {})
        augmented += s.get("augmented") or 0

    def mean(xs: list[float]) -> str:
        return _fmt(statistics.fmean(xs), 3) if xs else "-"

    out = "<h2>Test augmentation</h2>" + table(
        ["", "tests per question (mean)", "median", "mutation score (mean)"],
        [
            ["before", mean(before), _fmt(statistics.median(before), 1), mean([b for b, _ in scores])],
            ["after", mean(after), _fmt(statistics.median(after), 1), mean([a for _, a in scores])],
        ],
    )
    notes = [
        f"{augmented} of {len(after)} questions gained tests; mutation scores of {len(scores)} questions"
    ]
    if unchanged:
        notes.append("left unchanged: " + ", ".join(f"{k} {v}" for k, v in unchanged.most_common()))
    if dropped:
        notes.append("inputs dropped: " + ", ".join(f"{k} {v}" for k, v in dropped.most_common(8)))
    return out + "".join(f'<p class="note">{_e(n)}</p>' for n in notes)


def pass_rate_section(run: RunData, stats: Any, rows_stage: str) -> str:
    if not stats.samples:
        return ""
    rows = []
    for model in sorted(stats.samples):
        rates = stats.pass_rates.get(model, [])
        if rates:
            share = lambda hit, rates=rates: f"{sum(hit(r) for r in rates) / len(rates):.1%}"  # noqa: E731
            rows.append([model, stats.samples[model], len(rates), _fmt(statistics.fmean(rates)),
                         share(lambda r: r == 1.0), share(lambda r: r == 0.0)])  # fmt: skip
        else:
            rows.append([model, stats.samples[model], 0, "-", "-", "-"])
    total = sum(stats.samples.values())
    scope = (
        f"{_b(total)} samples of {_b(len(rows))} models on {_rows_of(run, rows_stage)}; a sample's pass rate is "
        "the share of its question's tests it passes (samples without one, e.g. of questions without tests, are "
        "not scored)."
    )
    body = table(["model", "samples", "scored", "mean pass rate", "pass all tests", "pass none"], rows)
    if stats.pass_rates:
        body += image(figures.pass_rate_histograms(stats.pass_rates), "pass-rate histograms per model")
    return section("Pass rates per model", scope, body, rows=stats.rows, stage=rows_stage, unit="questions")


def pairs_section(run: RunData) -> str:
    markers = run.markers("pairs")
    if not markers:
        return ""
    per_model: Counter = Counter()
    totals: Counter = Counter()
    for m in markers:
        s = m.get("summary") or {}
        per_model.update(s.get("pairs_per_model") or {})
        for key in ("rows_in", "questions_with_pairs", "pairs_out", "rows_without_pass_rates"):
            totals[key] += s.get(key) or 0
    body = table(
        ["questions", "questions with pairs", "pairs", "questions without pass rates"],
        [[totals["rows_in"], totals["questions_with_pairs"], totals["pairs_out"], totals["rows_without_pass_rates"]]],
    )  # fmt: skip
    if per_model:
        ordered = dict(sorted(per_model.items(), key=lambda kv: -kv[1]))
        body += image(
            figures.bar_chart(ordered, xlabel="pairs (by the chosen sample's model)", label="{:,.0f}"),
            "pairs per model",
        )
    source = run.source("pairs")
    scope = (
        f"The {_b(_fmt(run.rows_out('pairs')))} pairs of stage {_b('pairs')}, built from the "
        f"{_b(totals['rows_in'])} rows of stage {_b(source)} (pairs of one model's samples of one question)."
    )
    return section("Preference pairs", scope, body, rows=run.rows_out("pairs"), stage="pairs", unit="pairs")


def hard_section(run: RunData, rows_stage: str | None) -> str:
    meta = run.done("hard")
    if not meta or not rows_stage:
        return ""
    summary = (meta.get("result") or {}).get("summary") or {}
    points = hard_points(run.shards(rows_stage), summary.get("models"))
    chosen = ids(run.shards("hard"))
    body = table(
        ["rows in", "with pass rates", "median of means", "mean <= median", "median std", "selected"],
        [[summary.get("rows_in"), summary.get("rows_scored"), _fmt(summary.get("median_mean")),
          summary.get("rows_after_mean_filter"), _fmt(summary.get("median_std")), summary.get("rows_out")]],
    )  # fmt: skip
    if points:
        scatter = figures.hard_scatter(
            [(m, s) for _, m, s in points], [i in chosen for i, _, _ in points],
            summary.get("median_mean"), summary.get("median_std"),
        )  # fmt: skip
        body += image(scatter, "hard-subset selection")
    selected = sum(i in chosen for i, _, _ in points)
    scope = (
        f"Every question with pass rates among {_rows_of(run, rows_stage)}: {_b(len(points))} points, the "
        f"{_b(selected)} of the hard subset (stage {_b('hard')}) highlighted, the others grey."
    )
    return section(
        "Hard subset", scope, body, rows=run.rows_out(rows_stage), stage=rows_stage, unit="questions"
    )


def reward_model_section(run: RunData) -> str:
    metrics = run.file("train-rm", "metrics.json")
    if not isinstance(metrics, dict):
        return ""
    heldout = metrics.get("heldout") if isinstance(metrics.get("heldout"), dict) else {}
    questions = metrics.get("questions") if isinstance(metrics.get("questions"), dict) else {}
    counts = metrics.get("pair_counts") if isinstance(metrics.get("pair_counts"), dict) else {}
    read = counts.get("read", metrics.get("pairs"))
    rows = [
        ["held-out pair accuracy (chance: 0.5)", _fmt(metrics.get("accuracy"), 3)],
        [
            "held-out pairs (questions)",
            f"{_fmt(metrics.get('heldout_pairs'))} ({_fmt(questions.get('eval'))})",
        ],
        ["ties (counted as wrong)", _fmt(heldout.get("ties"))],
        ["pairs trained on (questions)", f"{_fmt(metrics.get('pairs'))} ({_fmt(questions.get('train'))})"],
        ["pairs dropped for length", _fmt(metrics.get("dropped_for_length"))],
        ["optimizer steps", _fmt(metrics.get("steps"))],
        ["final training loss", _fmt(metrics.get("train_loss"), 3)],
    ]
    scope = (
        f"The {_b(_fmt(read))} pairs of stage {_b('pairs')}, split by question: the model trains on some "
        "questions' pairs and is scored on the pairs of questions it never saw. Held-out pair accuracy is the "
        "share of those pairs whose passing program it scores above the failing one; a model that guesses gets "
        "0.5."
    )
    scope += _against_chance(metrics.get("accuracy"), metrics.get("heldout_pairs"))
    evaluation = run.file("evaluate", "summary.json")
    if isinstance(evaluation, dict) and any(
        "rm_score" in str(r.get("method")) for r in evaluation.get("rows") or []
    ):
        if evaluation.get("questions") == "heldout":
            scope += " The best-of-N evaluation below ranks only questions this model never trained on."
        else:
            scope += (
                " <b>The best-of-N evaluation below ranks questions this model was trained on</b>, so its rm_score "
                "rows show the plumbing, not a result (set stages.evaluate.questions: heldout)."
            )
    body = table(["", "value"], rows)
    return section("Reward model", scope, body, rows=read, stage="pairs", unit="pairs")


def _against_chance(accuracy: Any, pairs: Any) -> str:
    """One sentence: is the held-out accuracy distinguishable from guessing (a binomial band, pairs taken as
    independent)?"""
    if not isinstance(accuracy, (int, float)) or not isinstance(pairs, int) or pairs < 1:
        return ""
    band = 1.96 * (0.25 / pairs) ** 0.5
    low, high = 0.5 - band, 0.5 + band
    verdict = "better than" if accuracy > high else "worse than" if accuracy < low else "no better than"
    return (
        f" Here {_b(f'{accuracy:.3f}')} on {pairs} pairs: {verdict} chance (a guesser lands in {low:.3f}-{high:.3f} "
        "95% of the time, pairs taken as independent)."
    )


def evaluation_section(run: RunData) -> str:
    summary = run.file("evaluate", "summary.json")
    if not isinstance(summary, dict):
        return ""
    count, bench = run.rows_out("evaluate"), summary.get("benchmark", "")
    which = f"whose id is a {_e(bench)} task"
    if summary.get("questions") == "heldout":
        which += " of a question the reward model never trained on (train-rm held them out)"
    scope = (
        f"The {_b(_fmt(count))} rows of stage {_b(run.source('evaluate') or 'rows')} {which}, judged with the "
        "benchmark's own tests. pass@1 in %; best-of-N: the top-ranked of N samples drawn at random."
    )
    body = ""
    curves = summary.get("best_of_n")
    if isinstance(curves, dict) and curves:
        body += image(figures.best_of_n(curves), "best-of-N curves per ranker")
    rows = summary.get("rows")
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        keys = list(dict.fromkeys(k for r in rows for k in r))
        body += "<h3>Table 2 layout</h3>" + table(keys, [[_fmt(r.get(k), 1) for k in keys] for r in rows])
    for note in summary.get("notes") or []:
        body += f'<p class="note">{_e(note)}</p>'
    return section(
        f"Best-of-N evaluation: {bench}", scope, body, rows=count, stage="evaluate", unit="questions"
    )


_REWARD_LABELS = {
    "mode": "reward",
    "mean_reward": "mean reward",
    "rows": "questions",
    "samples": "samples",
    "rewarded": "samples rewarded",
    "excluded": "samples excluded (the engine failed)",
}


def rewards_section(run: RunData) -> str:
    summary = run.file("rewards", "summary.json")
    if not isinstance(summary, dict):
        return ""
    rows = [[label, _fmt(summary.get(key), 3)] for key, label in _REWARD_LABELS.items() if key in summary]
    count, source = run.rows_out("rewards"), run.source("rewards") or "hard"
    scope = (
        f"The {_b(_fmt(count))} rows of stage {_b(source)} (the RL data): what an RL trainer's reward function "
        f"gets for each of their {_b(_fmt(summary.get('samples')))} completions "
        f"({_e(summary.get('mode'))}: 1 when every test passes, else 0; pass_rate: the share passed)."
    )
    return section(
        "RL rewards", scope, table(["", "value"], rows), rows=count, stage="rewards", unit="questions"
    )


def timing_section(run: RunData) -> str:
    ran = [e for e in run.status if e["seconds"] is not None]
    if not ran:
        return ""
    rows = []
    for e in ran:
        cost = "unknown" if e["cost"] == "?" else ("-" if e["cost"] is None else f"${e['cost']:.4f}")
        rows.append([e["stage"], f"{e['seconds']:.1f}s", cost])
    costs = [e["cost"] for e in ran if e["cost"] is not None]
    total_cost = "unknown" if "?" in costs else (f"${sum(costs):.4f}" if costs else "-")
    rows.append(["total", f"{sum(e['seconds'] for e in ran):.1f}s", total_cost])
    chart = figures.bar_chart({e["stage"]: e["seconds"] for e in ran}, xlabel="seconds", label="{:.1f}s")
    scope = f"The {_b(len(ran))} stages that ran: time spent in each and the LLM cost."
    body = table(["stage", "time", "LLM cost"], rows) + image(chart, "time per stage")
    return section("Timings and cost", scope, body, rows=len(ran), stage=None, unit="stages")


def build_report(run_dir: str | os.PathLike) -> str:
    """The report page of a run directory, as HTML text."""
    run = RunData.load(run_dir)
    rows_stage = run.rows_stage()
    stats = row_stats(run.shards(rows_stage)) if rows_stage else None
    sections: list[Callable[[], str]] = [
        lambda: stages_section(run),
        lambda: table1_section(run, rows_stage),
        lambda: tests_section(run, stats, rows_stage) if stats and rows_stage else "",
        lambda: augment_section(run),
        lambda: pass_rate_section(run, stats, rows_stage) if stats and rows_stage else "",
        lambda: pairs_section(run),
        lambda: hard_section(run, rows_stage),
        lambda: reward_model_section(run),
        lambda: evaluation_section(run),
        lambda: rewards_section(run),
        lambda: timing_section(run),
    ]
    body = "".join(section() for section in sections)
    when = time.strftime("%Y-%m-%d %H:%M:%S")
    title = f"acecoder run: {Path(run_dir).resolve().name}"
    data = (
        f" The data sections describe {_rows_of(run, rows_stage)}; each section says which rows it shows."
        if rows_stage
        else ""
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1>"
        f'<p class="note">{_e(Path(run_dir).resolve())}, report made {when}.{data}</p>{body}</body></html>\n'
    )


def write_report(run_dir: str | os.PathLike, output: str | os.PathLike | None = None) -> Path:
    """Write the report (default ``RUN_DIR/report.html``) atomically; return its path."""
    from acecoder.data.io import write_atomic
    from acecoder.data.lock import WriteLock

    target = Path(output) if output is not None else Path(run_dir) / "report.html"
    text = build_report(run_dir)
    with WriteLock(target):  # one writer at a time (a run's report stage and `acecoder report`)
        write_atomic(target, text)
    return target
