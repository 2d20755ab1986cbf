"""Inputs proposed by a model (``--llm-inputs N``): the question and the row's tests in, calls out.

One request per function under test, through the LLM layer (any backend, the SQLite request cache: a rerun
never asks again). The answer's calls are read like the row's asserts (literal arguments, the same function)
and go through the same checks as mutated inputs: same kinds of value as the tests show, reference results.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from acecoder.augmentation.calls import Call, Target, _read_call
from acecoder.execution import extract_program

if TYPE_CHECKING:
    from acecoder.llm import LLMClient

PROMPT = """Here is a programming question and some tests of its function `{callee}`.

{question}

Tests:
```python
{tests}
```

Write {n} new inputs for `{callee}`: each must be valid for the question (the same kinds of values as in the
tests), and together they should cover typical, edge and larger cases. Answer with one call per line in a
python block, without the expected results, for example:
```python
{example}
```"""


class InputProposer:
    """Asks a model for ``n`` inputs per function under test."""

    def __init__(
        self,
        client: LLMClient,
        n: int,
        *,
        temperature: float = 0.0,
        max_tokens: int = 2048,
        seed: int | None = None,
    ):
        from acecoder.llm import UsageTotals

        if n < 1:
            raise ValueError(f"--llm-inputs must be at least 1, got {n}")
        self.client, self.n, self.temperature, self.max_tokens, self.seed = (
            client,
            n,
            temperature,
            max_tokens,
            seed,
        )
        self.usage = UsageTotals(client.backend.model)

    def fingerprint_parts(self) -> list[Any]:
        return ["llm-inputs", self.client.backend.model, self.n, self.temperature, self.max_tokens, self.seed]

    def propose(self, jobs: Sequence[tuple[dict[str, Any], Target, set[str]]]) -> list[list[Call]]:
        """For each (row, target, names the reference defines): the calls the model proposed."""
        from acecoder.augmentation.render import call_source
        from acecoder.llm import ChatRequest

        requests = []
        for row, target, _ in jobs:
            shown = [t for t in row.get("test_cases") or [] if isinstance(t, str)][:10]
            prompt = PROMPT.format(
                callee=target.callee,
                question=str(row.get("question") or "").strip(),
                tests="\n".join(shown),
                n=self.n,
                example=call_source(target.calls[0]),
            )
            requests.append(
                ChatRequest(
                    [{"role": "user", "content": prompt}],
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                    seed=self.seed,
                )
            )
        results = self.client.generate(requests, desc="llm inputs") if requests else []
        self.usage.add(self.client)
        out = []
        for (_, target, defined), result in zip(jobs, results, strict=True):
            texts = [c.text for c in result.completions if c.ok and c.text]
            out.append(parse_calls(texts[0] if texts else "", target.callee, defined)[: self.n])
        return out

    def llm_summary(self) -> dict[str, Any]:
        return self.usage.as_dict()


def parse_calls(answer: str, callee: str, defined: set[str]) -> list[Call]:
    """The calls of ``callee`` with literal arguments in a model's answer, one per line (or statement)."""
    code = extract_program(answer)
    calls: list[Call] = []
    for line in code.splitlines():
        text = line.strip()
        if text.startswith("assert "):
            text = text[len("assert ") :]
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError):
            continue
        node = tree.body
        if isinstance(node, ast.Compare):
            node = node.left
        if isinstance(node, ast.Call):
            call = _read_call(node, defined)
            if call is not None and call.target == callee:
                calls.append(call)
    return calls
