"""Question and test synthesis from seed programs, test filtering with oracle programs, and Table-1 statistics.

    from acecoder.synthesis import load_seeds, parse_answer, validate_tests, Decontaminator

Stages: :func:`synthesize_file` (``acecoder synthesize``), :func:`filter_tests_file` (``acecoder filter-tests``)
and :func:`table1_file` (``acecoder stats``). Modules that need the LLM layer or the execution engine import them
only when called.
"""

from acecoder.synthesis.decontam import (
    BUNDLED_BENCHMARKS,
    Decontaminator,
    Overlap,
    bundled_documents,
    file_documents,
)
from acecoder.synthesis.filter_tests import (
    FieldOracle,
    FilterOutcome,
    FilterSummary,
    ModelOracle,
    filter_rows,
    filter_tests_file,
)
from acecoder.synthesis.parse import MALFORMED_REASONS, ParsedAnswer, parse_answer, repair_truncated_json
from acecoder.synthesis.prompt import SynthesisPrompt, default_template, load_template
from acecoder.synthesis.seeds import SEED_FORMATS, Seed, SeedStats, load_seeds, python_block, strip_prints
from acecoder.synthesis.stats import Table1Column, format_table1, table1, table1_file
from acecoder.synthesis.synthesize import Outcome, SynthesisSummary, outcome_for, synthesize, synthesize_file
from acecoder.synthesis.validate import (
    DROP_REASONS,
    TestValidation,
    check_test,
    find_entry_point,
    validate_tests,
)

__all__ = [
    "BUNDLED_BENCHMARKS",
    "DROP_REASONS",
    "MALFORMED_REASONS",
    "SEED_FORMATS",
    "Decontaminator",
    "FieldOracle",
    "FilterOutcome",
    "FilterSummary",
    "ModelOracle",
    "Outcome",
    "Overlap",
    "ParsedAnswer",
    "Seed",
    "SeedStats",
    "SynthesisPrompt",
    "SynthesisSummary",
    "Table1Column",
    "TestValidation",
    "bundled_documents",
    "check_test",
    "default_template",
    "file_documents",
    "filter_rows",
    "filter_tests_file",
    "find_entry_point",
    "format_table1",
    "load_seeds",
    "load_template",
    "outcome_for",
    "parse_answer",
    "python_block",
    "repair_truncated_json",
    "strip_prints",
    "synthesize",
    "synthesize_file",
    "table1",
    "table1_file",
    "validate_tests",
]
