"""End to end with a tiny random-weight chat model in process: samples, prefill, max_tokens, seeds, cache."""

from __future__ import annotations

import dataclasses

import pytest

from acecoder.llm import ChatRequest, Job, LLMClient, make_backend, render_prompt
from tiny_models import tiny_chat_model

pytestmark = pytest.mark.slow

PREFILL = "Below is a Python script with a self-contained function"
MSG = [{"role": "user", "content": "Please provide a self-contained Python script: def add(a, b):"}]


@pytest.fixture(scope="module")
def backend():
    import torch

    torch.set_num_threads(1)
    return make_backend("transformers", str(tiny_chat_model()), batch_size=8)


def test_samples_prefill_and_max_tokens(backend, tmp_path):
    req = ChatRequest(MSG, n=3, temperature=1.0, max_tokens=6, prefill=PREFILL)
    prompt = render_prompt(backend.tokenizer, req)
    assert prompt.endswith("<|im_start|>assistant\n" + PREFILL)
    with LLMClient(backend, tmp_path / "c.sqlite", progress=False) as client:
        (res,) = client.generate([req])
        assert res.ok and len(res.completions) == 3
        for c in res.completions:
            assert 1 <= c.completion_tokens <= 6
            assert c.finish_reason == ("length" if c.completion_tokens == 6 else "stop")
        assert client.summary.cost == 0.0 and client.summary.completion_tokens == res.usage.completion_tokens
        (again,) = client.generate([req])
        assert again.texts == res.texts and client.summary.generated == 0 and client.summary.cached == 3


def test_greedy_text_is_the_continuation_of_the_prefill(backend):
    import torch

    req = ChatRequest(MSG, temperature=0.0, max_tokens=8, prefill=PREFILL)
    (out,) = backend.generate([Job(req, (0,))])
    tok, model = backend.tokenizer, backend.hf_model
    ids = tok(render_prompt(tok, req), add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        seq = model.generate(ids, max_new_tokens=8, do_sample=False, pad_token_id=tok.pad_token_id)
    continuation = seq[0, ids.shape[1] :].tolist()
    if tok.eos_token_id in continuation:
        continuation = continuation[: continuation.index(tok.eos_token_id) + 1]
    assert out.samples[0].text == tok.decode(continuation, skip_special_tokens=True)
    assert out.usage.prompt_tokens == ids.shape[1]


def test_left_padded_batch_matches_single_prompts(backend):
    reqs = [
        ChatRequest(MSG, temperature=0.0, max_tokens=8),
        ChatRequest([{"role": "user", "content": "hi"}], temperature=0.0, max_tokens=8),
    ]
    batched = backend.generate([Job(r, (0,)) for r in reqs])
    single = [backend.generate([Job(r, (0,))])[0] for r in reqs]
    assert [o.samples[0].text for o in batched] == [o.samples[0].text for o in single]


def test_seed_per_sample_index_is_reproducible(backend):
    req = ChatRequest(MSG, n=3, temperature=1.0, max_tokens=8, seed=5)
    with LLMClient(backend, progress=False) as client:
        (three,) = client.generate([req])
        (one,) = client.generate([dataclasses.replace(req, n=1, seed=6)])
    assert one.texts[0] == three.texts[1]
    assert len(set(three.texts)) > 1


def test_stop_string_cuts_the_generated_text_only(backend):
    req = ChatRequest(MSG, temperature=1.0, max_tokens=12, seed=3)
    (full,) = backend.generate([Job(req, (0,))])
    text = full.samples[0].text
    stop = next((text[i : i + 2] for i in range(3, len(text) - 2) if text[i : i + 2].isascii()), None)
    if stop is None:
        pytest.skip(f"no ascii stop candidate in {text!r}")
    (cut,) = backend.generate([Job(dataclasses.replace(req, stop=[stop]), (0,))])
    assert cut.samples[0].text == text[: text.index(stop)]
    assert cut.samples[0].finish_reason == "stop"
    across = "\n" + text[0]  # the prompt ends with "assistant\n": this stop spans the boundary
    assert across not in text
    (whole,) = backend.generate([Job(dataclasses.replace(req, stop=[across]), (0,))])
    assert whole.samples[0].text == text and whole.samples[0].finish_reason == "length"
