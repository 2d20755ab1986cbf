"""Row ids are unique within a file: pairs, request caches and resumed runs are keyed by them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from acecoder.data.schema import DataError


class UniqueIds:
    """Checks that ids are new as rows stream by. A repeat raises :class:`DataError` naming both rows, or with
    ``dedupe`` becomes ``<id>#<k>`` (the first such id not taken yet), so two questions never share an id."""

    def __init__(self, path: str | None = None, *, dedupe: bool = False):
        self.path, self.dedupe = path, dedupe
        self._first: dict[tuple[str, str], int | None] = {}
        self.renamed = 0

    def claim(self, value: str, line: int | None, *, scope: str = "", field: str = "id") -> str:
        """``value`` when it is new in ``scope``, else the renamed id (``dedupe``) or a :class:`DataError`."""
        if (scope, value) not in self._first:
            self._first[scope, value] = line
            return value
        if not self.dedupe:
            first = self._first[scope, value]
            raise DataError(
                f"duplicate id {value!r} (first at row {first}); ids must be unique: fix the file, or rename "
                "repeats with --dedupe-ids (dedupe_ids=True in Python)",
                path=self.path,
                row=line,
                field=field,
            )
        k = 2
        while (scope, f"{value}#{k}") in self._first:
            k += 1
        renamed = f"{value}#{k}"
        self._first[scope, renamed] = line
        self.renamed += 1
        return renamed

    def check(self, row: dict[str, Any], line: int | None = None) -> dict[str, Any]:
        """The row, its ``id`` renamed (the old one kept in ``original_id``) when it repeats and ``dedupe``."""
        if row.get("id") is None:
            return row  # a missing id is the schema check's business
        value = str(row["id"])
        new = self.claim(value, line)
        if new != value:
            row["original_id"] = row["id"]
            row["id"] = new
        return row


def unique_rows(
    numbered: Iterable[tuple[int, dict[str, Any]]], path: str | None = None, *, dedupe: bool = False
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row_number, row)`` pairs as from :func:`~acecoder.data.iter_rows`, with ids checked by
    :class:`UniqueIds`."""
    ids = UniqueIds(path, dedupe=dedupe)
    for number, row in numbered:
        yield number, ids.check(row, number)
