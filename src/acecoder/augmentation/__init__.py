"""Oracle-checked test augmentation: more asserts per row, with inputs from the row's own tests mutated inside
the domain they show and expected outputs from a reference (a field, an oracle model, or the consensus of the
row's passing programs) run in the engine; and the mutation score that shows how strong a row's tests are.

    from acecoder.augmentation import OracleSource, augment_tests_file
    from acecoder.synthesis import FieldOracle

    with ExecutionEngine() as engine:
        augment_tests_file("rows.jsonl", "augmented.jsonl", OracleSource(FieldOracle("solution")), engine)
"""

from acecoder.augmentation.augment import AugmentSummary, augment_tests_file
from acecoder.augmentation.batch import ALL_RULES, DEFAULT_MAX_NEW_TESTS, RowOutcome, Settings, augment_batch
from acecoder.augmentation.calls import Call, Style, Target, read_calls
from acecoder.augmentation.mutation_score import Score, mutants
from acecoder.augmentation.sources import ConsensusSource, OracleSource, ReferenceSource

__all__ = [
    "ALL_RULES",
    "DEFAULT_MAX_NEW_TESTS",
    "AugmentSummary",
    "Call",
    "ConsensusSource",
    "OracleSource",
    "ReferenceSource",
    "RowOutcome",
    "Score",
    "Settings",
    "Style",
    "Target",
    "augment_batch",
    "augment_tests_file",
    "mutants",
    "read_calls",
]
