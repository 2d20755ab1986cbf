"""LiveCodeBench's code-generation problems as its own files ship them, its prompt and its code extraction.

Releases are LiveCodeBench's version tags: ``release_v1`` ... ``release_v6`` (and ``release_latest``) are
cumulative (``release_v4`` = ``test.jsonl`` ... ``test4.jsonl``, the 713 problems the AceCoder paper reports),
``v1`` ... ``v6`` one file each (``v4`` = ``test4.jsonl`` only), ``vA_vB`` a range. ``--dataset`` is a folder
holding those files (the release picks the files) or the files themselves (the release must be among them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from acecoder.data import DataError, iter_rows
from acecoder.execution.testkinds import AnyTest
from acecoder.importers.common import Rejected
from acecoder.importers.livecodebench import SYSTEM_MESSAGE, lcb_tests, user_prompt

HUB_REPO = "livecodebench/code_generation_lite"
BUNDLED = "livecodebench_sample.jsonl"
_VERSIONS = ("v1", "v2", "v3", "v4", "v5", "v6")


def _file(version: str) -> str:
    number = version[1:]
    return "test.jsonl" if number == "1" else f"test{number}.jsonl"


def _releases() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for i, version in enumerate(_VERSIONS):
        out[f"release_{version}"] = tuple(_file(v) for v in _VERSIONS[: i + 1])
        out[version] = (_file(version),)
        for end in _VERSIONS[i + 1 :]:
            out[f"{version}_{end}"] = tuple(_file(v) for v in _VERSIONS[i : _VERSIONS.index(end) + 1])
    out["release_latest"] = out["release_v6"]
    return out


RELEASES = _releases()
"""LiveCodeBench's version tags -> the files they read, as its loading script defines them."""


@dataclass(frozen=True)
class LcbProblem:
    question_id: str
    title: str
    content: str
    starter_code: str
    platform: str
    difficulty: str
    contest_date: datetime
    public: tuple[AnyTest, ...]
    private: tuple[AnyTest, ...]
    fn_name: str | None
    source_file: str

    @property
    def tests(self) -> list[AnyTest]:
        """Public tests first, then private ones (LiveCodeBench's order)."""
        return [*self.public, *self.private]


@dataclass
class LcbBenchmark:
    problems: dict[str, LcbProblem]
    files: list[str]
    release: str | None
    filters: dict[str, Any]
    bundled: bool = False
    excluded: frozenset[str] = frozenset()
    """Question ids of the files that the filters left out (their samples are skipped, not errors)."""

    @property
    def name(self) -> str:
        return "livecodebench"


def prompt_messages(problem: LcbProblem) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_MESSAGE},
        {"role": "user", "content": user_prompt(problem.content, problem.starter_code)},
    ]


def extract_code(answer: str) -> str:
    """The code LiveCodeBench takes from an answer: between the last two lines holding a fence; no code ("" ->
    the sample fails) when fewer than two such lines."""
    lines = answer.split("\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1 : fences[-1]])


def _date(value: Any, where: dict) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise DataError(f"not an ISO date: {value!r}", field="contest_date", **where) from None


def problem_from_row(row: dict[str, Any], *, path: str, line: int) -> LcbProblem:
    where = {"path": path, "row": line}
    for key in (
        "question_id",
        "question_content",
        "platform",
        "difficulty",
        "contest_date",
        "public_test_cases",
    ):
        if key not in row:
            raise DataError("missing (a LiveCodeBench row needs it)", field=key, **where)
    try:
        tests = lcb_tests(row)
    except Rejected as e:
        raise DataError(str(e), field="test_cases", **where) from None
    return LcbProblem(
        question_id=str(row["question_id"]),
        title=str(row.get("question_title") or ""),
        content=str(row["question_content"]),
        starter_code=str(row.get("starter_code") or ""),
        platform=str(row["platform"]),
        difficulty=str(row["difficulty"]),
        contest_date=_date(row["contest_date"], where),
        public=tuple(tests.public),
        private=tuple(tests.private),
        fn_name=tests.fn_name,
        source_file=Path(path).name,
    )


def _day(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise ValueError(f"{option}: expected YYYY-MM-DD, got {text!r}") from None


def dataset_files(datasets: Sequence[str | os.PathLike], release: str | None) -> list[Path]:
    """The files to read: a folder's release files, or the given files (restricted to the release's)."""
    if release is not None and release not in RELEASES:
        raise ValueError(
            f"--release: unknown release {release!r}; LiveCodeBench's tags: {', '.join(RELEASES)}"
        )
    wanted = RELEASES[release] if release else None
    files: list[Path] = []
    for item in datasets:
        path = Path(item)
        if path.is_dir():
            names = wanted or tuple(sorted(p.name for p in path.glob("test*.jsonl")))
            missing = [n for n in names if not (path / n).is_file()]
            if missing:
                raise DataError(
                    f"the folder lacks {', '.join(missing)}" + (f" (release {release})" if release else ""),
                    path=str(path),
                )
            files += [path / n for n in names]
        elif path.is_file():
            files.append(path)
        else:
            raise DataError("no such file or folder", path=str(path))
    if wanted is not None:
        kept = [f for f in files if f.name in wanted or f.name.removesuffix(".gz") in wanted]
        have = {f.name.removesuffix(".gz") for f in kept}
        lacking = [n for n in wanted if n not in have]
        if lacking:
            raise DataError(
                f"release {release} reads {', '.join(wanted)}; missing: {', '.join(lacking)} (pass the folder or "
                f"every file; files are named as LiveCodeBench ships them)",
                path=", ".join(str(d) for d in datasets),
            )
        files = kept
    return files


def fetch_release(release: str) -> list[Path]:
    """The files of a release, downloaded from the Hub (cached by ``huggingface_hub``)."""
    if release not in RELEASES:
        raise ValueError(
            f"--release: unknown release {release!r}; LiveCodeBench's tags: {', '.join(RELEASES)}"
        )
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ValueError(
            "--release without --dataset downloads LiveCodeBench's files from the Hub: pip install "
            "'acecoder[hub]', or download them and pass --dataset FOLDER"
        ) from None
    try:
        return [Path(hf_hub_download(HUB_REPO, name, repo_type="dataset")) for name in RELEASES[release]]
    except Exception as e:  # offline, unreachable, not found: one clear line
        raise ValueError(
            f"cannot fetch {', '.join(RELEASES[release])} of {HUB_REPO} from the Hub ({type(e).__name__}); "
            "download them where the Hub is reachable and pass --dataset FOLDER"
        ) from None


def load_livecodebench(
    datasets: Sequence[str | os.PathLike] = (),
    *,
    release: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    platform: Iterable[str] = (),
    difficulty: Iterable[str] = (),
) -> LcbBenchmark:
    """The problems of LiveCodeBench's files (the bundled sample without ``datasets``), filtered as LiveCodeBench
    filters (``start_date <= contest_date <= end_date``) and by platform and difficulty."""
    start, end = _day(start_date, "--start-date"), _day(end_date, "--end-date")
    platforms = {p.lower() for p in platform}
    difficulties = {d.lower() for d in difficulty}
    bundled = not datasets and release is None
    if bundled:
        files = [Path(str(resources.files("acecoder.resources.benchmarks").joinpath(BUNDLED)))]
    elif not datasets:
        files = fetch_release(release)  # type: ignore[arg-type]
    else:
        files = dataset_files(datasets, release)
    problems: dict[str, LcbProblem] = {}
    excluded: set[str] = set()
    for path in files:
        for line, row in iter_rows(path):
            problem = problem_from_row(row, path=str(path), line=line)
            if (
                (start and problem.contest_date < start)
                or (end and problem.contest_date > end)
                or (platforms and problem.platform.lower() not in platforms)
                or (difficulties and problem.difficulty.lower() not in difficulties)
            ):
                excluded.add(problem.question_id)
                continue
            if problem.question_id in problems:
                raise DataError(
                    f"question_id {problem.question_id!r} appears twice", path=str(path), row=line
                )
            problems[problem.question_id] = problem
    if not problems:
        raise DataError("no LiveCodeBench problem left after the filters", path=", ".join(map(str, files)))
    filters = {
        "start_date": start_date,
        "end_date": end_date,
        "platform": sorted(platforms),
        "difficulty": sorted(difficulties),
    }
    return LcbBenchmark(problems, [str(f) for f in files], release, filters, bundled, frozenset(excluded))


def problem_json(problem: LcbProblem) -> str:
    """A stable text of a problem's tests, for fingerprints."""
    from acecoder.execution.testkinds import dump_test

    return json.dumps(
        [problem.question_id, problem.fn_name, [dump_test(t) for t in problem.tests]], sort_keys=True
    )
