"""Sampling programs from models: the shared prompt template, code extraction from answers, and
``sample_rows``/``sample_file`` (``acecoder sample``)."""

from acecoder.sampling.extract import extract_code, strip_trailing_tests, trim_prose
from acecoder.sampling.models import PolicyModel, load_models_file, models_from_list, policy_models
from acecoder.sampling.prompt import (
    ACECODEPAIR_TEMPLATE,
    PREFILL_SENTENCE,
    SAMPLING_TEMPLATE,
    PromptTemplate,
    get_prompt_template,
    load_prompt_template,
)
from acecoder.sampling.sample import (
    PAPER_MAX_TOKENS,
    PAPER_N,
    PAPER_TEMPERATURE,
    PAPER_TOP_P,
    ModelStats,
    SampleSummary,
    sample_file,
    sample_rows,
)

__all__ = [
    "ACECODEPAIR_TEMPLATE",
    "PAPER_MAX_TOKENS",
    "PAPER_N",
    "PAPER_TEMPERATURE",
    "PAPER_TOP_P",
    "PREFILL_SENTENCE",
    "SAMPLING_TEMPLATE",
    "ModelStats",
    "PolicyModel",
    "PromptTemplate",
    "SampleSummary",
    "extract_code",
    "get_prompt_template",
    "load_models_file",
    "load_prompt_template",
    "models_from_list",
    "policy_models",
    "sample_file",
    "sample_rows",
    "strip_trailing_tests",
    "trim_prose",
]
