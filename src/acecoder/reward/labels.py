"""Which tests a sample is scored against: its label is a row id of a served dataset or a JSON list of tests.

The AceCoder release found a sample's tests by hashing the decoded prompt text, which breaks as soon as a chat
template or a tokenizer round trip changes one character. Here the trainer passes a label (OpenRLHF's
``--label_key`` column): the row's ``id`` in the dataset the reward was given, or the tests themselves.
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

    def __init__(self, tests_by_id: dict[str, list[Any]] | None = None, *, source: str = ""):
        self.tests_by_id = tests_by_id or {}
        self.source = source

    @classmethod
    def from_file(cls, path: str | os.PathLike, *, tests_key: str = "test_cases") -> TestLookup:
        """Read every row's id and tests; rows without tests are an error naming file, row and field."""
        tests: dict[str, list[Any]] = {}
        for number, row in iter_rows(path):
            validate_acecode_row(row, require=("id", tests_key), path=str(path), line=number)
            if not row[tests_key]:
                raise DataError("no tests", path=str(path), row=number, field=tests_key)
            key = str(row["id"])
            if key in tests:
                raise DataError(f"duplicate id {key!r}", path=str(path), row=number, field="id")
            tests[key] = list(row[tests_key])
        if not tests:
            raise DataError("no rows", path=str(path))
        return cls(tests, source=str(path))

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, Any]], *, tests_key: str = "test_cases") -> TestLookup:
        return cls({str(r["id"]): list(r[tests_key]) for r in rows})

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
