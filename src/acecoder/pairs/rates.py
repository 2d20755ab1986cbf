"""Reading the scored samples of an AceCode row: who wrote each one and its pass rate, checked."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from acecoder.data import DataError


def pass_rate(inference: dict[str, Any], *, index: int, path: str | None, line: int | None) -> float | None:
    """The inference's pass rate, or None when it has none (no tests, not executed, NaN)."""
    rate = inference.get("pass_rate")
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise DataError(
            f"expected a number or null, got {type(rate).__name__}",
            path=path,
            row=line,
            field=f"inferences[{index}].pass_rate",
        )
    if math.isnan(rate):
        return None
    if not 0.0 <= rate <= 1.0:
        raise DataError(
            f"pass rate {rate!r} is outside 0..1", path=path, row=line, field=f"inferences[{index}].pass_rate"
        )
    return float(rate)


def model_name(inference: dict[str, Any], *, index: int, path: str | None, line: int | None) -> str:
    name = inference.get("model_name")
    if not isinstance(name, str):
        got = "nothing" if "model_name" not in inference else type(name).__name__
        raise DataError(
            f"expected a string, got {got}", path=path, row=line, field=f"inferences[{index}].model_name"
        )
    return name


def scored_samples(
    row: dict[str, Any], *, path: str | None = None, line: int | None = None
) -> Iterator[tuple[int, str, float | None]]:
    """``(index in inferences, model_name, pass_rate or None)`` for every inference of a validated row."""
    for index, inference in enumerate(row.get("inferences") or []):
        yield (
            index,
            model_name(inference, index=index, path=path, line=line),
            pass_rate(inference, index=index, path=path, line=line),
        )


def parse_models(models: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """A model list from ``"a,b"`` or an iterable; None or empty means every model."""
    if models is None:
        return None
    items = models.split(",") if isinstance(models, str) else list(models)
    names = tuple(dict.fromkeys(m.strip() for m in items if m and m.strip()))
    return names or None
