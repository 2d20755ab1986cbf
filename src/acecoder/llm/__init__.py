"""Chat generation through one interface: OpenAI-compatible servers, in-process transformers or offline
vLLM, with a persistent per-sample request cache, rate limits, retries, and token and cost accounting.

    from acecoder.llm import ChatRequest, LLMClient, make_backend

    backend = make_backend("openai", "gpt-4o-mini")
    with LLMClient(backend, cache_path="runs/synth/llm_cache.sqlite") as client:
        results = client.generate([ChatRequest([{"role": "user", "content": "hi"}], n=2, temperature=0.7)])
    print(client.summary)
"""

from acecoder.llm.backends import Backend, LocalBackend, RemoteBackend, make_backend, render_prompt
from acecoder.llm.cache import RequestCache
from acecoder.llm.client import LLMClient, RunSummary
from acecoder.llm.costs import Price, PriceTable
from acecoder.llm.errors import BackendError, FatalBackendError, RetryableError
from acecoder.llm.limits import RateLimiter
from acecoder.llm.request import ChatRequest, ChatResult, Completion, Job, JobOutput, Sample, Usage
from acecoder.llm.usage import UsageTotals, usage_line

__all__ = [
    "Backend",
    "BackendError",
    "ChatRequest",
    "ChatResult",
    "Completion",
    "FatalBackendError",
    "Job",
    "JobOutput",
    "LLMClient",
    "LocalBackend",
    "Price",
    "PriceTable",
    "RateLimiter",
    "RemoteBackend",
    "RequestCache",
    "RetryableError",
    "RunSummary",
    "Sample",
    "Usage",
    "UsageTotals",
    "make_backend",
    "render_prompt",
    "usage_line",
]
