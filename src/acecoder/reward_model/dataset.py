"""Preference pairs for reward-model training, read from every shape acecoder writes or reads.

* ``acecoder pairs`` rows: ``question``, ``chosen``, ``rejected`` (completions), ``question_id``, pass rates;
* TRL preference rows (``acecoder pairs --format trl``): ``prompt`` (one user message, or a string) and
  ``chosen``/``rejected`` (one assistant message each, or strings);
* AceCodePair-300K rows (``acecoder pairs --format acecodepair``, or the published data): ``instruction``,
  ``input``, ``chosen``, ``rejected``.

Each answer is reduced to the program it presents (:func:`~acecoder.execution.program.extract_program`, then
stripped, as pairs are built), so training renders programs exactly as scoring does. Questions are the unit of
the held-out split: every pair of a question lands on the same side.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from acecoder.data import DataError, iter_rows
from acecoder.execution.program import extract_program

SHAPES = ("pairs", "trl", "acecodepair")


@dataclass(frozen=True, slots=True)
class PreferencePair:
    """One pair: ``group`` names its question (the split unit); the prompt is either a ``question`` (plus its
    ``tests``) or an already rendered user message ``prompt``; ``gap`` is the pass-rate difference when known."""

    group: str
    chosen: str
    rejected: str
    question: str | None = None
    tests: tuple[str, ...] = ()
    prompt: str | None = None
    gap: float | None = None


@dataclass
class PairFile:
    """The pairs of one file and what was left out."""

    path: str
    shape: str
    pairs: list[PreferencePair] = field(default_factory=list)
    identical: int = 0  # pairs whose chosen and rejected present the same program (left out)

    @property
    def rendered(self) -> bool:
        return self.shape != "pairs"

    def groups(self) -> set[str]:
        return {p.group for p in self.pairs}


def detect_shape(row: dict[str, Any]) -> str | None:
    if "instruction" in row:
        return "acecodepair"
    if "prompt" in row:
        return "trl"
    if "question" in row:
        return "pairs"
    if isinstance(row.get("chosen"), list):  # TRL's implicit-prompt conversations
        return "trl"
    return None


def program_of(answer: str) -> str:
    """The program an answer presents, stripped as pairs are built."""
    return extract_program(answer).strip()


def _text(row: dict, key: str, loc: dict) -> str:
    if key not in row:
        raise DataError("missing", field=key, **loc)
    value = row[key]
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise DataError(f"expected a string, got {kind}", field=key, **loc)
    return value


def _message(value: Any, role: str, key: str, loc: dict) -> str:
    """The content of a one-message list ``[{role, content}]`` or a string."""
    if isinstance(value, str):
        return value
    if (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], dict)
        and value[0].get("role") == role
        and isinstance(value[0].get("content"), str)
    ):
        return value[0]["content"]
    raise DataError(f"expected a string or one {role} message [{{role, content}}]", field=key, **loc)


def _trl_pair(row: dict, loc: dict) -> tuple[str, str, str]:
    for key in ("chosen", "rejected"):
        if key not in row:
            raise DataError("missing", field=key, **loc)
    if "prompt" in row:
        prompt = _message(row["prompt"], "user", "prompt", loc)
        return prompt, *(_message(row[k], "assistant", k, loc) for k in ("chosen", "rejected"))
    # Implicit prompt: each side is [user, assistant] and both share the user turn.
    sides = []
    for key in ("chosen", "rejected"):
        value = row[key]
        if not (isinstance(value, list) and len(value) == 2):
            raise DataError("expected [user message, assistant message]", field=key, **loc)
        sides.append((_message(value[:1], "user", key, loc), _message(value[1:], "assistant", key, loc)))
    if sides[0][0] != sides[1][0]:
        raise DataError("chosen and rejected have different user messages", field="rejected", **loc)
    return sides[0][0], sides[0][1], sides[1][1]


def _gap(row: dict, loc: dict) -> float | None:
    rates = [row.get("chosen_pass_rate"), row.get("rejected_pass_rate")]
    for key, rate in zip(("chosen_pass_rate", "rejected_pass_rate"), rates, strict=True):
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))):
            raise DataError(f"expected a number, got {type(rate).__name__}", field=key, **loc)
    if any(r is None for r in rates):
        return None
    return float(rates[0]) - float(rates[1])


def _tests(row: dict, loc: dict) -> tuple[Any, ...]:
    """The row's tests (any kind; the prompt template shows each as text)."""
    from acecoder.execution.testkinds import parse_tests

    try:
        return tuple(parse_tests(row.get("test_cases") or [], where="test_cases"))
    except DataError as e:
        raise DataError(e.reason, field=e.field, **loc) from None


def pair_from_row(row: dict[str, Any], shape: str, loc: dict) -> PreferencePair:
    """One row of ``shape`` as a :class:`PreferencePair` (bad rows raise :class:`DataError`)."""
    if shape == "pairs":
        question = _text(row, "question", loc)
        chosen, rejected = _text(row, "chosen", loc), _text(row, "rejected", loc)
        group = row.get("question_id")
        tests = _tests(row, loc)
        return PreferencePair(
            group=str(group) if group is not None else question,
            chosen=program_of(chosen),
            rejected=program_of(rejected),
            question=question,
            tests=tests,
            gap=_gap(row, loc),
        )
    if shape == "trl":
        prompt, chosen, rejected = _trl_pair(row, loc)
    else:
        prompt = _text(row, "instruction", loc)
        extra = row.get("input") or ""
        if not isinstance(extra, str):
            raise DataError(f"expected a string, got {type(extra).__name__}", field="input", **loc)
        prompt = prompt + "\n" + extra if extra else prompt  # how LlamaFactory joins alpaca fields
        chosen, rejected = _text(row, "chosen", loc), _text(row, "rejected", loc)
    return PreferencePair(
        group=prompt, chosen=program_of(chosen), rejected=program_of(rejected), prompt=prompt
    )


def read_pairs(path: str | os.PathLike, *, limit: int | None = None) -> PairFile:
    """All pairs of a file (JSONL, JSONL.gz or Parquet), one shape per file; pairs whose two answers present
    the same program are left out and counted."""
    where = str(path)
    result: PairFile | None = None
    for line, row in iter_rows(path):
        loc = {"path": where, "row": line}
        shape = detect_shape(row)
        if shape is None:
            raise DataError(
                "not a preference pair: expected question/chosen/rejected (acecoder pairs), "
                "prompt/chosen/rejected (TRL) or instruction/chosen/rejected (AceCodePair-300K); "
                f"found keys {sorted(row)}",
                **loc,
            )
        if result is None:
            result = PairFile(where, shape)
        elif shape != result.shape:
            raise DataError(f"a {shape} row in a file of {result.shape} rows", **loc)
        pair = pair_from_row(row, shape, loc)
        if pair.chosen == pair.rejected:
            result.identical += 1
            continue
        result.pairs.append(pair)
        if limit is not None and len(result.pairs) >= limit:
            break
    if result is None:
        raise DataError("no pairs: the file is empty", path=where)
    return result


def read_pair_files(paths: Sequence[str | os.PathLike], *, limit: int | None = None) -> PairFile:
    """The pairs of several files of one shape (the shards of a run's ``pairs`` stage), in order."""
    merged: PairFile | None = None
    for path in paths:
        data = read_pairs(path, limit=None if limit is None else limit - len(merged.pairs if merged else []))
        if merged is None:
            merged = data
            merged.path = ", ".join(str(p) for p in paths)
        elif data.shape != merged.shape:
            raise DataError(f"{data.shape} pairs among {merged.shape} pairs", path=str(path))
        else:
            merged.pairs.extend(data.pairs)
            merged.identical += data.identical
        if limit is not None and len(merged.pairs) >= limit:
            break
    if merged is None:
        raise DataError("no pair files")
    return merged


def split_by_question(
    pairs: Sequence[PreferencePair], fraction: float, seed: int = 0
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """(train, held-out): a seeded ``fraction`` of the questions is held out with all its pairs."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"eval_split must be in [0, 1), got {fraction}")
    groups = sorted({p.group for p in pairs})
    if fraction == 0.0:
        return list(pairs), []
    if len(groups) < 2:
        raise ValueError(
            f"cannot hold questions out: the pairs cover {len(groups)} question(s); set eval_split to 0 "
            "or give eval_pairs"
        )
    random.Random(seed).shuffle(groups)
    n_eval = min(max(1, round(fraction * len(groups))), len(groups) - 1)
    held_out = set(groups[:n_eval])
    return [p for p in pairs if p.group not in held_out], [p for p in pairs if p.group in held_out]


def pair_items(pairs: Iterable[PreferencePair], user_message) -> list[tuple[str, str, str]]:
    """``(user message, chosen program, rejected program)`` per pair; ``user_message(question, tests)``
    renders question-shaped pairs."""
    return [
        (p.prompt if p.prompt is not None else user_message(p.question, p.tests), p.chosen, p.rejected)
        for p in pairs
    ]
