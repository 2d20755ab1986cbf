"""In-process generation with ``transformers`` (CPU or one GPU); for tests, small models and debugging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acecoder.llm.backends.base import LocalBackend, cut_at_stop, render_prompt
from acecoder.llm.errors import require
from acecoder.llm.request import ChatRequest, Job, JobOutput, Sample, Usage


class TransformersBackend(LocalBackend):
    """``AutoModelForCausalLM.generate`` behind the chat interface.

    Unseeded samples of requests that share sampling parameters are generated together, ``batch_size`` rows
    at a time (left padding). A seeded request generates sample ``i`` alone under ``torch.manual_seed(seed +
    i)``, so each sample index is reproducible whatever else was generated with it. Stop strings end a sample
    and are cut from its text; ``extra`` is passed to ``generate`` (``top_k``, ``repetition_penalty``, ...).
    """

    def __init__(
        self,
        model: str | Any,
        *,
        tokenizer: Any = None,
        device: str | None = None,
        dtype: str | Any = "auto",
        batch_size: int = 16,
        jobs_per_chunk: int = 32,
        trust_remote_code: bool = False,
        model_name: str | None = None,
    ):
        require("torch", "train")
        transformers = require("transformers", "train")
        if isinstance(model, str):
            self.hf_model = transformers.AutoModelForCausalLM.from_pretrained(
                model, dtype=dtype, trust_remote_code=trust_remote_code
            )
        else:
            self.hf_model = model
        self.model = model_name or (model if isinstance(model, str) else self.hf_model.name_or_path)
        source = tokenizer if tokenizer is not None else self.model
        if isinstance(source, str):
            source = transformers.AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
        self.tokenizer = source
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        if device is not None:
            self.hf_model.to(device)
        self.hf_model.eval()
        self.batch_size = batch_size
        self.jobs_per_chunk = jobs_per_chunk
        self.eos_ids = self._eos_ids()

    def _eos_ids(self) -> set[int]:
        ids = self.hf_model.generation_config.eos_token_id
        ids = set(ids if isinstance(ids, list) else [] if ids is None else [ids])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def prompt_ids(self, request: ChatRequest) -> list[int]:
        return self.tokenizer(render_prompt(self.tokenizer, request), add_special_tokens=False)["input_ids"]

    def generate(self, jobs: Sequence[Job]) -> list[JobOutput]:
        outputs = [JobOutput([], Usage()) for _ in jobs]
        prompts = [self.prompt_ids(job.request) for job in jobs]
        # rows: (job number, seed or None); grouped by sampling parameters for batching.
        groups: dict[str, list[tuple[int, int | None]]] = {}
        for j, job in enumerate(jobs):
            req = job.request
            sig = repr((req.temperature, req.top_p, req.max_tokens, req.stop, sorted(req.extra.items())))
            for i in job.indices:
                groups.setdefault(sig, []).append((j, None if req.seed is None else req.seed + i))
        for rows in groups.values():
            unseeded = [r for r in rows if r[1] is None]
            batches = [unseeded[k : k + self.batch_size] for k in range(0, len(unseeded), self.batch_size)]
            batches += [[r] for r in rows if r[1] is not None]
            for batch in batches:
                request = jobs[batch[0][0]].request
                texts = self._generate([prompts[j] for j, _ in batch], request, batch[0][1])
                for (j, _), (sample, n_prompt, n_out) in zip(batch, texts, strict=True):
                    outputs[j].samples.append(sample)
                    outputs[j].usage.prompt_tokens += n_prompt
                    outputs[j].usage.completion_tokens += n_out
        return outputs

    def _generate(
        self, prompts: list[list[int]], req: ChatRequest, seed: int | None
    ) -> list[tuple[Sample, int, int]]:
        import torch

        tok = self.tokenizer
        tok.padding_side = "left"
        batch = tok.pad({"input_ids": prompts}, return_tensors="pt").to(self.hf_model.device)
        kwargs: dict[str, Any] = {"max_new_tokens": req.max_tokens, "pad_token_id": tok.pad_token_id}
        if self.eos_ids:
            kwargs["eos_token_id"] = sorted(self.eos_ids)
        if req.temperature > 0:
            kwargs.update(do_sample=True, temperature=req.temperature, top_p=req.top_p, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        width = batch["input_ids"].shape[1]
        if req.stop:
            kwargs["stopping_criteria"] = [_StopStrings(tok, req.stop, width)]
        kwargs.update(req.extra)
        if seed is not None:
            torch.manual_seed(seed)
        with torch.inference_mode():
            seqs = self.hf_model.generate(**batch, **kwargs)
        results = []
        for row, prompt in zip(seqs[:, width:].tolist(), prompts, strict=True):
            n_out = next((k + 1 for k, t in enumerate(row) if t in self.eos_ids), None)
            ended = n_out is not None
            if n_out is None:
                n_out = len(row)
                while n_out and row[n_out - 1] == tok.pad_token_id:
                    n_out -= 1
            text, stopped = cut_at_stop(tok.decode(row[:n_out], skip_special_tokens=True), req.stop)
            finish = "stop" if ended or stopped or n_out < req.max_tokens else "length"
            results.append((Sample(text, finish), len(prompt), n_out))
        return results


class _StopStrings:
    """Stops a row once a stop string appears in its generated text; unlike ``generate(stop_strings=...)``
    it never matches across the prompt boundary (OpenAI and vLLM semantics)."""

    def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_width: int):
        self.tokenizer, self.stops, self.width = tokenizer, [s for s in stops if s], prompt_width
        self.tail = 4 * max(map(len, self.stops), default=0) + 4  # tokens enough to spell the longest stop

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        decode = self.tokenizer.decode
        rows = input_ids[:, self.width :][:, -self.tail :].tolist()
        hits = [any(s in decode(row, skip_special_tokens=True) for s in self.stops) for row in rows]
        return torch.tensor(hits, dtype=torch.bool, device=input_ids.device)
