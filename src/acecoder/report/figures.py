"""The report's figures, drawn with matplotlib and returned as PNG data URIs (the page needs no server)."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

INSTALL_HINT = "the report's figures need matplotlib: pip install 'acecoder[report]'"
PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


def _plt() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def to_data_uri(fig: Any) -> str:
    plt = _plt()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _whole_counts(ax: Any) -> None:
    """A count axis with whole numbers only (no tick at 0.25 questions)."""
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def tests_histogram(after: Sequence[int], before: Sequence[int] | None = None) -> str:
    """Tests per question (after filtering; before it too when known)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3))
    top = max([*after, *(before or []), 1])
    bins = range(0, top + 2)
    if before:
        ax.hist(before, bins=bins, alpha=0.5, color=PALETTE[1], label="before filtering")
    ax.hist(after, bins=bins, alpha=0.8, color=PALETTE[0], label="after filtering" if before else "tests")
    ax.set_xlabel("tests per question")
    ax.set_ylabel("questions")
    _whole_counts(ax)
    if before:
        ax.legend(frameon=False)
    return to_data_uri(fig)


def pass_rate_histograms(rates: Mapping[str, Sequence[float]]) -> str:
    """One pass-rate histogram per model, on shared axes."""
    plt = _plt()
    models = sorted(rates)
    cols = min(3, len(models))
    rows = (len(models) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False, sharex=True)
    bins = [i / 20 for i in range(21)]
    for k, ax in enumerate(axes.flat):
        if k >= len(models):
            ax.set_visible(False)
            continue
        values = rates[models[k]]
        ax.hist(values, bins=bins, color=PALETTE[k % len(PALETTE)])
        _whole_counts(ax)
        mean = sum(values) / len(values) if values else 0.0
        ax.set_title(f"{models[k]}\n{len(values)} samples, mean {mean:.2f}", fontsize=8)
        ax.set_xlim(0, 1)
    for ax in axes[-1]:
        ax.set_xlabel("pass rate")
    fig.tight_layout()
    return to_data_uri(fig)


def bar_chart(values: Mapping[str, float], *, xlabel: str, label: str = "{:,.4g}") -> str:
    """Horizontal bars, each labelled with its value (``label``: the format the page's tables use)."""
    plt = _plt()
    labels = list(values)
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(labels) + 0.9))
    ax.barh(labels, [values[k] for k in labels], color=PALETTE[0])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    for y, k in enumerate(labels):
        ax.text(values[k], y, " " + label.format(values[k]), va="center", fontsize=8)
    return to_data_uri(fig)


def hard_scatter(points: Sequence[tuple[float, float]], kept: Sequence[bool], median_mean: float | None,
                 median_std: float | None) -> str:  # fmt: skip
    """Each question's (mean, std) of pass rates; the hard subset highlighted, with the two thresholds."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    out = [p for p, k in zip(points, kept, strict=True) if not k]
    inn = [p for p, k in zip(points, kept, strict=True) if k]
    if out:
        ax.scatter(*zip(*out, strict=True), s=12, color="#BBBBBB", label="not selected")
    if inn:
        ax.scatter(*zip(*inn, strict=True), s=16, color=PALETTE[3], label="hard subset")
    if median_mean is not None:
        ax.axvline(median_mean, color="k", lw=0.8, ls="--", label="median mean")
    if median_std is not None:
        ax.axhline(median_std, color="k", lw=0.8, ls=":", label="median std (of the low-mean rows)")
    ax.set_xlabel("mean pass rate of the question's samples")
    ax.set_ylabel("std of pass rates")
    ax.legend(frameon=False, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    return to_data_uri(fig)


def best_of_n(curves: Mapping[str, Mapping[Any, float]]) -> str:
    """pass@1 of best-of-N in % against N (log2 axis), one line per ranker (``curves``: fractions)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for k, (ranker, points) in enumerate(sorted(curves.items())):
        xs = sorted(points, key=float)
        ax.plot([float(x) for x in xs], [100 * points[x] for x in xs], marker="o", color=PALETTE[k % len(PALETTE)],
                label=ranker)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (samples per task)")
    ax.set_ylabel("pass@1 of the pick (%)")
    ax.legend(frameon=False)
    return to_data_uri(fig)
