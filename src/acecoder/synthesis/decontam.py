"""Decontamination: drop synthesized questions that overlap evaluation benchmarks (HumanEval(+), MBPP(+)).

Texts are compared as lowercase word tokens (runs of letters and digits, so ``has_close_elements`` and "has close
elements" agree). A question is contaminated when it shares one word ``n``-gram (default 13, the GPT-3 rule) with
a benchmark problem, or, for a benchmark problem shorter than ``n`` words (most of MBPP), when it contains the
whole problem text (at least ``min_tokens`` words). The bundled problem texts are in
``acecoder/resources/decontamination/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources

from acecoder.data import iter_rows

BUNDLED_BENCHMARKS = ("humaneval", "humaneval+", "mbpp", "mbpp+")
# Fields an extra benchmark file's problem text is read from, first present wins.
TEXT_FIELDS = ("text", "prompt", "question", "instruction")
_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Overlap:
    """Why a text is contaminated: the benchmark problem it overlaps and the shared words."""

    benchmark: str
    task_id: str
    ngram: str


class Decontaminator:
    """An index of benchmark n-grams; :meth:`check` says whether (and where) a text overlaps one."""

    def __init__(self, documents: Iterable[tuple[str, str, str]], *, n: int = 13, min_tokens: int = 6):
        if n < 1 or min_tokens < 1:
            raise ValueError("n and min_tokens must be positive")
        self.n, self.min_tokens = n, min_tokens
        self._ngrams: dict[str, tuple[str, str]] = {}
        self._short: dict[int, dict[str, tuple[str, str]]] = {}
        self.documents = 0
        for benchmark, task_id, text in documents:
            self.documents += 1
            tokens = tokenize(text)
            if len(tokens) >= n:
                for i in range(len(tokens) - n + 1):
                    self._ngrams.setdefault(" ".join(tokens[i : i + n]), (benchmark, task_id))
            elif len(tokens) >= min_tokens:
                self._short.setdefault(len(tokens), {}).setdefault(" ".join(tokens), (benchmark, task_id))

    @classmethod
    def bundled(
        cls,
        benchmarks: Sequence[str] = BUNDLED_BENCHMARKS,
        *,
        extra_files: Sequence[str | os.PathLike] = (),
        n: int = 13,
        min_tokens: int = 6,
    ) -> Decontaminator:
        """An index of the bundled problem texts of ``benchmarks`` plus the rows of ``extra_files``."""
        docs = bundled_documents(benchmarks)
        for path in extra_files:
            docs.extend(file_documents(path))
        return cls(docs, n=n, min_tokens=min_tokens)

    def check(self, text: str) -> Overlap | None:
        """The first benchmark problem ``text`` overlaps, or None."""
        tokens = tokenize(text)
        n = self.n
        if self._ngrams:
            for i in range(len(tokens) - n + 1):
                gram = " ".join(tokens[i : i + n])
                hit = self._ngrams.get(gram)
                if hit is not None:
                    return Overlap(hit[0], hit[1], gram)
        for length, table in self._short.items():
            for i in range(len(tokens) - length + 1):
                gram = " ".join(tokens[i : i + length])
                hit = table.get(gram)
                if hit is not None:
                    return Overlap(hit[0], hit[1], gram)
        return None

    def __len__(self) -> int:
        return len(self._ngrams) + sum(len(t) for t in self._short.values())


def bundled_documents(benchmarks: Sequence[str] = BUNDLED_BENCHMARKS) -> list[tuple[str, str, str]]:
    """``(benchmark, task_id, text)`` of the bundled HumanEval, HumanEval+, MBPP and MBPP+ problems."""
    unknown = set(benchmarks) - set(BUNDLED_BENCHMARKS)
    if unknown:
        raise ValueError(f"unknown benchmarks {sorted(unknown)}; bundled: {', '.join(BUNDLED_BENCHMARKS)}")
    ref = resources.files("acecoder").joinpath("resources", "decontamination", "benchmarks.jsonl.gz")
    with resources.as_file(ref) as path:
        return [
            (row["benchmark"], row["task_id"], row["text"])
            for _, row in iter_rows(path)
            if row["benchmark"] in benchmarks
        ]


def file_documents(
    path: str | os.PathLike, *, text_fields: Sequence[str] = TEXT_FIELDS
) -> list[tuple[str, str, str]]:
    """``(benchmark, task_id, text)`` from a JSONL/Parquet file of problems: the text is the first present of
    ``text_fields``; ``benchmark`` defaults to the file name and ``task_id`` to the row number."""
    name = os.path.basename(str(path)).split(".")[0]
    docs = []
    for number, row in iter_rows(path):
        text = next((row[f] for f in text_fields if isinstance(row.get(f), str)), None)
        if text is not None:
            docs.append((str(row.get("benchmark", name)), str(row.get("task_id", number)), text))
    return docs
