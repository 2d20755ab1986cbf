"""LiveCodeBench evaluation: releases and filters, prompt, extraction, the two graders' programs, pass@1.

The graders' programs are checked here without the engine too: each program in ``benchmarks/lcb_idioms.py`` is
run as a plain subprocess with the test's stdin, its output compared with LiveCodeBench's comparator, and the
verdicts must be the ones LiveCodeBench's own harness gives (``lcb-compat``) or a terminal gives (``terminal``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import acecoder.execution
from acecoder.data import DataError, read_rows
from acecoder.evaluation import lcb_programs
from acecoder.evaluation.lcb_data import (
    RELEASES,
    dataset_files,
    extract_code,
    load_livecodebench,
    prompt_messages,
)
from acecoder.evaluation.lcb_eval import _figures, _Problem
from acecoder.execution.comparators import compare
from acecoder.execution.testkinds import StdinTest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "src/acecoder/resources/benchmarks/livecodebench_sample.jsonl"
ENGINE = pytest.mark.skipif(
    not getattr(acecoder.execution, "SUPPORTS_TEST_KINDS", False),
    reason="the engine does not run stdin and functional tests yet (acecoder.execution.SUPPORTS_TEST_KINDS)",
)


def _idioms():
    spec = importlib.util.spec_from_file_location("lcb_idioms", REPO / "benchmarks" / "lcb_idioms.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


IDIOMS = _idioms()


# ------------------------------------------------------------------------------------------- data
def test_release_tags_are_livecodebench_s():
    assert RELEASES["release_v1"] == ("test.jsonl",)
    assert RELEASES["release_v4"] == ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl")
    assert RELEASES["v4"] == ("test4.jsonl",) and RELEASES["v1"] == ("test.jsonl",)
    assert RELEASES["v2_v3"] == ("test2.jsonl", "test3.jsonl")
    assert RELEASES["release_latest"] == RELEASES["release_v6"]


def test_dataset_files_from_a_folder_or_files(tmp_path):
    rows = SAMPLE.read_text().splitlines()
    for name, chunk in (("test.jsonl", rows[:5]), ("test2.jsonl", rows[5:])):
        (tmp_path / name).write_text("\n".join(chunk) + "\n")
    assert [f.name for f in dataset_files([tmp_path], "release_v2")] == ["test.jsonl", "test2.jsonl"]
    assert [f.name for f in dataset_files([tmp_path], "v2")] == ["test2.jsonl"]
    with pytest.raises(DataError, match=r"lacks test3\.jsonl"):
        dataset_files([tmp_path], "release_v3")
    files = [tmp_path / "test.jsonl", tmp_path / "test2.jsonl"]
    assert [f.name for f in dataset_files(files, "release_v1")] == ["test.jsonl"]
    with pytest.raises(DataError, match=r"missing: test2\.jsonl"):
        dataset_files(files[:1], "release_v2")
    with pytest.raises(ValueError, match="unknown release 'v9'"):
        dataset_files(files, "v9")
    bench = load_livecodebench([tmp_path], release="release_v2")
    assert len(bench.problems) == 10


def test_filters_as_livecodebench_applies_them():
    bench = load_livecodebench()
    assert bench.bundled and len(bench.problems) == 10
    assert set(load_livecodebench(platform=["LeetCode"]).problems) == {"2727", "2730", "2757"}
    assert set(load_livecodebench(difficulty=["hard"]).problems) == {"abc302_e", "2757"}
    may = load_livecodebench(start_date="2023-05-14", end_date="2023-05-20")
    assert set(may.problems) == {"abc302_a", "abc302_e"}  # contests on 2023-05-20 00:00 count (<=)
    assert "abc301_a" in may.excluded
    with pytest.raises(ValueError, match="--start-date: expected YYYY-MM-DD"):
        load_livecodebench(start_date="May 2023")
    with pytest.raises(DataError, match="no LiveCodeBench problem left"):
        load_livecodebench(platform=["topcoder"])
    with pytest.raises(ValueError, match=r"cannot fetch test\.jsonl of livecodebench/code_generation_lite"):
        load_livecodebench(release="release_v1")  # the Hub is unreachable here (HF_HUB_OFFLINE)


def test_public_tests_come_before_private_ones():
    problem = load_livecodebench().problems["1873_A"]
    assert len(problem.public) == 1 and len(problem.private) == 4
    assert problem.tests[0].stdin.startswith("6\nabc\nacb")


def test_prompt_is_livecodebench_s_generic_prompt():
    problems = load_livecodebench().problems
    system, user = prompt_messages(problems["abc302_a"])
    assert system["content"].startswith("You are an expert Python programmer.")
    assert user["content"].startswith("### Question:\nThere is an enemy with stamina A.")
    assert "### Format: Read the inputs from stdin solve the problem" in user["content"]
    assert user["content"].endswith(
        "```python\n# YOUR CODE HERE\n```\n\n### Answer: (use the provided format with backticks)\n\n"
    )
    _, user = prompt_messages(problems["2727"])
    assert "### Format: You will use the following starter code" in user["content"]
    assert "def countSeniors(self, details: List[str]) -> int:" in user["content"]


def test_code_is_the_last_fenced_block():
    assert extract_code("text\n```python\na = 1\n```\nmore\n```\nb = 2\n```\nend") == "b = 2"
    assert extract_code("no code here") == ""
    assert extract_code("```python\nunterminated") == ""  # LiveCodeBench needs two fence lines
    assert extract_code("use ``` inline and\n```\nx\n```") == "x"


# ------------------------------------------------------------------------------------------ graders
def _run(program: str, stdin: str) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-I", "-c", program], input=stdin, capture_output=True, text=True, timeout=60
    )
    return done.stdout, done.returncode


def _plain_verdict(problem, program: str, grader: str) -> bool:
    """A stdin program's verdict by subprocess: every test's output matches and the program exits 0."""
    for test in problem.tests:
        assert isinstance(test, StdinTest)
        out, code = _run(program, test.stdin)
        if code != 0 or not compare("livecodebench", out, test.stdout):
            return False
    return True


STDIN_IDIOMS = [p for p in IDIOMS.PROGRAMS if p[1] != IDIOMS.SENIORS]


@pytest.mark.parametrize(
    ("name", "qid", "program", "correct", "fault"), STDIN_IDIOMS, ids=[p[0] for p in STDIN_IDIOMS]
)
def test_graders_programs_give_the_expected_verdicts(name, qid, program, correct, fault):
    problem = load_livecodebench().problems[qid]
    terminal = _plain_verdict(problem, lcb_programs.program(problem, program, "terminal"), "terminal")
    compat = _plain_verdict(problem, lcb_programs.program(problem, program, "lcb-compat"), "lcb-compat")
    assert terminal == correct, name
    # LiveCodeBench's harness (measured side by side: benchmarks/lcb_agreement.py) fails correct programs that
    # hit one of its faults, and agrees with a terminal otherwise
    assert compat == (correct and fault is None), name


def test_compat_wraps_the_program_as_livecodebench_does():
    problem = load_livecodebench().problems["abc302_a"]
    program = "import sys\nfrom math import ceil\nx = 1\nif __name__ == '__main__':\n    print(x)\n"
    wrapped = lcb_programs.wrap_stdin_program(program)
    head, function = wrapped.split("def wrapped_function():")
    assert "import sys\nfrom math import ceil" in head and "from typing import *" in head
    assert "x = 1\n    print(x)" in function  # the main block unwrapped, everything in the function
    assert lcb_programs.wrap_stdin_program("def (:") == "def (:"  # left as is: it fails either way
    full = lcb_programs.compat_program(problem, program)
    assert full.index("__lcb_input = ") < full.index("from string import *") < full.index("__lcb_main()")


def test_functional_programs_import_leetcode_names_and_skip_main_blocks():
    problem = load_livecodebench().problems["2727"]
    program = "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        return 0\n"
    terminal = lcb_programs.program(problem, program, "terminal")
    assert "from typing import *" in terminal and "__name__ = 'builtins'" in terminal
    compat = lcb_programs.program(problem, program, "lcb-compat")
    assert "__name__ = 'tmp_sol'" in compat and "quit = None" in compat
    namespace: dict = {}
    exec(compile(terminal, "<terminal>", "exec"), namespace)  # List resolves: no NameError at definition
    assert namespace["Solution"]().countSeniors([]) == 0
    with pytest.raises(ValueError, match="unknown grader"):
        lcb_programs.program(problem, program, "strict")


def test_jobs_run_public_then_private_tests_and_stop_at_the_first_failure():
    problem = load_livecodebench().problems["1873_A"]
    job = lcb_programs.job(problem, "print(1)", "terminal", lcb_programs.limits(None))
    assert list(job.tests) == problem.tests and job.stop_on_failure
    assert job.limits.timeout == 6.0 and job.limits.program_timeout is None


# --------------------------------------------------------------------------------------------- pass@1
def test_pass_at_1_overall_and_per_difficulty():
    tasks = {
        "a": _Problem("easy", "atcoder", [True, True, False, False]),
        "b": _Problem("easy", "leetcode", [True, True, True, True]),
        "c": _Problem("hard", "atcoder", [False, False, False, False]),
    }
    figures = _figures(tasks, (1, 5))
    assert figures["pass@k"] == {"pass@1": pytest.approx((0.5 + 1 + 0) / 3)}  # pass@5 needs 5 samples
    assert figures["pass@1_by_difficulty"]["easy"] == {"problems": 2, "pass@1": pytest.approx(0.75)}
    assert figures["pass@1_by_difficulty"]["hard"]["pass@1"] == 0
    assert figures["pass@1_by_platform"]["leetcode"]["pass@1"] == 1
    assert figures["samples_per_problem"] == [4, 4]


@ENGINE
@pytest.mark.parametrize("grader", lcb_programs.GRADERS)
def test_evaluate_cli_on_the_bundled_sample(tmp_path, grader):
    from typer.testing import CliRunner

    from acecoder.cli import app

    samples = tmp_path / "samples.jsonl"
    by_task: dict[str, list[str]] = {}
    for _name, qid, program, _correct, _fault in IDIOMS.PROGRAMS:
        by_task.setdefault(qid, []).append(f"Here:\n```python\n{program}```\n")
    samples.write_text(
        "".join(json.dumps({"question_id": q, "output_list": a}) + "\n" for q, a in by_task.items())
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(samples),
            str(out),
            "--benchmark",
            "livecodebench",
            "--grader",
            grader,
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    graded = {row["question_id"]: row["graded_list"] for row in read_rows(out)}
    expected: dict[str, list[bool]] = {}
    for _name, qid, _program, correct, fault in IDIOMS.PROGRAMS:
        ok = correct if grader == "terminal" else correct and fault is None
        expected.setdefault(qid, []).append(ok)
    assert graded == expected
    summary = json.loads((tmp_path / "out.summary.json").read_text())
    assert summary["grader"] == grader and summary["groups"]["all"]["problems"] == 3


def test_samples_in_each_row_shape():
    from acecoder.evaluation.lcb_eval import LcbOptions, row_samples

    bench = load_livecodebench()
    loc = {"path": "s.jsonl", "row": 1}
    answer = "Sure:\n```python\nprint(1)\n```\n"
    lcb = row_samples(
        {"question_id": "abc302_a", "output_list": [answer, "no code"]}, bench, LcbOptions(), loc
    )
    assert [s.code for s in lcb] == ["print(1)", ""]
    coded = row_samples({"question_id": "abc302_a", "code_list": ["x = 1"]}, bench, LcbOptions(), loc)
    assert coded[0].code == "x = 1" and coded[0].where == ("code_list", 0)
    acecode = {
        "id": "abc302_a",
        "inferences": [
            {"completion": "print(2)", "raw_completion": answer, "model_name": "m"},
            {"completion": "print(3)"},
        ],
    }
    samples = row_samples(acecode, bench, LcbOptions(), loc)
    assert [s.code for s in samples] == ["print(1)", "print(3)"]  # the answer cut as LiveCodeBench does
    flat = row_samples({"task_id": "2727", "completion": answer}, bench, LcbOptions(), loc)
    assert flat[0].task_id == "2727" and flat[0].where == ("row", 0)
    filtered = load_livecodebench(platform=["leetcode"])
    assert row_samples({"question_id": "abc302_a", "code_list": ["x"]}, filtered, LcbOptions(), loc) == []
    with pytest.raises(DataError, match=r"s\.jsonl: row 1: field 'model_name': missing"):
        row_samples(
            {"question_id": "abc302_a", "code_list": ["x"]}, bench, LcbOptions(group_by="model_name"), loc
        )
