"""Model usage summed over the per-call :class:`~acecoder.llm.RunSummary` of a client (e.g. one per batch)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from acecoder.llm.client import LLMClient

# The RunSummary counts that are summed.
USAGE_COUNTS = ("requests", "cached", "generated", "failed", "prompt_tokens", "completion_tokens")


class UsageTotals:
    """Requests, samples, tokens and cost of one model, summed over calls; the cost becomes unknown (``$?``)
    as soon as one call's cost is."""

    def __init__(self, model: str):
        self.model = model
        self.counts: Counter[str] = Counter()
        self.cost: float | None = 0.0

    def add(self, client: LLMClient) -> None:
        """Add the client's summary of its last call (usable as a per-batch callback)."""
        cs = client.summary
        for name in USAGE_COUNTS:
            self.counts[name] += getattr(cs, name)
        self.cost = None if cs.cost is None or self.cost is None else self.cost + cs.cost

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"model": self.model, **{k: self.counts[k] for k in USAGE_COUNTS}}
        out["cost"] = "$?" if self.cost is None else f"${self.cost:.4f}"
        return out


def usage_line(usage: Mapping[str, Any]) -> str:
    """One line describing a stage's model usage (a :meth:`UsageTotals.as_dict`)."""
    return (
        "model: {requests} requests this run, {cached} samples cached, {generated} generated, "
        "{failed} failed; tokens in {prompt_tokens:,} out {completion_tokens:,}; cost {cost}".format(**usage)
    )
