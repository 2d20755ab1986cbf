"""Executing a file of AceCode rows, resumably: what ``acecoder execute`` and the pipeline's execute stage share.

Finished rows are appended to ``OUTPUT.partial.jsonl`` with the counts so far, so a killed run resumes where it
stopped and its summary still covers the whole file. The caller decides whether to finalize the output.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from acecoder.data.checkpoint import Checkpoint, file_identity, fingerprint
from acecoder.data.ids import unique_rows
from acecoder.data.io import iter_rows
from acecoder.data.schema import validate_acecode_row
from acecoder.execution.engine import Executor
from acecoder.execution.limits import Limits
from acecoder.execution.rows import ProgramTemplate, RowSummary, execute_rows

# Version of the progress records ({"summary", "row"}), so a progress file of another shape is never resumed.
RECORD_VERSION = 2


@dataclass
class ExecutedFile:
    summary: RowSummary
    """Counts over the whole file, rows finished by an earlier run included."""
    checkpoint: Checkpoint
    resumed: int
    """Rows an earlier run had finished."""

    def finalize(self) -> int:
        """Write the output file from the progress file; the number of rows."""
        return self.checkpoint.finalize(row_of=lambda record: record["row"])


def execute_file(
    input_path: str | Path,
    output_path: str | Path,
    executor: Executor,
    *,
    limits: Limits,
    program: str | None = None,
    errors: bool = False,
    dedupe_ids: bool = False,
    resume: bool = True,
    identity: dict[str, Any] | None = None,
    on_start: Callable[[ExecutedFile], None] | None = None,
    on_row: Callable[[RowSummary], None] | None = None,
) -> ExecutedFile:
    """Execute every inference of every row of ``input_path`` into ``output_path``'s progress file.

    ``program``: a :class:`ProgramTemplate` text (e.g. ``"{question}{completion}"``); ``identity``: more settings
    that make a run different (e.g. the interpreter), for the resume fingerprint. The executor must be started."""
    template = ProgramTemplate(program) if program is not None else None
    run_id = fingerprint(
        input=file_identity(Path(input_path)),
        limits=asdict(limits),
        errors=errors,
        program=program,
        record=RECORD_VERSION,
        **(identity or {}),
    )
    checkpoint = Checkpoint(Path(output_path), run_id, resume=resume)
    done = ExecutedFile(_summary_so_far(checkpoint), checkpoint, checkpoint.done)
    if on_start is not None:
        on_start(done)
    with checkpoint:
        rows = _validated_rows(Path(input_path), skip=done.resumed, dedupe_ids=dedupe_ids)
        for row in execute_rows(
            rows,
            executor,
            summary=done.summary,
            errors=errors,
            program_template=template,
            path=str(input_path),
        ):
            checkpoint.append({"summary": done.summary.to_dict(), "row": row})
            if on_row is not None:
                on_row(done.summary)
    return done


def _summary_so_far(checkpoint: Checkpoint) -> RowSummary:
    """The counts of the rows an earlier run finished (kept in each progress record)."""
    records = deque(islice(checkpoint.rows(), checkpoint.done), maxlen=1)
    return RowSummary.from_dict(records[0]["summary"]) if records else RowSummary()


def check_row(
    row: dict[str, Any], *, path: str, line: int, template: ProgramTemplate | None = None
) -> dict[str, Any]:
    """The checks :func:`execute_file` makes on each row before running it (fields and their types; with a
    ``template``, that every program can be built); :class:`DataError` naming the file, row and field. Running
    them over a whole file first stops bad input before any program runs."""
    require = ("inferences",) if row.get("inferences") is not None else ()
    validate_acecode_row(row, require=require, path=path, line=line)
    if template is not None and row.get("test_cases"):
        for index, inference in enumerate(row.get("inferences") or []):
            template.render(row, inference, index=index, path=path, line=line)
    return row


def _validated_rows(path: Path, *, skip: int, dedupe_ids: bool) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, row in unique_rows(iter_rows(path), str(path), dedupe=dedupe_ids):
        if skip:
            skip -= 1
            continue
        yield number, check_row(row, path=str(path), line=number)
