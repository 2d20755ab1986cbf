"""Preference pairs and the hard subset, built from scored AceCode rows."""

from acecoder.pairs.build import (
    PairConfig,
    PairSummary,
    iter_pairs,
    make_pairs,
    pairs_for_row,
)
from acecoder.pairs.formats import FORMATS, PairFormatter
from acecoder.pairs.hard import HardSummary, hard_rows, hard_subset, rate_stats, row_stats, select_hard
from acecoder.pairs.pair import PAIR_FIELDS, Pair

__all__ = [
    "FORMATS",
    "PAIR_FIELDS",
    "HardSummary",
    "Pair",
    "PairConfig",
    "PairFormatter",
    "PairSummary",
    "hard_rows",
    "hard_subset",
    "iter_pairs",
    "make_pairs",
    "pairs_for_row",
    "rate_stats",
    "row_stats",
    "select_hard",
]
