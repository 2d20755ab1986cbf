"""Which tests a sample is scored against: its label is a row id of a served dataset or a JSON list of tests.

The AceCoder release found a sample's tests by hashing the decoded prompt text, which breaks as soon as a chat
template or a tokenizer round trip changes one character. Here the trainer passes a label (the column OpenRLHF's
``--data.label_key`` names; ``--label_key`` before 0.10.2): the row's ``id`` in the dataset the reward was
given, or the tests themselves. Rows without tests are skipped when the dataset is read (a label naming one is
refused, saying so); :meth:`TestLookup.check_labels` checks a trainer's label column once, at start-up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from acecoder.data import DataError, iter_rows, validate_acecode_row
from acecoder.reward.scoring import parse_tests


class UnknownLabel(KeyError):
    """A label that is neither a row id of the served dataset nor a list of tests."""

    def __init__(self, label: Any, reason: str):
        self.label, self.reason = label, reason
        super().__init__(f"label {_short(label)}: {reason}")

    def __str__(self) -> str:
        return self.args[0]


class TestLookup:
    """Row id -> tests for the rows of a dataset (AceCode rows with ``id`` and ``test_cases``)."""

    __test__ = False

    def __init__(
        self,
        tests_by_id: dict[str, list[Any]] | None = None,
        *,
        source: str = "",
        without_tests: Iterable[str] = (),
    ):
        self.tests_by_id = tests_by_id or {}
        self.source = source
        self.without_tests = set(without_tests)  # ids of the rows skipped for having no tests

    @classmethod
    def from_file(cls, path: str | os.PathLike, *, tests_key: str = "test_cases") -> TestLookup:
        """Read every row's id and tests. Rows with an empty test list are skipped (``without_tests``); a bad
        row, a duplicate id or a file where no row has tests is an error naming file, row and field."""
        tests: dict[str, list[Any]] = {}
        without: set[str] = set()
        for number, row in iter_rows(path):
            validate_acecode_row(row, require=("id", tests_key), path=str(path), line=number)
            key = str(row["id"])
            if key in tests or key in without:
                raise DataError(f"duplicate id {key!r}", path=str(path), row=number, field="id")
            if row[tests_key]:
                tests[key] = list(row[tests_key])
            else:
                without.add(key)
        if not tests:
            reason = f"none of its {len(without):,} rows has tests" if without else "no rows"
            raise DataError(f"{reason}: nothing to reward against", path=str(path), field=tests_key)
        return cls(tests, source=str(path), without_tests=without)

    def check_labels(self, path: str | os.PathLike, key: str) -> int:
        """Check that the ``key`` column of every row of ``path`` (a trainer's prompt data; the label column it
        sends) names tests here; rows without tests are left out. Returns the rows checked; the first label
        that names nothing is a :class:`DataError` naming file, row and field."""
        checked = 0
        for number, row in iter_rows(path):
            if "test_cases" in row and not row["test_cases"]:
                continue
            if key not in row:
                raise DataError(
                    f"missing (the label column: OpenRLHF's --data.label_key, here --label-key); "
                    f"the row has {sorted(row)}",
                    path=str(path),
                    row=number,
                    field=key,
                )
            try:
                self.tests(row[key])
            except UnknownLabel as e:
                raise DataError(str(e), path=str(path), row=number, field=key) from None
            checked += 1
        return checked

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]], *, tests_key: str = "test_cases") -> TestLookup:
        rows = list(rows)
        return cls(
            {str(r["id"]): list(r[tests_key]) for r in rows if r[tests_key]},
            without_tests=[str(r["id"]) for r in rows if not r[tests_key]],
        )

    def __len__(self) -> int:
        return len(self.tests_by_id)

    def tests(self, label: Any) -> list[Any]:
        """The tests a label stands for; :class:`UnknownLabel` when it is neither an id here nor a test list."""
        if isinstance(label, (list, tuple)):
            return _tests_from_list(label)
        if isinstance(label, int) and not isinstance(label, bool):
            label = str(label)
        if not isinstance(label, str):
            raise UnknownLabel(
                label, f"expected a row id or a JSON list of tests, got {type(label).__name__}"
            )
        found = self.tests_by_id.get(label)
        if found is not None:
            return found
        if label in self.without_tests:
            raise UnknownLabel(label, f"this row of {self.source} has no tests (leave it out of the prompts)")
        if not label.strip():
            raise UnknownLabel(
                label, "empty: is the trainer's label column set (OpenRLHF: --data.label_key id)?"
            )
        if label.lstrip().startswith("["):
            try:
                return _tests_from_list(json.loads(label))
            except json.JSONDecodeError as e:
                raise UnknownLabel(label, f"not a JSON list of tests ({e.msg})") from None
        where = f"in {self.source}" if self.source else "(no dataset is served)"
        raise UnknownLabel(label, f"no row with this id {where}")


def _tests_from_list(value: Any) -> list[Any]:
    try:
        return parse_tests(value, where="label")
    except ValueError as e:
        raise UnknownLabel(value, str(e).removeprefix("label: ")) from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
