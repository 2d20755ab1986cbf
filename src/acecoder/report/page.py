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
    return (
        "<h2>Stages</h2>"
        + table(["stage", "state", "shards", "rows in", "rows out"], rows, classes=classes)
        + skipped
    )


def table1_section(run: RunData, rows_stage: str | None) -> str:
    text = None
    if run.done("stats") and (run.run_dir / "stats" / "table1.md").is_file():
        text = (run.run_dir / "stats" / "table1.md").read_text(encoding="utf-8")
    elif rows_stage:
        from acecoder.pipeline.store import iter_dataset
        from acecoder.synthesis import format_table1, table1

        text = format_table1(table1(iter_dataset(run.shards(rows_stage))), "markdown")
    if not text:
        return ""
    return "<h2>Table 1: data statistics</h2>" + markdown_table(text)


def tests_section(run: RunData, stats: Any) -> str:
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
    return (
        "<h2>Tests per question</h2>"
        + summary
        + image(figures.tests_histogram(stats.tests, before), "tests per question")
    )


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


def pass_rate_section(stats: Any) -> str:
    if not stats.pass_rates:
        return ""
    rows = []
    for model in sorted(stats.pass_rates):
        rates = stats.pass_rates[model]
        rows.append([model, len(rates), _fmt(statistics.fmean(rates)), f"{sum(r == 1.0 for r in rates) / len(rates):.1%}",
                     f"{sum(r == 0.0 for r in rates) / len(rates):.1%}"])  # fmt: skip
    return (
        "<h2>Pass rates per model</h2>"
        + table(["model", "samples scored", "mean pass rate", "pass all tests", "pass none"], rows)
        + image(figures.pass_rate_histograms(stats.pass_rates), "pass-rate histograms per model")
    )


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
    out = "<h2>Preference pairs</h2>" + table(
        ["questions", "questions with pairs", "pairs", "questions without pass rates"],
        [
            [
                totals["rows_in"],
                totals["questions_with_pairs"],
                totals["pairs_out"],
                totals["rows_without_pass_rates"],
            ]
        ],
    )
    if per_model:
        ordered = dict(sorted(per_model.items(), key=lambda kv: -kv[1]))
        out += image(
            figures.bar_chart(ordered, xlabel="pairs (by the chosen sample's model)"), "pairs per model"
        )
    return out


def hard_section(run: RunData, rows_stage: str | None) -> str:
    meta = run.done("hard")
    if not meta or not rows_stage:
        return ""
    summary = (meta.get("result") or {}).get("summary") or {}
    points = hard_points(run.shards(rows_stage), summary.get("models"))
    chosen = ids(run.shards("hard"))
    out = "<h2>Hard subset</h2>" + table(
        ["rows in", "with pass rates", "median of means", "mean <= median", "median std", "selected"],
        [[summary.get("rows_in"), summary.get("rows_scored"), _fmt(summary.get("median_mean")),
          summary.get("rows_after_mean_filter"), _fmt(summary.get("median_std")), summary.get("rows_out")]],
    )  # fmt: skip
    if points:
        scatter = figures.hard_scatter(
            [(m, s) for _, m, s in points], [i in chosen for i, _, _ in points],
            summary.get("median_mean"), summary.get("median_std"),
        )  # fmt: skip
        out += image(scatter, "hard-subset selection")
    return out


def reward_model_section(run: RunData) -> str:
    metrics = run.file("train-rm", "metrics.json")
    if not isinstance(metrics, dict):
        return ""
    rows = [[k, _fmt(v, 4)] for k, v in metrics.items() if isinstance(v, (int, float, str))]
    return "<h2>Reward model</h2>" + table(["metric", "value"], rows)


def evaluation_section(run: RunData) -> str:
    summary = run.file("evaluate", "summary.json")
    if not isinstance(summary, dict):
        return ""
    out = f"<h2>Best-of-N evaluation: {_e(summary.get('benchmark', ''))}</h2>"
    curves = summary.get("best_of_n")
    if isinstance(curves, dict) and curves:
        out += image(figures.best_of_n(curves), "best-of-N curves per ranker")
    rows = summary.get("rows")
    if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
        keys = list(dict.fromkeys(k for r in rows for k in r))
        out += "<h3>Table 2 layout</h3>" + table(keys, [[_fmt(r.get(k), 3) for k in keys] for r in rows])
    return out


def rewards_section(run: RunData) -> str:
    summary = run.file("rewards", "summary.json")
    if not isinstance(summary, dict):
        return ""
    return "<h2>RL rewards</h2>" + table(["metric", "value"], [[k, _fmt(v)] for k, v in summary.items()])


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
    chart = figures.bar_chart({e["stage"]: e["seconds"] for e in ran}, xlabel="seconds")
    return (
        "<h2>Timings and cost</h2>"
        + table(["stage", "time", "LLM cost"], rows)
        + image(chart, "time per stage")
    )


def build_report(run_dir: str | os.PathLike) -> str:
    """The report page of a run directory, as HTML text."""
    run = RunData.load(run_dir)
    rows_stage = run.rows_stage()
    stats = row_stats(run.shards(rows_stage)) if rows_stage else None
    sections: list[Callable[[], str]] = [
        lambda: stages_section(run),
        lambda: table1_section(run, rows_stage),
        lambda: tests_section(run, stats) if stats else "",
        lambda: augment_section(run),
        lambda: pass_rate_section(stats) if stats else "",
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
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1>"
        f'<p class="note">{_e(Path(run_dir).resolve())}, report made {when}'
        f"{f', from rows of stage {_e(rows_stage)}' if rows_stage else ''}</p>{body}</body></html>\n"
    )


def write_report(run_dir: str | os.PathLike, output: str | os.PathLike | None = None) -> Path:
    """Write the report (default ``RUN_DIR/report.html``) atomically; return its path."""
    target = Path(output) if output is not None else Path(run_dir) / "report.html"
    text = build_report(run_dir)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target
