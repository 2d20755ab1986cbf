"""Price table: dollars per million input and output tokens, per model."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Price:
    input: float
    output: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6


# List prices (USD per 1M tokens, standard tier) at the time of writing; pass your own table to override.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
}


class PriceTable:
    """Looks a model up by exact name, then by the longest known prefix (``gpt-4o-mini-2024-07-18`` ->
    ``gpt-4o-mini``). Unknown models cost nothing but are reported as unpriced."""

    def __init__(self, prices: Mapping[str, Price | Mapping[str, float] | tuple[float, float]] | None = None):
        self.prices: dict[str, Price] = dict(DEFAULT_PRICES)
        for model, price in (prices or {}).items():
            if isinstance(price, Price):
                self.prices[model] = price
            elif isinstance(price, Mapping):
                self.prices[model] = Price(float(price["input"]), float(price["output"]))
            else:
                self.prices[model] = Price(float(price[0]), float(price[1]))

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> PriceTable:
        """Read ``{model: {input: $/1M, output: $/1M}}`` from a JSON or YAML file."""
        from acecoder.data.settings import parse_settings, read_text

        return cls(parse_settings(read_text(path, "price table"), path) or {})

    def get(self, model: str) -> Price | None:
        if model in self.prices:
            return self.prices[model]
        name = model.rsplit("/", 1)[-1]
        matches = [m for m in self.prices if name.startswith(m) or model.startswith(m)]
        return self.prices[max(matches, key=len)] if matches else None

    def cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Dollars for this usage, or None when the model has no price."""
        price = self.get(model)
        return None if price is None else price.cost(prompt_tokens, completion_tokens)
