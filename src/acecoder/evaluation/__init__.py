"""Evaluation on HumanEval(+), MBPP(+) and BigCodeBench with the official harnesses' semantics on the one
execution engine; pass@k, Average, Oracle and best-of-N with rankers (score columns, ``pass_rate``, ``codet``);
the AceCoder paper's Table 2 as markdown and JSON (``acecoder evaluate``)."""

from acecoder.evaluation.benchmarks import SPECS, Benchmark, Task, load_benchmark
from acecoder.evaluation.codet import consensus_scores, extract_tests
from acecoder.evaluation.compare import OutputChecker
from acecoder.evaluation.groundtruth import Expected, compute_expected, load_expected
from acecoder.evaluation.literals import to_source
from acecoder.evaluation.metrics import best_of_n, best_of_n_by_draws, pass_at_k, seeded_pick
from acecoder.evaluation.runner import BUILTIN_RANKERS, EvalOptions, Evaluation, evaluate_file, evaluate_rows
from acecoder.evaluation.verdicts import Judge, Settings, Verdict

__all__ = [
    "BUILTIN_RANKERS",
    "SPECS",
    "Benchmark",
    "EvalOptions",
    "Evaluation",
    "Expected",
    "Judge",
    "OutputChecker",
    "Settings",
    "Task",
    "Verdict",
    "best_of_n",
    "best_of_n_by_draws",
    "compute_expected",
    "consensus_scores",
    "evaluate_file",
    "evaluate_rows",
    "extract_tests",
    "load_benchmark",
    "load_expected",
    "pass_at_k",
    "seeded_pick",
    "to_source",
]
