"""Persistent request cache: one SQLite row per (request key, sample index), written as answers arrive.

WAL mode with ``synchronous=NORMAL`` keeps every committed answer through a crash or ``kill -9`` of the
writer. Failed samples are stored with their reason, never overwrite an answer, and are retried on a rerun.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from acecoder.llm.request import Completion

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    key TEXT NOT NULL,
    idx INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    text TEXT,
    finish_reason TEXT,
    error TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    model TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    updated REAL NOT NULL,
    PRIMARY KEY (key, idx)
) WITHOUT ROWID
"""

_COLUMNS = "key, idx, ok, text, finish_reason, error, prompt_tokens, completion_tokens"


class RequestCache:
    """SQLite cache of samples. ``path=":memory:"`` keeps it in memory (nothing survives the process)."""

    def __init__(self, path: str | os.PathLike = ":memory:"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def lookup(self, keys: Iterable[str]) -> dict[str, dict[int, Completion]]:
        """Cached samples (answers and recorded failures) of these keys, by key then sample index."""
        found: dict[str, dict[int, Completion]] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT {_COLUMNS} FROM samples WHERE key IN ({marks})", chunk)
                for key, idx, ok, text, finish, error, p_tok, c_tok in rows:
                    found.setdefault(key, {})[idx] = Completion(
                        index=idx,
                        text=text if ok else None,
                        finish_reason=finish,
                        error=None if ok else error,
                        cached=True,
                        prompt_tokens=p_tok,
                        completion_tokens=c_tok,
                    )
        return found

    def put(self, key: str, model: str, completions: Iterable[Completion]) -> None:
        """Store samples of one request in one transaction. An answer replaces a recorded failure; a failure
        never replaces an answer and counts the attempts."""
        now = time.time()
        ok_rows, bad_rows = [], []
        for c in completions:
            fields = (c.index, c.text, c.finish_reason, c.error, c.prompt_tokens, c.completion_tokens)
            (ok_rows if c.ok else bad_rows).append((key, *fields, model, now))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO samples (key, idx, ok, text, finish_reason, error, prompt_tokens,"
                    " completion_tokens, model, updated) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
                    ok_rows,
                )
                self._db.executemany(
                    "INSERT INTO samples (key, idx, ok, text, finish_reason, error, prompt_tokens,"
                    " completion_tokens, model, updated) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key, idx) DO UPDATE SET error = excluded.error,"
                    " attempts = samples.attempts + 1, updated = excluded.updated WHERE samples.ok = 0",
                    bad_rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def counts(self) -> dict[str, int]:
        """Number of cached answers and recorded failures."""
        with self._lock:
            rows = dict(self._db.execute("SELECT ok, COUNT(*) FROM samples GROUP BY ok").fetchall())
        return {"ok": rows.get(1, 0), "failed": rows.get(0, 0)}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> RequestCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
