"""Where a row's reference programs come from: a field of the row, an oracle model, or the consensus of the row's
own programs that pass every original test (rows without a reference, such as the published AceCode-87K rows).

Field and model references are those of ``filter-tests`` (:class:`~acecoder.synthesis.FieldOracle`,
:class:`~acecoder.synthesis.ModelOracle`: same field grammar, same cached, resumable LLM requests). The consensus
takes the inferences whose ``pass_rate`` is 1 (or, without pass rates, those that pass every test when run here),
distinct programs weighted by how many inferences wrote them, at most ``max_programs`` of the most written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from acecoder.execution import Job, extract_program

if TYPE_CHECKING:
    from acecoder.execution import Executor, ProgramTemplate
    from acecoder.synthesis import FieldOracle, ModelOracle

Programs = list[tuple[str, int]]
"""A row's reference programs with their weights (votes)."""


class RowReference(NamedTuple):
    programs: Programs
    consensus: bool
    """The programs vote (a consensus), rather than all having to agree (references)."""
    name: str
    min_share: float = 1.0
    """The share of the votes the largest group of equal results needs (1.0: every program must agree)."""
    min_votes: int = 1


class ConsensusSource:
    """The row's programs that pass every original test, voting on each new input's result."""

    consensus = True

    def __init__(
        self,
        *,
        program_template: ProgramTemplate | str | None = None,
        max_programs: int = 16,
        min_share: float = 0.5,
        min_votes: int = 2,
    ):
        from acecoder.execution import ProgramTemplate

        if not 0 < min_share <= 1:
            raise ValueError(f"the consensus share must be in (0, 1], got {min_share}")
        if min_votes < 1 or max_programs < 1:
            raise ValueError("the consensus needs at least one vote and one program")
        self.template = (
            ProgramTemplate(program_template) if isinstance(program_template, str) else program_template
        )
        self.max_programs, self.min_share, self.min_votes = max_programs, min_share, min_votes
        self.name = "consensus"
        self.field = "inferences"

    def fingerprint_parts(self) -> list[Any]:
        return [self.name, self.template.text if self.template else None, self.max_programs, self.min_share,
                self.min_votes]  # fmt: skip

    def _program(self, row: dict[str, Any], inference: dict[str, Any], index: int) -> str:
        if self.template is None:
            return extract_program(inference.get("completion") or "")
        return self.template.render(row, inference, index=index)

    def programs(self, rows: Sequence[dict[str, Any]], engine: Executor) -> list[RowReference]:
        """Per row, the distinct passing programs and how many inferences wrote each."""
        passing: list[Counter[str]] = [Counter() for _ in rows]
        to_run: list[tuple[int, str]] = []
        for r, row in enumerate(rows):
            tests = [t for t in row.get("test_cases") or [] if isinstance(t, str)]
            for i, inf in enumerate(row.get("inferences") or []):
                if not isinstance(inf, dict) or not isinstance(inf.get("completion"), str):
                    continue
                program = self._program(row, inf, i)
                if not program.strip():
                    continue
                rate = inf.get("pass_rate")
                if isinstance(rate, (int, float)) and not isinstance(rate, bool):
                    if rate == 1:
                        passing[r][program] += 1
                elif tests:
                    to_run.append((r, program))
        distinct = list(dict.fromkeys(to_run))
        jobs = [
            Job(program, [t for t in rows[r]["test_cases"] if isinstance(t, str)]) for r, program in distinct
        ]
        verdicts = {key: result.passed_all for key, result in zip(distinct, engine.run(jobs), strict=True)}
        for r, program in to_run:
            if verdicts[(r, program)]:
                passing[r][program] += 1
        return [
            RowReference(
                list(c.most_common(self.max_programs)), True, self.name, self.min_share, self.min_votes
            )
            for c in passing
        ]

    def llm_summary(self) -> dict[str, Any]:
        return {}


class OracleSource:
    """A field of the row or an oracle model (``filter-tests``'s oracles); ``fallback``: the consensus for rows
    where the field is empty."""

    consensus = False

    def __init__(self, oracle: FieldOracle | ModelOracle, fallback: ConsensusSource | None = None):
        self.oracle, self.fallback = oracle, fallback
        self.name = oracle.name
        self.field = getattr(oracle, "parts", [None])[0] or "question"

    def fingerprint_parts(self) -> list[Any]:
        return [
            *self.oracle.fingerprint_parts(),
            self.fallback.fingerprint_parts() if self.fallback else None,
        ]

    def programs(self, rows: Sequence[dict[str, Any]], engine: Executor) -> list[RowReference]:
        found = [
            RowReference([(p, 1) for p in progs], False, self.name) for progs in self.oracle.programs(rows)
        ]
        if self.fallback is not None:
            missing = [i for i, ref in enumerate(found) if not ref.programs]
            if missing:
                backup = self.fallback.programs([rows[i] for i in missing], engine)
                for i, ref in zip(missing, backup, strict=True):
                    found[i] = ref
        return found

    def llm_summary(self) -> dict[str, Any]:
        return self.oracle.llm_summary()


class FixedSource:
    """Programs already at hand for given row objects (e.g. the oracle programs ``filter-tests`` just ran)."""

    consensus = False

    def __init__(self, programs: Sequence[tuple[dict[str, Any], Sequence[str]]], *, name: str = "given"):
        self._programs = {id(row): list(progs) for row, progs in programs}
        self.name, self.field = name, "test_cases"

    def fingerprint_parts(self) -> list[Any]:
        return [self.name]

    def programs(self, rows: Sequence[dict[str, Any]], engine: Executor) -> list[RowReference]:
        return [
            RowReference([(p, 1) for p in self._programs.get(id(row), [])], False, self.name) for row in rows
        ]

    def llm_summary(self) -> dict[str, Any]:
        return {}


ReferenceSource = ConsensusSource | OracleSource | FixedSource
