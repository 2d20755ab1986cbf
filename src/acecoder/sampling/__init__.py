"""Sampling programs from models: the shared prompt template and code extraction from answers."""

from acecoder.sampling.extract import extract_code, strip_trailing_tests, trim_prose
from acecoder.sampling.prompt import (
    ACECODEPAIR_TEMPLATE,
    PREFILL_SENTENCE,
    SAMPLING_TEMPLATE,
    PromptTemplate,
    get_prompt_template,
    load_prompt_template,
)

__all__ = [
    "ACECODEPAIR_TEMPLATE",
    "PREFILL_SENTENCE",
    "SAMPLING_TEMPLATE",
    "PromptTemplate",
    "extract_code",
    "get_prompt_template",
    "load_prompt_template",
    "strip_trailing_tests",
    "trim_prose",
]
