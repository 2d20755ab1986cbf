"""The summary per group: pass@k, Average, Oracle and best-of-N per ranker, as JSON and in the layout of the
AceCoder paper's Table 2 (rows: method; columns: the benchmark's base and plus variants), defined once here for
``acecoder evaluate``'s markdown (:func:`markdown`) and the ``evaluate`` stage's ``summary.json`` that the report
shows (:func:`table2`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from acecoder.evaluation.metrics import best_of_n, best_of_n_by_draws, n_values, pass_at_k, seeded_pick

PARTS = {"base": "", "plus": "+"}
"""A benchmark's test sets, the columns of Table 2: its own tests, and the added ones of its plus variant (the
name with ``+``)."""
NAMES = {"humaneval": "HumanEval", "mbpp": "MBPP", "bigcodebench": "BigCodeBench"}


def columns(benchmark: str, *, display: bool = True) -> dict[str, str]:
    """Table 2's columns for ``benchmark``: part (base, plus) -> its name (``HumanEval+``; not ``display``: the
    benchmark's id, ``humaneval+``)."""
    name = benchmark.rstrip("+")
    name = NAMES.get(name, name) if display else name
    return {part: name + suffix for part, suffix in PARTS.items() if part in _parts(benchmark.endswith("+"))}


SubsetScorer = Callable[[list[int]], Sequence[float | None]]


@dataclass
class TaskSamples:
    """One task's judged samples within a group, with each ranker's scores."""

    correct: dict[str, list[bool]] = field(default_factory=lambda: {"base": [], "plus": []})
    scores: dict[str, list[float | None]] = field(default_factory=dict)
    subset_scorers: dict[str, SubsetScorer] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    """Where each sample came from (``row 3``, ``row 3 inference 7``), for the seeded picks."""

    @property
    def n(self) -> int:
        return len(self.correct["base"])


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _parts(has_plus: bool) -> tuple[str, ...]:
    return tuple(PARTS) if has_plus else ("base",)


def methods(figures: dict[str, Any], *, every_n: bool = True) -> list[tuple[str, dict[str, float | None]]]:
    """Table 2's rows for one group with several samples per task: (method, fraction per part): Average,
    Oracle, then best-of-N per ranker (every N, or only the largest)."""
    rows = [
        ("Average", figures["average"]),
        (f"Oracle (pass@{figures['samples_per_task'][0]})", figures["oracle"]),
    ]
    for ranker, table in figures["best_of_n"].items():
        for n in table if every_n else [max(table, key=int)]:
            rows.append((f"Best-of-{n} ({ranker})", table[n]))
    return rows


def summarize_group(
    tasks: dict[str, TaskSamples],
    *,
    has_plus: bool,
    ks: Sequence[int],
    rankers: Sequence[str],
    draws: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """Figures for one group of samples (fractions in 0..1)."""
    judged = {t: s for t, s in tasks.items() if s.n}
    parts = _parts(has_plus)
    counts = [s.n for s in judged.values()]
    out: dict[str, Any] = {
        "tasks": len(judged),
        "samples": sum(counts),
        "samples_per_task": [min(counts), max(counts)] if counts else [0, 0],
        "pass@k": {},
    }
    if not judged:
        return out
    low = min(counts)
    for part in parts:
        out["pass@k"][part] = {
            f"pass@{k}": _mean([pass_at_k(s.n, sum(s.correct[part]), k) for s in judged.values()])
            for k in ks
            if k <= low
        }
    if max(counts) <= 1:
        return out
    out["average"] = {p: _mean([sum(s.correct[p]) / s.n for s in judged.values()]) for p in parts}
    out["oracle"] = {p: _mean([float(any(s.correct[p])) for s in judged.values()]) for p in parts}
    out["best_of_n"] = {}
    out["picks"] = {}
    for ranker in rankers:
        table: dict[str, dict[str, float | None]] = {}
        for n in n_values(low):
            table[str(n)] = {
                p: _mean([_best(s, ranker, p, n, draws, seed) for s in judged.values()]) for p in parts
            }
        out["best_of_n"][ranker] = table
        out["picks"][ranker] = {
            task: _pick(s, ranker, f"{seed}:{task}:{ranker}") for task, s in judged.items()
        }
    return out


def _best(s: TaskSamples, ranker: str, part: str, n: int, draws: int, seed: int) -> float:
    if ranker in s.subset_scorers:
        return best_of_n_by_draws(s.subset_scorers[ranker], s.correct[part], n, draws=draws, seed=seed)
    return best_of_n(s.scores[ranker], s.correct[part], n)


def _pick(s: TaskSamples, ranker: str, seed: str) -> str:
    scores = s.subset_scorers[ranker](list(range(s.n))) if ranker in s.subset_scorers else s.scores[ranker]
    return s.labels[seeded_pick(scores, seed)]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def markdown(summary: dict[str, Any]) -> str:
    """The summary as a Table-2-style markdown table (percentages)."""
    benchmark = summary["benchmark"]
    names = columns(benchmark)
    parts = tuple(names)
    lines = [
        f"## {benchmark}: {summary['samples_file']}",
        "",
        f"Dataset: {summary['dataset']}. Figures in %; best-of-N = the top-ranked of N samples drawn at random "
        "(expectation over draws and ties).",
        "",
        "| group | method | " + " | ".join(names.values()) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for group, figures in summary["groups"].items():
        rows: list[tuple[str, dict[str, float | None]]] = []
        single = figures["samples_per_task"][1] <= 1
        for part_name in ("pass@k",):
            keys = list(figures[part_name].get("base", {}))
            for key in keys:
                label = "Greedy / single sample" if single and key == "pass@1" else key
                rows.append((label, {p: figures[part_name][p].get(key) for p in parts}))
        if "average" in figures:
            rows += methods(figures)
        for label, values in rows:
            lines.append(f"| {group} | {label} | " + " | ".join(_pct(values.get(p)) for p in parts) + " |")
    notes = summary.get("notes") or []
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"


def table2(summary: dict[str, Any]) -> dict[str, Any]:
    """The ``evaluate`` stage's view of a summary, for the report: one row per method (pass@1 in percent per
    column, named by the benchmark's id: ``humaneval+ pass@1``), the largest N of best-of-N only, and the best-of-N
    curves of the first group."""
    names = columns(summary["benchmark"], display=False)
    rows: list[dict[str, Any]] = []
    curves: dict[str, dict[str, float]] = {}
    for group, figures in summary["groups"].items():
        parts = [p for p in names if p in figures.get("pass@k", {})]
        label = {} if group in ("", "all") else {"group": group}

        def row(method: str, values: dict[str, Any], label=label, parts=parts) -> dict[str, Any]:
            out: dict[str, Any] = {**label, "method": method}
            for part in parts:
                value = values.get(part)
                out[f"{names[part]} pass@1"] = None if value is None else 100 * value
            return out

        if "average" not in figures:  # one sample per task: its pass@1 is the whole story
            rows.append(row("pass@1", {p: v.get("pass@1") for p, v in figures["pass@k"].items()}))
            continue
        rows += [row(method, values) for method, values in methods(figures, every_n=False)]
        for ranker, table in figures["best_of_n"].items():
            if not curves.get(ranker):
                curves[ranker] = {k: v.get("plus", v.get("base")) for k, v in table.items()}
    return {"benchmark": summary["benchmark"], "rows": rows, "best_of_n": curves, "notes": summary["notes"]}
