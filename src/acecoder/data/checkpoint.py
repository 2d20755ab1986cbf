"""Resumable outputs: finished rows are appended to a progress file as they complete, so a crash or
``kill -9`` loses nothing and a rerun with the same inputs and settings continues where it stopped.

The output and its progress file have one writer at a time (:class:`acecoder.data.lock.WriteLock`); a line
of the progress file that does not parse is reported with the file, line and cause, never as a traceback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from acecoder.data.io import RowWriter, json_error_text, require_file
from acecoder.data.lock import WriteLock
from acecoder.data.schema import DataError

_HEADER_KEY = "__acecoder_checkpoint__"
_END = object()
log = logging.getLogger("acecoder")


class CheckpointError(DataError):
    """A line of a progress file that cannot be read back (file, line and cause in the message)."""


def fingerprint(**parts: Any) -> str:
    """A stable hash of a run's inputs and settings (canonical, sorted-key JSON)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_identity(path: str | os.PathLike) -> dict[str, Any]:
    """What identifies an input file's content cheaply: resolved path, size and modification time."""
    st = os.stat(require_file(path))
    return {"path": str(Path(path).resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


class Checkpoint:
    """Progress file ``<output>.partial.jsonl``: a header line with the run fingerprint, then one line per
    finished row in input order. :meth:`finalize` writes the real output atomically and removes it.

    Opening it locks the output (:class:`LockedError` naming the process that already writes it); :meth:`close`
    and :meth:`finalize` release the lock."""

    def __init__(self, output: str | os.PathLike, run_fingerprint: str, *, resume: bool = True):
        self.output = Path(output)
        self.path = self.progress_path(self.output)
        self.fingerprint = run_fingerprint
        self.done = 0
        self._lock: WriteLock | None = WriteLock(self.output).acquire()
        try:
            self._open(resume)
        except BaseException:
            self._unlock()
            raise

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _open(self, resume: bool) -> None:
        run_fingerprint = self.fingerprint
        if resume and self.path.exists() and self._read_header() == run_fingerprint:
            self.done = self._truncate_torn_tail()
            self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (kept open to append)
        else:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (kept open to append)
            self._file.write(json.dumps({_HEADER_KEY: run_fingerprint}) + "\n")
            self._file.flush()

    @staticmethod
    def progress_path(output: str | os.PathLike) -> Path:
        """Where the progress file of ``output`` lives."""
        output = Path(output)
        return output.with_name(output.name + ".partial.jsonl")

    def _read_header(self) -> str | None:
        with open(self.path, "rb") as f:
            try:
                return json.loads(f.readline()).get(_HEADER_KEY)
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                return None

    def _truncate_torn_tail(self) -> int:
        """Count complete rows; cut a last line that a crash left half written, or everything from the first
        line that does not parse (said on the log: those rows are done again)."""
        count, good_end, size = 0, 0, self.path.stat().st_size
        with open(self.path, "rb") as f:
            f.readline()
            good_end = f.tell()
            for number, line in enumerate(f, 2):
                if not line.endswith(b"\n"):
                    break
                try:
                    json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    log.warning(
                        "%s; the rows from there on are done again",
                        _bad_line(self.path, number, e).args[0],
                    )
                    break
                count += 1
                good_end = f.tell()
        if good_end < size:
            os.truncate(self.path, good_end)
        return count

    def append(self, row: dict[str, Any]) -> None:
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        self.done += 1

    def rows(self) -> Iterator[dict[str, Any]]:
        """The finished rows, in order; :class:`CheckpointError` (file, line, cause) for a line that does not
        parse."""
        if not self._file.closed:
            self._file.flush()
        with open(self.path, "rb") as f:
            f.readline()
            for number, line in enumerate(f, 2):
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    raise _bad_line(self.path, number, e) from None
                if not isinstance(record, dict):
                    raise _bad_line(
                        self.path, number, ValueError(f"a JSON {type(record).__name__}, not a row")
                    )
                yield record

    def finalize(self, row_of: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> int:
        """Write the output file from the progress file and remove the latter; return the row count.
        ``row_of``: the output row of a progress record (default: the record itself). A progress file that
        cannot be read back raises :class:`CheckpointError` and leaves every file as it was."""
        self._file.close()
        try:
            with WriteLock(self.output), RowWriter(self.output) as writer:
                for record in self.rows():
                    writer.write(record if row_of is None else row_of(record))
                self.path.unlink()
        finally:
            self._unlock()
        return writer.count

    def close(self) -> None:
        self._file.close()
        self._unlock()

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def finished(self, items: Iterator[Any]) -> Iterator[tuple[int, dict[str, Any], Any]]:
        """The rows an earlier run finished, as (position, record, the input item it stands for); the items are
        taken from ``items``, which then continues with the first unfinished one. A progress file with more rows
        than the input raises :class:`DataError`."""
        from itertools import islice

        for position, record in enumerate(islice(self.rows(), self.done)):
            item = next(items, _END)
            if item is _END:
                raise DataError("the progress file has more rows than the input", path=str(self.path))
            yield position, record, item

    def write_split(
        self,
        output: str | os.PathLike,
        rejects: str | os.PathLike,
        route: Callable[[int, dict[str, Any]], tuple[dict[str, Any] | None, dict[str, Any] | None]]
        | None = None,
    ) -> None:
        """Write ``output`` and the ``rejects`` file from the progress file (each atomically), then remove it.
        ``route``: a record's position and the record -> (row, None) for the output, or (None, rejection);
        default: the record's ``row``, else the record without it."""
        route = route or _by_row
        with RowWriter(output) as out, RowWriter(rejects) as rejected:
            for position, record in enumerate(self.rows()):
                row, rejection = route(position, record)
                if row is not None:
                    out.write(row)
                else:
                    rejected.write(rejection)
        self.path.unlink()


def _by_row(_: int, record: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    row = record.get("row")
    return (row, None) if row is not None else (None, {k: v for k, v in record.items() if k != "row"})


def _bad_line(path: Path, number: int, cause: Exception) -> CheckpointError:
    reason = json_error_text(cause) if isinstance(cause, json.JSONDecodeError) else str(cause)
    return CheckpointError(
        f"line {number} cannot be read back ({reason}); rerun the same command: it keeps the rows before that "
        "line and does the rest again",
        path=str(path),
    )
