"""Preference pairs from scored samples: the AceCoder rule, as released, and its documented variants.

Per question and per model (or over all models with ``cross_model``), the samples are sorted by pass rate,
highest first, ties in input order (a stable sort, as the release did). Every position ``j`` is paired with
every later position ``k``, taken from the last one backwards; ``(j, k)`` becomes (chosen, rejected) when

* released rule (default): ``chosen >= 0.8``, ``chosen - rejected >= 0.4``, ``rejected > 0``;
* ``strict`` (the paper's wording): ``chosen > 0.8``, ``chosen - rejected > 0.4``, ``rejected > 0``;

and the pair of texts is new for that group. Identical chosen and rejected texts never pair (the release did
not check; no such pair occurs in the real data we have). By default pass rates are compared as raw floats,
exactly as the release did, so ``17/20 - 9/20`` (``0.39999999999999997``) misses a 0.4 margin; a
``tolerance`` such as 1e-9 compares them as the fractions they are. Samples without a pass rate take no part.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from acecoder.data import DataError, RowWriter, UniqueIds, iter_rows, same_file, validate_acecode_row
from acecoder.pairs.formats import PairFormatter
from acecoder.pairs.pair import Pair
from acecoder.pairs.rates import scored_samples


@dataclass(frozen=True)
class PairConfig:
    """Which (chosen, rejected) samples make a pair.

    ``max_per_question``: keep at most this many pairs per question, drawn uniformly with a generator seeded by
    ``seed`` and the question id (the same pairs whatever the file order), kept in their original order.
    ``ascii_only``: skip questions with non-ASCII characters, as the release did.
    ``tolerance``: float noise to forgive at each threshold (0: the release's raw comparisons).
    """

    min_chosen: float = 0.8
    min_margin: float = 0.4
    min_rejected: float = 0.0
    strict: bool = False
    cross_model: bool = False
    max_per_question: int | None = None
    seed: int = 0
    ascii_only: bool = False
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        for name in ("min_chosen", "min_margin", "min_rejected"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.max_per_question is not None and self.max_per_question < 1:
            raise ValueError(f"max_per_question must be at least 1, got {self.max_per_question}")
        if self.tolerance < 0:
            raise ValueError("tolerance must not be negative")

    def chosen_ok(self, rate: float) -> bool:
        if self.strict:
            return rate > self.min_chosen + self.tolerance
        return rate >= self.min_chosen - self.tolerance

    def rejected_ok(self, rate: float) -> bool:
        return rate > self.min_rejected + self.tolerance

    def margin_ok(self, chosen: float, rejected: float) -> bool:
        gap = chosen - rejected
        if gap <= self.tolerance:  # equal rates are never a preference, whatever the margin
            return False
        if self.strict:
            return gap > self.min_margin + self.tolerance
        return gap >= self.min_margin - self.tolerance

    def accepts(self, chosen: float, rejected: float) -> bool:
        """Whether samples with these pass rates make a (chosen, rejected) pair."""
        return self.chosen_ok(chosen) and self.rejected_ok(rejected) and self.margin_ok(chosen, rejected)


@dataclass
class PairSummary:
    rows_in: int = 0
    rows_without_pass_rates: int = 0
    inferences_without_pass_rate: int = 0
    questions_skipped_non_ascii: int = 0
    questions_with_pairs: int = 0
    pairs_before_cap: int = 0
    pairs_out: int = 0
    pairs_per_model: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        items: list[tuple[str, Any]] = [
            ("rows in", self.rows_in),
            ("rows without pass rates", self.rows_without_pass_rates),
            ("inferences without pass rate", self.inferences_without_pass_rate),
            ("questions skipped (non-ASCII)", self.questions_skipped_non_ascii),
            ("questions with pairs", self.questions_with_pairs),
        ]
        if self.pairs_before_cap != self.pairs_out:
            items.append(("pairs before the cap", self.pairs_before_cap))
        items.append(("pairs out", self.pairs_out))
        text = _table(items)
        if self.pairs_per_model:
            text += "\npairs per model (the chosen sample's):\n" + _table(
                sorted(self.pairs_per_model.items()), indent="  "
            )
        return text


def _table(items: list[tuple[str, Any]], *, indent: str = "") -> str:
    width = max(len(label) for label, _ in items) + 1
    return "\n".join(f"{indent}{label + ':':<{width}} {value}" for label, value in items)


def _group_pairs(
    samples: list[tuple[int, str, float]], texts: list[str], config: PairConfig
) -> Iterator[tuple[tuple[int, str, float], tuple[int, str, float]]]:
    """The release's pairing over one group of ``(index, model, rate)`` samples."""
    ordered = sorted(samples, key=lambda s: s[2], reverse=True)
    # Rates fall along ``ordered``: the samples that may be rejected form a prefix, the rest are never paired.
    end = len(ordered)
    while end > 0 and not config.rejected_ok(ordered[end - 1][2]):
        end -= 1
    seen: set[tuple[str, str]] = set()
    for j in range(len(ordered) - 1):
        chosen = ordered[j]
        if not config.chosen_ok(chosen[2]):
            break  # every later sample has a lower rate
        chosen_text = texts[chosen[0]]
        for k in range(end - 1, j, -1):
            rejected = ordered[k]
            if not config.margin_ok(chosen[2], rejected[2]):
                break  # rates only rise from here towards j
            key = (chosen_text, texts[rejected[0]])
            if key[0] == key[1] or key in seen:
                continue
            seen.add(key)
            yield chosen, rejected


def pairs_for_row(
    row: dict[str, Any],
    config: PairConfig = PairConfig(),
    *,
    summary: PairSummary | None = None,
    path: str | None = None,
    line: int | None = None,
) -> list[Pair]:
    """The pairs one AceCode row yields (validated; errors name ``path``, ``line`` and the field)."""
    validate_acecode_row(row, require=("id", "question", "inferences"), path=path, line=line)
    summary = summary if summary is not None else PairSummary()
    summary.rows_in += 1
    samples = list(scored_samples(row, path=path, line=line))
    scored = [(i, m, r) for i, m, r in samples if r is not None]
    summary.inferences_without_pass_rate += len(samples) - len(scored)
    if not scored:
        summary.rows_without_pass_rates += 1
        return []
    question = row["question"]
    if config.ascii_only and not question.isascii():
        summary.questions_skipped_non_ascii += 1
        return []
    groups: dict[str, list[tuple[int, str, float]]] = {}
    for sample in scored:
        groups.setdefault("" if config.cross_model else sample[1], []).append(sample)
    infs = row["inferences"]
    texts = [inf.get("completion") for inf in infs]
    tests = tuple(row.get("test_cases") or ())
    pairs = [
        Pair(
            question_id=row["id"],
            question=question,
            test_cases=tests,
            model_name=c[1],
            rejected_model_name=r[1],
            chosen=texts[c[0]],
            rejected=texts[r[0]],
            chosen_pass_rate=c[2],
            rejected_pass_rate=r[2],
            chosen_index=c[0],
            rejected_index=r[0],
        )
        for group in groups.values()
        for c, r in _group_pairs(group, texts, config)
    ]
    summary.pairs_before_cap += len(pairs)
    cap = config.max_per_question
    if cap is not None and len(pairs) > cap:
        rng = random.Random(f"{config.seed}:{row['id']}")
        pairs = [pairs[i] for i in sorted(rng.sample(range(len(pairs)), cap))]
    if pairs:
        summary.questions_with_pairs += 1
        summary.pairs_out += len(pairs)
        counts = Counter(p.model_name for p in pairs)
        for model, n in counts.items():
            summary.pairs_per_model[model] = summary.pairs_per_model.get(model, 0) + n
    return pairs


def iter_pairs(
    rows: Iterable[dict[str, Any]],
    config: PairConfig = PairConfig(),
    *,
    summary: PairSummary | None = None,
    path: str | None = None,
    dedupe_ids: bool = False,
) -> Iterator[Pair]:
    """Pairs from rows, streaming. ``rows`` holds row dicts or ``(row_number, row)`` as from ``iter_rows``.
    Row ids must be unique (pair ids start with them); ``dedupe_ids`` renames repeats instead of failing."""
    ids = UniqueIds(path, dedupe=dedupe_ids)
    for number, item in enumerate(rows, 1):
        line, row = item if isinstance(item, tuple) else (number, item)
        validate_acecode_row(row, require=("id",), path=path, line=line)
        ids.check(row, line)
        yield from pairs_for_row(row, config, summary=summary, path=path, line=line)


def _progress(items: Iterable, progress: bool | None, desc: str, total: int | None = None) -> Iterable:
    if progress is False:
        return items
    from tqdm.auto import tqdm

    # None: let tqdm show a bar only on a terminal.
    return tqdm(items, desc=desc, unit=" rows", total=total, disable=None if progress is None else False)


def make_pairs(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    config: PairConfig = PairConfig(),
    *,
    format: str = "pairs",
    template: Any = None,
    progress: bool | None = None,
    dedupe_ids: bool = False,
) -> PairSummary:
    """Read AceCode rows from ``input_path``, write pairs to ``output_path`` (format by extension).

    ``format``: ``pairs`` (one row per pair, see :data:`PAIR_FIELDS`), ``acecodepair`` (the AceCodePair-300K
    shape) or ``trl`` (TRL's conversational preference shape); ``template``: a
    :class:`~acecoder.sampling.prompt.PromptTemplate`, preset name or template file for the last two.
    """
    formatter = PairFormatter(format, cross_model=config.cross_model, template=template)
    summary = PairSummary()
    path = str(input_path)
    if same_file(path, output_path):
        raise DataError("the output would overwrite the input", path=str(output_path))
    with RowWriter(output_path) as writer:
        rows = _progress(iter_rows(input_path), progress, "pairs")
        for pair in iter_pairs(rows, config, summary=summary, path=path, dedupe_ids=dedupe_ids):
            writer.write(formatter(pair))
    return summary
