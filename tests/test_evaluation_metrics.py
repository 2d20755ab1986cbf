"""pass@k, best-of-N with ties, CodeT consensus: exact formulas against brute-force enumeration."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from acecoder.evaluation.codet import consensus_scores, extract_tests, pooled_tests, truncate
from acecoder.evaluation.metrics import (
    best_of_n,
    best_of_n_by_draws,
    n_values,
    pass_at_k,
    seeded_pick,
    top_tie_expectation,
)


def brute_pass_at_k(correct: list[bool], k: int) -> float:
    subsets = list(itertools.combinations(range(len(correct)), k))
    return sum(any(correct[i] for i in s) for s in subsets) / len(subsets)


def brute_best_of_n(scores: list, correct: list[bool], n: int) -> float:
    """Every n-subset equally likely; within it every top-scored sample equally likely."""
    total = 0.0
    subsets = list(itertools.combinations(range(len(scores)), n))
    for subset in subsets:
        numbers = [scores[i] for i in subset if scores[i] is not None]
        best = max(numbers) if numbers else None
        top = [i for i in subset if scores[i] == best] if best is not None else list(subset)
        total += sum(correct[i] for i in top) / len(top)
    return total / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_pass_at_k_equals_enumeration(n):
    rng = random.Random(n)
    for _ in range(20):
        correct = [rng.random() < 0.4 for _ in range(n)]
        for k in range(1, n + 1):
            assert pass_at_k(n, sum(correct), k) == pytest.approx(brute_pass_at_k(correct, k), abs=1e-12)


def test_pass_at_k_edges_and_bad_input():
    assert pass_at_k(10, 0, 3) == 0.0
    assert pass_at_k(10, 10, 1) == 1.0
    assert pass_at_k(200, 3, 1) == pytest.approx(3 / 200)
    for n, c, k in [(5, 6, 1), (5, 2, 0), (5, 2, 6), (5, -1, 1)]:
        with pytest.raises(ValueError):
            pass_at_k(n, c, k)


def test_best_of_n_with_ties_equals_enumeration():
    rng = random.Random(7)
    for _ in range(60):
        size = rng.randint(1, 8)
        # few distinct values so that ties are frequent; None = unscored
        scores = [rng.choice([None, 0.0, 0.5, 0.5, 1.0]) for _ in range(size)]
        correct = [rng.random() < 0.5 for _ in range(size)]
        for n in range(1, size + 1):
            assert best_of_n(scores, correct, n) == pytest.approx(
                brute_best_of_n(scores, correct, n), abs=1e-12
            )


def test_best_of_n_full_set_is_the_top_tie_expectation():
    scores = [3.0, 3.0, 3.0, 1.0, 2.0]
    correct = [True, False, False, True, True]
    # the three tied top programs: one of three is right, whatever the lower ones are
    assert best_of_n(scores, correct, 5) == pytest.approx(1 / 3)
    assert top_tie_expectation(scores, correct) == pytest.approx(1 / 3)
    # best-of-1 is a random sample: the average
    assert best_of_n(scores, correct, 1) == pytest.approx(3 / 5)
    # no score at all: a uniform pick
    assert best_of_n([None] * 4, [True, False, False, False], 4) == pytest.approx(0.25)


def test_best_of_n_by_draws_matches_exact_when_every_subset_is_drawn():
    rng = random.Random(3)
    scores = [rng.choice([0.0, 1.0, 2.0]) for _ in range(7)]
    correct = [rng.random() < 0.5 for _ in range(7)]
    for n in range(1, 8):
        by_draws = best_of_n_by_draws(lambda idx: [scores[i] for i in idx], correct, n, draws=10_000)
        assert by_draws == pytest.approx(best_of_n(scores, correct, n), abs=1e-12)


def test_best_of_n_by_draws_is_seeded():
    correct = [i % 3 == 0 for i in range(40)]
    scorer = lambda idx: [float(i % 5) for i in idx]  # noqa: E731
    first = best_of_n_by_draws(scorer, correct, 10, draws=50, seed=1)
    assert first == best_of_n_by_draws(scorer, correct, 10, draws=50, seed=1)
    exact = best_of_n([float(i % 5) for i in range(40)], correct, 10)
    assert first == pytest.approx(exact, abs=0.15)


def test_seeded_pick_is_reproducible_and_among_the_top():
    scores = [1.0, 5.0, 5.0, 2.0, 5.0, None]
    picks = {seeded_pick(scores, f"task-{i}") for i in range(50)}
    assert picks == {1, 2, 4}
    assert seeded_pick(scores, "x") == seeded_pick(scores, "x")
    assert seeded_pick([None, None], "s") in (0, 1)


def test_n_values():
    assert n_values(1) == [1]
    assert n_values(100) == [1, 2, 4, 8, 16, 32, 64, 100]
    assert n_values(64) == [1, 2, 4, 8, 16, 32, 64]


def test_codet_consensus_on_a_hand_built_matrix():
    # tests t0..t3; t0 was written 3 times, the others once
    weights = [3, 1, 1, 1]
    passed = [
        frozenset({0, 1}),  # A  \
        frozenset({0, 1}),  # A   } set {t0, t1}: 3 programs, weight 4 -> sqrt(3) * 4 = 6.93
        frozenset({0, 1}),  # A  /
        frozenset({0, 1, 2, 3}),  # B: alone, weight 6 -> 6.0
        frozenset({2}),  # C: weight 1, one program -> 1.0
        frozenset(),  # passes nothing -> 0
        None,  # could not run -> 0
    ]
    scores = consensus_scores(passed, weights)
    assert scores[:3] == [pytest.approx(math.sqrt(3) * 4)] * 3
    assert scores[3:] == [pytest.approx(6.0), pytest.approx(1.0), 0.0, 0.0]
    # the consensus set wins although B passes more tests; if A's programs are wrong and B right:
    correct = [False, False, False, True, False, False, False]
    assert top_tie_expectation(scores, correct) == 0.0
    # drop two of A's programs: B now ranks first (sqrt(1) * 4 < 6)
    subset = [0, 3, 4, 5]
    sub_scores = consensus_scores([passed[i] for i in subset], weights)
    assert top_tie_expectation(sub_scores, [correct[i] for i in subset]) == 1.0


def test_codet_test_extraction_follows_codet_rules():
    generated = (
        "\n    add(1, 2) == 3\nassert add(0, 0) == 0\nassert other(1) == 2\n"
        "assert add(2, 2) == 4\n# a comment\nassert add(5, 5) == 10\n"
        "assert add(1,\nassert add(7, 1) == 8\nassert add(9, 1) == 10\n"
    )
    tests = extract_tests(generated, "add")
    # the first (an assert broken over a line) and 'add(1,' do not compile, 'other' lacks the entry point,
    # the comment is cut at CodeT's stop token '\n#'; the first 5 survivors are kept
    assert tests == [
        "assert add(0, 0) == 0",
        "assert add(2, 2) == 4",
        "assert add(5, 5) == 10",
        "assert add(7, 1) == 8",
        "assert add(9, 1) == 10",
    ]
    assert truncate("x = 1\nprint(x)\ndef f(): pass") == "x = 1"
    distinct, counts = pooled_tests(["b", "a", "b", "b"])
    assert distinct == ["a", "b"] and counts == [1, 3]


class _FakeExecutor:
    """Answers each job from its program text; pulls ``ahead`` jobs before answering the oldest (1: answers
    every job as soon as it is pulled, the order in which a stream's later jobs are not sent yet)."""

    def __init__(self, ahead: int):
        self.ahead, self.ran = ahead, []

    def run(self, jobs):
        from collections import deque

        from acecoder.execution import JobResult

        pending: deque = deque()
        for job in jobs:
            pending.append(job)
            if len(pending) >= self.ahead:
                yield self._answer(pending.popleft(), JobResult)
        while pending:
            yield self._answer(pending.popleft(), JobResult)

    def _answer(self, job, result_type):
        if job.tests:
            self.ran.append(job.program)
            return result_type([len(job.program)], [None])
        return result_type([], [])


class _TwoRoundPlan:
    """Round 1: two jobs (the second shared by every plan); round 2: one job built from round 1's results."""

    def __init__(self, name: str):
        self.name, self.round, self.seen = name, 0, []

    def next_jobs(self):
        from acecoder.execution import Job

        if self.round == 0:
            return [Job(f"first {self.name}", ["t"]), Job("shared", ["t"])]
        return [Job(f"second {self.name} after {sum(self.seen)}", ["t"])]

    def feed(self, results):
        self.seen += [r.test_results[0] for r in results]
        self.round += 1

    @property
    def done(self):
        return self.round == 2


@pytest.mark.parametrize("ahead", [1, 2, 7, 100])
def test_run_plans_rounds_order_and_duplicates(ahead):
    from acecoder.evaluation.dispatch import DedupStats, run_plans

    executor, stats = _FakeExecutor(ahead), DedupStats()
    plans = [_TwoRoundPlan(str(i)) for i in range(30)]
    out = list(run_plans(executor, plans, stats=stats, in_flight=5))
    assert out == plans  # every plan, in input order
    for plan in plans:
        first = len(f"first {plan.name}")
        assert plan.seen == [first, len("shared"), len(f"second {plan.name} after {first + 6}")]
    assert stats.jobs == 90 and executor.ran.count("shared") <= 30 and stats.ran == len(executor.ran)
    assert executor.ran.count("shared") == 1  # recent identical jobs run once


def test_run_plans_forgets_jobs_beyond_the_window():
    from acecoder.evaluation.dispatch import DedupStats, run_plans
    from acecoder.execution import Job
    from acecoder.execution.dedupe import WINDOW, job_key

    class OneJob:
        def __init__(self, program):
            self.program, self.result = program, None

        def next_jobs(self):
            return [Job(self.program, ["t"])]

        def feed(self, results):
            self.result = results[0]

        @property
        def done(self):
            return self.result is not None

    executor, stats = _FakeExecutor(1), DedupStats()
    order = ["a", "b", "a", "c", "a", "b"]  # a window of two: "b" fell out when "c" came
    plans = [OneJob(p) for p in order]
    assert list(run_plans(executor, plans, stats=stats, window=2, in_flight=1)) == plans
    assert executor.ran == ["a", "b", "c", "b"] and (stats.jobs, stats.ran) == (6, 4)
    assert [p.result.test_results for p in plans] == [[len(p)] for p in order]
    assert WINDOW == 512 and job_key(Job("a", ["t"])) == job_key(Job("a", ["t"]))
