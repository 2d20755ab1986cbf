"""Sampling programs from policy models: N programs per question per model, appended to each row's inferences.

Each question is asked with the shared sampling prompt (:data:`~acecoder.sampling.SAMPLING_TEMPLATE`: the question
and its first tests, the assistant prefill "Below is a Python script ..." opening a python fence that the model
continues), through an :class:`~acecoder.llm.LLMClient` per model. The program is extracted from each answer with
:func:`~acecoder.sampling.extract_code` and appended to the row's ``inferences`` as::

    {"model_name": label, "completion_id": k, "completion": program, "raw_completion": answer,
     "finish_reason": "stop", "sampling_key": "3f2a...", "sample_index": i}

``raw_completion`` is the model's text after the prefill; ``sampling_key`` identifies the prompt, model and
sampling settings (a prefix of the request's cache key) and ``sample_index`` the sample of that request.
``completion_id`` continues after the row's existing inferences of the same model. Nothing is executed here:
``acecoder execute`` fills ``pass_rate`` with the one execution engine.

``n`` is the number of samples per question and model *for this prompt and these settings*: samples already in
the row with the same ``sampling_key`` count towards it, so rerunning a command (even in place, ``IN`` = ``OUT``)
adds nothing, and raising ``n`` adds only the missing samples. Other samples of the same model (another
temperature, an earlier release) are kept and do not count. Every answer goes through the client's request cache
as it arrives and finished rows go to a progress file, so a rerun after a crash re-pays nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from acecoder.data import DataError, RowWriter, iter_rows, require_file, unique_rows, validate_acecode_row
from acecoder.data.checkpoint import Checkpoint, file_identity, fingerprint
from acecoder.data.io import write_json
from acecoder.execution.testkinds import has_stdin_tests
from acecoder.sampling.extract import extract_code
from acecoder.sampling.prompt import PromptTemplate, get_prompt_template

if TYPE_CHECKING:
    from acecoder.llm import ChatRequest, LLMClient

# The paper's sampling settings.
PAPER_N = 16
PAPER_TEMPERATURE = 0.7
PAPER_TOP_P = 1.0
PAPER_MAX_TOKENS = 1024

# Characters of the request cache key kept in each inference's ``sampling_key``.
SAMPLING_KEY_CHARS = 16

# ---- the models to sample from -------------------------------------------------------------------------------


# ---- the run summary ---------------------------------------------------------------------------------------


@dataclass
class ModelStats:
    """What sampling one model did: samples appended, already present (skipped), failed (a rerun retries them),
    empty programs, answers cut at ``max_tokens``; ``llm``: the client's usage summed over batches."""

    added: int = 0
    present: int = 0
    failed: int = 0
    empty: int = 0
    truncated: int = 0
    llm: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SampleSummary:
    rows: int = 0
    resumed: int = 0
    retried_rows: int = 0
    models: dict[str, ModelStats] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(m.failed for m in self.models.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "resumed": self.resumed,
            "retried_rows": self.retried_rows,
            "failed": self.failed,
            "models": {k: v.as_dict() for k, v in self.models.items()},
        }

    def __str__(self) -> str:
        lines = [f"rows: {self.rows} ({self.resumed} from the progress file, {self.retried_rows} retried)"]
        for label, m in self.models.items():
            lines.append(
                f"{label}: {m.added} samples added, {m.present} already present, {m.failed} failed, "
                f"{m.empty} empty programs, {m.truncated} cut at max_tokens"
            )
            if m.llm:
                lines.append(
                    "  {requests} requests, {cached} samples cached, {generated} generated, {failed} failed; "
                    "tokens in {prompt_tokens:,} out {completion_tokens:,}; cost {cost}".format(**m.llm)
                )
        return "\n".join(lines)


# ---- sampling ----------------------------------------------------------------------------------------------


def _model_list(models: Any) -> list[tuple[str, LLMClient]]:
    if hasattr(models, "generate") and hasattr(models, "backend"):
        return [(models.backend.model, models)]
    items = list(models.items()) if isinstance(models, Mapping) else [tuple(m) for m in models]
    if not items:
        raise ValueError("no model to sample from")
    labels = [label for label, _ in items]
    if len(set(labels)) != len(labels):
        raise ValueError(f"model names must be unique, got {labels}")
    return items  # type: ignore[return-value]


@dataclass
class _Want:
    """The samples one (row, model) still needs."""

    row: dict[str, Any]
    request: ChatRequest
    key: str
    need: list[int]
    next_id: int
    present: dict[int, dict[str, Any]]


class _Sampler:
    def __init__(
        self,
        models: list[tuple[str, LLMClient]],
        *,
        n: int,
        temperature: float,
        top_p: float,
        max_tokens: int,
        seed: int | None,
        stop: Sequence[str] | None,
        template: PromptTemplate,
        continuation: bool | None,
        strip_tests: bool,
        keep_raw: bool,
        summary: SampleSummary,
    ):
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.models, self.n, self.temperature, self.top_p = models, n, temperature, top_p
        self.max_tokens, self.seed, self.stop, self.template = max_tokens, seed, stop, template
        self.continuation, self.strip_tests, self.keep_raw = continuation, strip_tests, keep_raw
        self.summary = summary
        from acecoder.llm import UsageTotals

        self.totals = {label: UsageTotals(client.backend.model) for label, client in models}
        for label, _ in models:
            summary.models.setdefault(label, ModelStats())

    def check(self, row: Any, path: str | None, line: int | None) -> dict[str, Any]:
        """Validate the fields sampling reads; raise :class:`DataError` naming file, row and field."""
        validate_acecode_row(row, require=("question",), path=path, line=line)
        labels = {label for label, _ in self.models}
        for i, inf in enumerate(row.get("inferences") or []):
            cid = inf.get("completion_id")
            if inf.get("model_name") not in labels or cid is None:
                continue
            if isinstance(cid, bool) or not isinstance(cid, int):
                raise DataError(
                    f"expected an integer, got {type(cid).__name__}",
                    path=path,
                    row=line,
                    field=f"inferences[{i}].completion_id",
                )
        if row.get("inferences") is None:
            row["inferences"] = []
        return row

    def request(self, row: dict[str, Any]) -> ChatRequest:
        from acecoder.llm import ChatRequest

        tmpl = self.template
        return ChatRequest(
            tmpl.messages(row["question"], row.get("test_cases") or [], with_prefill=False),
            n=self.n,
            temperature=self.temperature,
            top_p=self.top_p,
            max_tokens=self.max_tokens,
            stop=self.stop,
            seed=self.seed,
            prefill=tmpl.prefill or None,
        )

    def want(self, row: dict[str, Any], label: str, client: LLMClient) -> _Want:
        request = self.request(row)
        key = request.key(client.backend.model)
        short = key[:SAMPLING_KEY_CHARS]
        mine = [inf for inf in row["inferences"] if inf.get("model_name") == label]
        ids = [inf["completion_id"] for inf in mine if isinstance(inf.get("completion_id"), int)]
        next_id = max(max(ids, default=-1) + 1, 0 if len(ids) == len(mine) else len(mine))
        present = {
            inf["sample_index"]: inf
            for inf in mine
            if inf.get("sampling_key") == short and isinstance(inf.get("sample_index"), int)
        }
        need = [i for i in range(self.n) if i not in present]
        return _Want(row, request, key, need, next_id, present)

    def prime(self, client: LLMClient, wants: list[_Want]) -> None:
        """Put samples the rows already hold (with their raw answer) into the cache, so raising ``n`` on rows
        sampled with another cache does not pay again for the samples it keeps."""
        from acecoder.llm import Completion

        partial = [w for w in wants if w.need and w.present]
        if not partial:
            return
        cached = client.cache.lookup(w.key for w in partial)
        for w in partial:
            have = cached.get(w.key, {})
            fill = [
                Completion(index=i, text=inf["raw_completion"], finish_reason=inf.get("finish_reason"))
                for i, inf in w.present.items()
                if isinstance(inf.get("raw_completion"), str) and not (i in have and have[i].ok)
            ]
            if fill:
                client.cache.put(w.key, client.backend.model, fill)

    def sample(self, rows: list[dict[str, Any]]) -> list[int]:
        """Append the missing samples of every model to these checked rows; return failures per row."""
        plans: list[tuple[str, LLMClient, list[_Want]]] = []
        for label, client in self.models:
            wants = [self.want(row, label, client) for row in rows]
            self.summary.models[label].present += sum(i < self.n for w in wants for i in w.present)
            self.prime(client, wants)
            plans.append((label, client, [w for w in wants if w.need]))
        results = asyncio.run(self._generate(plans))
        failed = {id(row): 0 for row in rows}
        for (label, client, wants), outs in zip(plans, results, strict=True):
            stats = self.summary.models[label]
            if wants:
                self.totals[label].add(client)
                stats.llm = self.totals[label].as_dict()
            for w, result in zip(wants, outs, strict=True):
                next_id = w.next_id
                for i in w.need:
                    c = result.completions[i]
                    if not c.ok:
                        stats.failed += 1
                        failed[id(w.row)] += 1
                        continue
                    w.row["inferences"].append(
                        self.inference(
                            label, next_id, c, w.key, i, stdin=has_stdin_tests(w.row.get("test_cases"))
                        )
                    )
                    next_id += 1
                    stats.added += 1
                    stats.truncated += c.finish_reason == "length"
                    stats.empty += not w.row["inferences"][-1]["completion"].strip()
        return [failed[id(row)] for row in rows]

    def inference(
        self, label: str, completion_id: int, c: Any, key: str, index: int, *, stdin: bool = False
    ) -> dict[str, Any]:
        # a program judged on its standard output: its trailing prints are the program, not tests to strip
        program = extract_code(
            c.text, continuation=self.continuation, strip_tests=self.strip_tests and not stdin
        )
        inf: dict[str, Any] = {"model_name": label, "completion_id": completion_id, "completion": program}
        if self.keep_raw:
            inf["raw_completion"] = c.text
        inf["finish_reason"] = c.finish_reason
        inf["sampling_key"] = key[:SAMPLING_KEY_CHARS]
        inf["sample_index"] = index
        return inf

    async def _generate(self, plans: list[tuple[str, LLMClient, list[_Want]]]) -> list[list[Any]]:
        """Remote models are asked concurrently (each has its own servers); in-process models one at a time."""
        from acecoder.llm import LocalBackend

        results: list[list[Any]] = [[] for _ in plans]
        remote = []
        for i, (label, client, wants) in enumerate(plans):
            if not wants:
                continue
            call = client.agenerate([w.request for w in wants], desc=f"sample {label}")
            if isinstance(client.backend, LocalBackend):
                results[i] = await call
            else:
                remote.append((i, call))
        for (i, _), out in zip(remote, await asyncio.gather(*(c for _, c in remote)), strict=True):
            results[i] = out
        return results


def _template(template: PromptTemplate | str | os.PathLike | None) -> PromptTemplate:
    return template if isinstance(template, PromptTemplate) else get_prompt_template(template)


def _sample_numbered(
    numbered: Iterable[tuple[int, dict[str, Any]]], sampler: _Sampler, batch_size: int, path: str | None
) -> Iterator[tuple[dict[str, Any], int]]:
    it = iter(numbered)
    while batch := list(islice(it, max(1, batch_size))):
        rows = [sampler.check(row, path, number) for number, row in batch]
        yield from zip(rows, sampler.sample(rows), strict=True)


def sample_rows(
    rows: Iterable[dict[str, Any]],
    models: Any,
    *,
    n: int = PAPER_N,
    temperature: float = PAPER_TEMPERATURE,
    top_p: float = PAPER_TOP_P,
    max_tokens: int = PAPER_MAX_TOKENS,
    seed: int | None = None,
    stop: Sequence[str] | None = None,
    template: PromptTemplate | str | os.PathLike | None = None,
    continuation: bool | None = None,
    strip_tests: bool = True,
    keep_raw: bool = True,
    batch_size: int = 256,
    summary: SampleSummary | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield each row, in order, with ``n`` samples per model in its ``inferences`` (see the module docstring).

    ``models``: ``{model_name: LLMClient}``, a list of ``(model_name, LLMClient)`` or one client (named after its
    model). ``template``: a :class:`PromptTemplate`, a preset name or a template file (default: the paper's).
    ``continuation``, ``strip_tests``: passed to :func:`extract_code` (None: decide from each answer whether it
    continues the prefill's fence or opens its own). ``keep_raw``: also store the model's answer. Rows go to the
    models ``batch_size`` at a time; failed samples are left out (and counted in ``summary``): running again with
    the same cache retries only them."""
    sampler = _Sampler(
        _model_list(models),
        n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed, stop=stop,
        template=_template(template), continuation=continuation, strip_tests=strip_tests, keep_raw=keep_raw,
        summary=summary if summary is not None else SampleSummary(),
    )  # fmt: skip
    for row, _ in _sample_numbered(enumerate(rows, 1), sampler, batch_size, None):
        sampler.summary.rows += 1
        yield row


def sample_file(
    input: str | os.PathLike,
    output: str | os.PathLike,
    models: Any,
    *,
    n: int = PAPER_N,
    temperature: float = PAPER_TEMPERATURE,
    top_p: float = PAPER_TOP_P,
    max_tokens: int = PAPER_MAX_TOKENS,
    seed: int | None = None,
    stop: Sequence[str] | None = None,
    template: PromptTemplate | str | os.PathLike | None = None,
    continuation: bool | None = None,
    strip_tests: bool = True,
    keep_raw: bool = True,
    limit: int | None = None,
    batch_size: int = 256,
    summary_path: str | os.PathLike | None = None,
    resume: bool = True,
    dedupe_ids: bool = False,
) -> SampleSummary:
    """Sample every row of ``input`` (the first ``limit`` rows) into ``output`` (may be ``input`` itself), with
    :func:`sample_rows`'s options. Finished rows are appended to ``<output>.partial.jsonl`` as they complete, so a
    rerun with the same inputs and settings continues; rows whose samples failed are retried on that rerun.
    The output is written atomically at the end, with a summary at ``summary_path`` (default
    ``<output>.summary.json``). Row ids must be unique (``dedupe_ids`` renames repeats)."""
    output = Path(output)
    summary_path = Path(summary_path) if summary_path else output.with_name(output.name + ".summary.json")
    items = _model_list(models)
    tmpl = _template(template)
    summary = SampleSummary()
    sampler = _Sampler(
        items,
        n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed, stop=stop,
        template=tmpl, continuation=continuation, strip_tests=strip_tests, keep_raw=keep_raw, summary=summary,
    )  # fmt: skip
    require_file(input)
    run_fp = fingerprint(
        stage="sample",
        input=file_identity(input),
        models=[[label, client.backend.model] for label, client in items],
        sampling=[n, temperature, top_p, max_tokens, seed, list(stop) if stop else None],
        template=tmpl.to_dict(),
        extract=[continuation, strip_tests, keep_raw],
        limit=limit,
    )
    path = str(input)
    replaced: dict[int, dict[str, Any]] = {}
    with Checkpoint(output, run_fp, resume=resume) as ckpt:
        numbered = unique_rows(iter_rows(input), path, dedupe=dedupe_ids)
        numbered = islice(numbered, limit) if limit is not None else numbered
        summary.resumed = ckpt.done
        # Rows an earlier run finished: those with failed samples are asked again (only what is missing).
        retry: list[tuple[int, int, dict[str, Any]]] = []
        for i, record, (number, _) in ckpt.finished(numbered):
            if record["failed"]:
                retry.append((i, number, record["row"]))
            summary.rows += 1
        for (i, _, _), (row, _) in zip(
            retry,
            _sample_numbered([(number, row) for _, number, row in retry], sampler, batch_size, path),
            strict=True,
        ):
            replaced[i] = row
        summary.retried_rows = len(retry)
        for row, failed in _sample_numbered(numbered, sampler, batch_size, path):
            ckpt.append({"failed": failed, "row": row})
            summary.rows += 1
    with RowWriter(output) as writer:
        for i, record in enumerate(ckpt.rows()):
            writer.write(replaced.get(i) or record["row"])
    ckpt.path.unlink()
    write_json(summary_path, summary.as_dict())
    return summary
