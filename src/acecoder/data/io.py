"""Read and write rows as JSONL, JSONL.gz or Parquet, chosen by the file's extension."""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from acecoder.data.schema import DataError


def file_format(path: str | os.PathLike) -> str:
    """``"jsonl"``, ``"jsonl.gz"`` or ``"parquet"`` from the file name."""
    name = str(path).lower()
    if name.endswith((".jsonl.gz", ".json.gz", ".ndjson.gz")):
        return "jsonl.gz"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise DataError("unknown file type: expected .jsonl, .jsonl.gz or .parquet", path=str(path))


def _open_text(path: Path, mode: str, fmt: str | None = None) -> IO[str]:
    if (fmt or file_format(path)) == "jsonl.gz":
        return io.TextIOWrapper(gzip.open(path, mode + "b"), encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def require_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path when it is a readable file; else a :class:`DataError` naming it."""
    path = Path(path)
    if not path.exists():
        raise DataError("no such file", path=str(path))
    if path.is_dir():
        raise DataError("is a folder, expected a file", path=str(path))
    return path


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name the same file (symlinks, ``..`` and relative paths resolved; hard links too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return Path(a).resolve() == Path(b).resolve()


def iter_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row_number, row)``: the 1-based line for JSONL, the 1-based row for Parquet."""
    path = require_file(path)
    if file_format(path) == "parquet":
        yield from _iter_parquet(path)
        return
    where = str(path)
    number = 0
    try:
        with gzip.open(path, "rb") if file_format(path) == "jsonl.gz" else open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                yield number, _parse_line(raw, where, number)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise DataError(
            f"not a readable gzip file ({e or type(e).__name__})",
            path=where,
            row=number + 1 if number else None,
        ) from None


def _parse_line(raw: bytes, path: str, number: int) -> dict[str, Any]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _utf8_error(raw, e, path, number) from None
    if number == 1 and line.startswith("\ufeff"):  # a byte-order mark some editors write
        line = line[1:]
    try:
        row = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"invalid JSON ({json_error_text(e)})", path=path, row=number) from None
    if not isinstance(row, dict):
        raise DataError(f"expected a JSON object, got {type(row).__name__}", path=path, row=number)
    return row


def json_error_text(e: json.JSONDecodeError, *, lines: bool = False) -> str:
    """Where JSON broke, readably: ``Expecting ',' delimiter at column 12``, ``Unterminated string starting at
    column 201`` (not "at at"); ``lines``: ``... at line 3, column 5`` (a whole document)."""
    where = f"line {e.lineno}, column {e.colno}" if lines else f"column {e.colno}"
    return f"{e.msg} {where}" if e.msg.endswith(" at") else f"{e.msg} at {where}"


def _utf8_error(raw: bytes, e: UnicodeDecodeError, path: str, number: int) -> DataError:
    """Name the field whose text holds the bytes that are not UTF-8 (when the line is JSON at all)."""
    message = (
        f"not valid UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1} of the line); "
        "re-encode the file as UTF-8"
    )
    try:
        row = json.loads(raw.decode("utf-8", "surrogateescape"))
    except json.JSONDecodeError:
        return DataError(message, path=path, row=number)
    return DataError(message, path=path, row=number, field=_field_with_bad_bytes(row))


def _field_with_bad_bytes(value: Any, where: str = "") -> str | None:
    if isinstance(value, str):
        return where if any("\udc80" <= c <= "\udcff" for c in value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _field_with_bad_bytes(key) is not None:
            return f"{where}.{key}" if where else key
        name = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key
        found = _field_with_bad_bytes(item, name)
        if found is not None:
            return found
    return None


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    number = 0
    try:
        pf = pq.ParquetFile(path)
        metadata = pf.schema_arrow.metadata or {}
        restore, objects = _EMPTY_FLAG in metadata, _OBJECTS_FLAG in metadata
        for batch in pf.iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                number += 1
                row = _strip_empty(row) if restore else row
                yield number, decode_test_objects(row) if objects else row
    except (pa.ArrowException, OSError) as e:
        raise DataError(
            f"not a readable Parquet file ({e})", path=str(path), row=number + 1 if number else None
        ) from None


# Parquet cannot store a struct with no field (a column of empty dicts, e.g. ``{"dropped": {}}`` in every row):
# such structs are written with one placeholder field and read back as empty dicts, so rows round-trip exactly.
_EMPTY_FIELD = "__acecoder_empty__"
_EMPTY_FLAG = b"acecoder.empty_structs"


# Tests may be assert strings or JSON objects (stdin and functional tests) in one list, which Parquet cannot store
# as one column type: objects are written as a NUL character (never in Python source, so never the start of an
# assert string) followed by their JSON, and decoded on reading files flagged as holding them.
TEST_FIELDS = ("test_cases",)
_OBJECT_MARK = "\0"
_OBJECTS_FLAG = b"acecoder.test_objects"


def encode_test_objects(row: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``row`` with the objects in its test lists as marked JSON strings (a copy when any), and whether any."""
    changed = None
    for name in TEST_FIELDS:
        tests = row.get(name)
        if isinstance(tests, list) and any(not isinstance(t, str) for t in tests):
            changed = changed or dict(row)
            changed[name] = [t if isinstance(t, str) else _OBJECT_MARK + json.dumps(t) for t in tests]
    return (changed, True) if changed is not None else (row, False)


def decode_test_objects(row: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`encode_test_objects`."""
    for name in TEST_FIELDS:
        tests = row.get(name)
        if isinstance(tests, list):
            row[name] = [
                json.loads(t[1:]) if isinstance(t, str) and t.startswith(_OBJECT_MARK) else t for t in tests
            ]
    return row


def _fill_empty_structs(dtype: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_struct(dtype):
        if dtype.num_fields == 0:
            return pa.struct([pa.field(_EMPTY_FIELD, pa.null())])
        return pa.struct([f.with_type(_fill_empty_structs(f.type)) for f in dtype])
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype):
        inner = dtype.value_field.with_type(_fill_empty_structs(dtype.value_type))
        return pa.list_(inner) if pa.types.is_list(dtype) else pa.large_list(inner)
    return dtype


def _strip_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_empty(v) for k, v in value.items() if k != _EMPTY_FIELD}
    if isinstance(value, list):
        return [_strip_empty(v) for v in value]
    return value


def read_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All rows of a file."""
    return [row for _, row in iter_rows(path)]


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write a whole file atomically (a crash leaves the old file or the new one, never half of one): text as
    UTF-8, or bytes. Every side file of acecoder (summaries, metrics, markers, reports) is written this way."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """``data`` as indented JSON (values JSON cannot hold as their text), atomically (:func:`write_atomic`)."""
    return write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


class RowWriter:
    """Write rows to a file atomically: rows go to a temporary file renamed into place on a clean close."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.format = file_format(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._rows: list[dict[str, Any]] = []
        self._file: IO[str] | None = (
            None if self.format == "parquet" else _open_text(self._tmp, "w", self.format)
        )
        self.count = 0
        self._objects = False

    def write(self, row: dict[str, Any]) -> None:
        self.count += 1
        if self._file is None:
            row, encoded = encode_test_objects(row)
            self._objects = self._objects or encoded
            self._rows.append(row)
        else:
            # ASCII escapes keep rows with lone surrogates (seen in model output) writable as UTF-8.
            self._file.write(json.dumps(row) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                # Every field of every row: from_pylist alone takes the columns of the first row only, so a
                # field that first appears in a later row (an optional one) would be dropped.
                names = list(dict.fromkeys(k for row in self._rows for k in row))
                table = pa.Table.from_pydict({k: [row.get(k) for row in self._rows] for k in names})
                schema = pa.schema([f.with_type(_fill_empty_structs(f.type)) for f in table.schema])
                flags = {_OBJECTS_FLAG: b"1"} if self._objects else {}
                if not schema.equals(table.schema):
                    flags[_EMPTY_FLAG] = b"1"
                    table = pa.Table.from_pylist(self._rows, schema=schema.with_metadata(flags))
                elif flags:
                    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **flags})
            except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
                raise DataError(
                    f"rows cannot be stored as Parquet ({e}); write .jsonl instead", path=str(self.path)
                ) from None
            pq.write_table(table, self._tmp)
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, exc_type, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_rows(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> int:
    """Write all rows; return how many."""
    with RowWriter(path) as writer:
        for row in rows:
            writer.write(row)
    return writer.count


def count_rows(path: str | os.PathLike) -> int | None:
    """Rows in a file, cheaply (for progress bars); None when it would need a full decode."""
    path = Path(path)
    fmt = file_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "jsonl":
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return None
