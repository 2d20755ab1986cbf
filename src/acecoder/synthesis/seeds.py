"""Seed programs for synthesis, in the paper's shapes.

* ``plain``: an ``instruction`` (optional) and a ``program`` column (names configurable).
* ``evol``: Magicoder-Evol-Instruct rows (``instruction``, ``response``): the program is the response's first
  Python fenced block, kept only when it defines a function or class.
* ``oss``: Magicoder-OSS-Instruct rows (``instruction``/``problem``, ``response``/``solution``, optional ``lang``):
  Python rows only, the response's first Python fenced block.
* ``stack``: Stack Python functions (``content``): programs longer than 100 characters.

As in the paper, ``print`` lines are removed from every program (here by syntax tree when the program parses, so
a ``print`` that is the only statement of a block becomes ``pass`` and strings are never touched). Inputs are
JSONL(.gz), Parquet, a JSON array, or a local Hugging Face dataset folder (``datasets.load_from_disk``).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acecoder.data import DataError, UniqueIds, iter_rows
from acecoder.data.io import require_file
from acecoder.execution.program import fenced_blocks

SEED_FORMATS = ("plain", "evol", "oss", "stack")
# Why a seed row is skipped.
SKIP_REASONS = (
    "empty_program",
    "no_python_block",
    "no_function_or_class",
    "not_python",
    "too_short",
    "duplicate_program",
)
STACK_MIN_CHARS = 100  # the paper keeps Stack functions *longer* than this
_DEFAULT_SOURCE = {"evol": "evol", "oss": "oss", "stack": "bigcode_python_fns"}
_PYTHON_TAGS = ("python", "py", "python3", "py3")
_DEF_OR_CLASS = re.compile(r"^[ \t]*(?:async[ \t]+def|def|class)[ \t]+\w", re.MULTILINE)
_PRINT_LINE = re.compile(r"^[ \t]*print\b(?![ \t]*=)")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass
class Seed:
    """One seed: a program, maybe an instruction, and the row it came from (kept for provenance)."""

    id: str
    program: str
    instruction: str | None = None
    source: str = "seed"
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class SeedStats:
    read: int = 0
    kept: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "kept": self.kept, "skipped": dict(sorted(self.skipped.items()))}


def strip_prints(program: str) -> str:
    """Remove ``print`` statements. When the program parses, only whole-line ``print(...)`` expression statements
    go (a block left empty gets ``pass``); otherwise lines starting with ``print`` go, as the paper did."""
    try:
        tree = ast.parse(program)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return "\n".join(line for line in program.splitlines() if not _PRINT_LINE.match(line))
    lines = _LINES.findall(program)  # the line breaks ast counts (not str.splitlines, which knows more)
    edits: dict[int, str | None] = {}  # 0-based line -> replacement (None = delete)
    for node in ast.walk(tree):
        for attr in ("body", "orelse", "finalbody"):
            body = getattr(node, attr, None)
            if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
                continue
            removable = [stmt for stmt in body if _is_whole_line_print(stmt, lines)]
            if not removable:
                continue
            keep_one = len(removable) == len(body) and not isinstance(node, ast.Module)
            for k, stmt in enumerate(removable):
                first, last = stmt.lineno - 1, stmt.end_lineno - 1  # type: ignore[operator]
                for i in range(first, last + 1):
                    edits[i] = None
                if keep_one and k == 0:
                    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
                    edits[first] = f"{indent}pass\n"
    if not edits:
        return program
    out = [edits.get(i, line) for i, line in enumerate(lines)]
    return "".join(line for line in out if line is not None)


def _is_whole_line_print(stmt: ast.stmt, lines: list[str]) -> bool:
    if not (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == "print"
    ):
        return False
    first, last = stmt.lineno - 1, stmt.end_lineno - 1  # type: ignore[operator]
    before = lines[first][: _char_col(lines[first], stmt.col_offset)]
    after = lines[last][_char_col(lines[last], stmt.end_col_offset) :]  # type: ignore[arg-type]
    return not before.strip() and (not after.strip() or after.strip().startswith("#"))


def _char_col(line: str, byte_offset: int) -> int:
    """ast offsets count UTF-8 bytes; convert to a character index."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def python_block(text: str) -> str | None:
    """The first Python-tagged fenced block of a response, or None."""
    for lang, body in fenced_blocks(text or ""):
        if lang in _PYTHON_TAGS:
            return body
    return None


def defines_function_or_class(program: str) -> bool:
    return bool(_DEF_OR_CLASS.search(program))


def iter_seed_rows(path: str | os.PathLike) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row_number, row)`` from JSONL(.gz), Parquet, a JSON array file or a local HF dataset folder."""
    p = Path(path)
    if p.is_dir():
        try:
            import datasets
        except ImportError as e:
            raise DataError(
                "reading a dataset folder needs `datasets`: pip install 'acecoder[train]'", path=str(p)
            ) from e
        ds = datasets.load_from_disk(str(p))
        if isinstance(ds, datasets.DatasetDict):
            if "train" not in ds:
                raise DataError(f"a DatasetDict without a 'train' split (has {sorted(ds)})", path=str(p))
            ds = ds["train"]
        for i, row in enumerate(ds, 1):
            yield i, dict(row)
        return
    if p.suffix.lower() == ".json":
        raw = require_file(p).read_bytes()
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise DataError(
                f"line {line}: not valid UTF-8; re-encode the file as UTF-8", path=str(p)
            ) from None
        except json.JSONDecodeError as e:
            raise DataError(f"invalid JSON ({e.msg} at line {e.lineno})", path=str(p)) from None
        if not isinstance(data, list):
            raise DataError("expected a JSON array of objects", path=str(p))
        for i, row in enumerate(data, 1):
            if not isinstance(row, dict):
                raise DataError(f"expected an object, got {type(row).__name__}", path=str(p), row=i)
            yield i, row
        return
    yield from iter_rows(p)


def load_seeds(
    path: str | os.PathLike,
    *,
    format: str = "plain",
    program_field: str | None = None,
    instruction_field: str | None = None,
    id_field: str = "id",
    source: str | None = None,
    strip_print: bool = True,
    dedupe: bool = True,
    dedupe_ids: bool = False,
    limit: int | None = None,
    stats: SeedStats | None = None,
) -> Iterator[Seed]:
    """Yield the usable seeds of a file in order; skipped rows are counted by reason in ``stats``.

    ``program_field`` defaults to ``program`` (plain), ``response`` (evol; oss falls back to ``solution``) or
    ``content`` (stack); ``instruction_field`` to ``instruction`` (oss falls back to ``problem``; stack has none).
    ``source`` defaults to ``evol``/``oss``/``bigcode_python_fns``, or for plain seeds the row's ``source`` field,
    else the file name. Seed ids (the ``id_field``, else the row's position from 0) must be unique within a
    source, since row ids are built from them: ``dedupe_ids`` renames repeats instead of failing."""
    if format not in SEED_FORMATS:
        raise DataError(f"unknown seed format {format!r}; expected one of {', '.join(SEED_FORMATS)}")
    stats = stats if stats is not None else SeedStats()
    path_str = str(path)
    file_source = Path(path).name.split(".")[0] or "seed"
    seen: set[str] = set()
    ids = UniqueIds(path_str, dedupe=dedupe_ids)
    for number, row in iter_seed_rows(path):
        if limit is not None and stats.kept >= limit:
            return
        stats.read += 1
        program, instruction, reason = _extract(
            row, format, program_field, instruction_field, path_str, number
        )
        if reason is None and strip_print:
            assert program is not None
            program = strip_prints(program)
        if reason is None and not (program or "").strip():
            reason = "empty_program"
        if reason is None and dedupe:
            digest = hashlib.sha256((program or "").strip().encode()).hexdigest()
            if digest in seen:
                reason = "duplicate_program"
            seen.add(digest)
        if reason is not None:
            stats.skipped[reason] += 1
            continue
        assert program is not None
        seed_id = row.get(id_field)
        row_source = (
            source
            or _DEFAULT_SOURCE.get(format)
            or (row.get("source") if isinstance(row.get("source"), str) else None)
        )
        row_source = row_source or file_source
        seed_id = str(seed_id) if seed_id is not None else str(number - 1)
        stats.kept += 1
        yield Seed(
            id=ids.claim(seed_id, number, scope=row_source, field=id_field),
            program=program,
            instruction=instruction,
            source=row_source,
            fields=row,
        )


def _first_present(row: dict[str, Any], names: tuple[str, ...]) -> str:
    return next((n for n in names if n in row), names[0])


def _extract(
    row: dict[str, Any],
    format: str,
    program_field: str | None,
    instruction_field: str | None,
    path: str,
    number: int,
) -> tuple[str | None, str | None, str | None]:
    """``(program, instruction, skip_reason)`` for one row."""
    if format == "plain":
        pf, inf = program_field or "program", instruction_field or "instruction"
    elif format == "evol":
        pf, inf = program_field or "response", instruction_field or "instruction"
    elif format == "oss":
        pf = program_field or _first_present(row, ("response", "solution"))
        inf = instruction_field or _first_present(row, ("instruction", "problem"))
    else:
        pf, inf = program_field or "content", instruction_field or ""
    if pf not in row:
        raise DataError(
            f"missing (the {format} seed format reads it; see --program-field)",
            path=path,
            row=number,
            field=pf,
        )
    text = row[pf]
    if text is not None and not isinstance(text, str):
        raise DataError(f"expected a string, got {type(text).__name__}", path=path, row=number, field=pf)
    text = text or ""
    instruction = row.get(inf) if inf else None
    if instruction is not None and not isinstance(instruction, str):
        raise DataError(
            f"expected a string, got {type(instruction).__name__}", path=path, row=number, field=inf
        )
    instruction = instruction if instruction and instruction.strip() else None
    if format == "plain":
        return text, instruction, None
    if format == "stack":
        return text, None, None if len(text) > STACK_MIN_CHARS else "too_short"
    if format == "oss":
        lang = row.get("lang")
        if isinstance(lang, str) and lang.lower() not in _PYTHON_TAGS:
            return None, None, "not_python"
    program = python_block(text)
    if program is None or not program.strip():
        return None, None, "no_python_block"
    if format == "evol" and not defines_function_or_class(program):
        return None, None, "no_function_or_class"
    return program, instruction, None
