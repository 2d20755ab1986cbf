"""Resumable outputs: finished rows are appended to a progress file as they complete, so a crash or
``kill -9`` loses nothing and a rerun with the same inputs and settings continues where it stopped."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from acecoder.data.io import RowWriter, require_file

_HEADER_KEY = "__acecoder_checkpoint__"


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
    finished row in input order. :meth:`finalize` writes the real output atomically and removes it."""

    def __init__(self, output: str | os.PathLike, run_fingerprint: str, *, resume: bool = True):
        self.output = Path(output)
        self.path = self.progress_path(self.output)
        self.fingerprint = run_fingerprint
        self.done = 0
        self.output.parent.mkdir(parents=True, exist_ok=True)
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
        with open(self.path, encoding="utf-8") as f:
            try:
                return json.loads(f.readline()).get(_HEADER_KEY)
            except (json.JSONDecodeError, AttributeError):
                return None

    def _truncate_torn_tail(self) -> int:
        """Count complete rows; cut a last line that a crash left half written."""
        count, good_end = 0, 0
        with open(self.path, "rb") as f:
            f.readline()
            good_end = f.tell()
            for line in f:
                if not line.endswith(b"\n"):
                    break
                try:
                    json.loads(line)
                except json.JSONDecodeError:
                    break
                count += 1
                good_end = f.tell()
        os.truncate(self.path, good_end)
        return count

    def append(self, row: dict[str, Any]) -> None:
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        self.done += 1

    def rows(self) -> Iterator[dict[str, Any]]:
        if not self._file.closed:
            self._file.flush()
        with open(self.path, encoding="utf-8") as f:
            f.readline()
            for line in f:
                yield json.loads(line)

    def finalize(self, row_of: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> int:
        """Write the output file from the progress file and remove the latter; return the row count.
        ``row_of``: the output row of a progress record (default: the record itself)."""
        self._file.close()
        with RowWriter(self.output) as writer:
            for record in self.rows():
                writer.write(record if row_of is None else row_of(record))
        self.path.unlink()
        return writer.count

    def close(self) -> None:
        self._file.close()
