"""Programs built from row fields (``--program``, ``program_template=``) and the loud refusal to write pass rates
when most programs fail before any test (HumanEval-style completions run without their prompt)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import DataError, read_rows, write_rows
from acecoder.execution import ExecutionEngine
from acecoder.execution.rows import ProgramTemplate, RowSummary, execute_rows, row_jobs

runner = CliRunner()
PROMPT = 'def inc(x):\n    """Add one."""\n'
TESTS = ["assert inc(1) == 2", "assert inc(0) == 1"]


def body_rows(n: int = 3) -> list[dict]:
    """Rows whose completions are function bodies continuing the question, as in CodeT's HumanEval samples."""
    return [
        {
            "id": f"q{i}",
            "question": PROMPT,
            "test_cases": TESTS,
            "inferences": [
                {"model_name": "m", "completion_id": 0, "completion": "    return x + 1\n", "pass_rate": 0.5},
                {"model_name": "m", "completion_id": 1, "completion": "    return x\n", "pass_rate": 0.5},
            ],
        }
        for i in range(n)
    ]


def execute(*args) -> object:
    return runner.invoke(app, ["execute", *map(str, args), "--workers", "1", "--no-progress"])


def test_function_bodies_are_withheld_with_a_loud_warning_naming_the_fix(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, body_rows())
    result = execute(src, out)
    assert result.exit_code == 1, result.output
    assert "6 of 6 programs (100%) failed before any test ran (compile:IndentationError 6)" in result.stderr
    assert "look like function bodies" in result.stderr
    assert "--program '{question}{completion}'" in result.stderr
    assert "not written" in result.stderr and "--allow-setup-failures" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing downstream can run on meaningless pass rates
    assert (tmp_path / "out.jsonl.partial.jsonl").exists()

    # Accepting them writes what ran, without running anything again.
    accepted = execute(src, out, "--allow-setup-failures")
    assert accepted.exit_code == 0, accepted.output
    assert "resuming: 3 rows already done" in accepted.stderr
    assert "for 0 programs run now" in accepted.stdout and "WARNING" in accepted.stderr
    assert [inf["pass_rate"] for inf in read_rows(out)[0]["inferences"]] == [0.0, 0.0]


def test_program_template_builds_programs_from_row_and_inference_fields(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(src, body_rows())
    result = execute(src, out, "--program", "{question}{completion}")
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    assert [[inf["pass_rate"] for inf in row["inferences"]] for row in read_rows(out)] == [[1.0, 0.0]] * 3


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{question}{completon}",
            "row 1: field 'completon': the program template '{question}{completon}' uses",
        ),
        ("{question}{completion", "expected '}' before end of string"),
        ("{question}{0}", "{0} is not a field name"),
        ("print(1)", "uses no field"),
        (
            "{test_cases}{completion}",
            "field 'test_cases': the program template uses it, so it must be a string",
        ),
    ],
)
def test_bad_templates_fail_in_one_line_naming_the_field(tmp_path, template, message):
    src = tmp_path / "in.jsonl"
    write_rows(src, body_rows(1))
    result = execute(src, tmp_path / "out.jsonl", "--program", template)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_python_api_takes_the_same_template():
    row = body_rows(1)[0]
    jobs = row_jobs(row, program_template="{question}{completion}")
    assert jobs[0].program == PROMPT + "    return x + 1\n"
    assert row_jobs(row)[0].program == "    return x + 1\n"
    assert (
        ProgramTemplate("{program}\n# {model_name}").render(
            row, {"completion": "```python\nx = 1\n```", "model_name": "m"}
        )
        == "x = 1\n\n# m"
    )
    with pytest.raises(DataError, match=r"in\.jsonl: row 7: field 'prompt'"):
        row_jobs(row, program_template="{prompt}{completion}", path="in.jsonl", line=7)

    summary = RowSummary()
    with ExecutionEngine(workers=1) as engine:
        done = list(
            execute_rows(body_rows(2), engine, summary=summary, program_template="{question}{completion}")
        )
        assert summary.warning() is None and summary.rows == 2
        assert [inf["pass_rate"] for inf in done[0]["inferences"]] == [1.0, 0.0]
        bare = RowSummary()
        list(execute_rows(body_rows(2), engine, summary=bare))
    assert bare.body_like == 4 and "look like function bodies" in (bare.warning() or "")


def test_in_place_needs_the_flag_and_replaces_the_input_atomically(tmp_path):
    src = tmp_path / "rows.jsonl"
    write_rows(src, body_rows(2))
    refused = execute(src, tmp_path / "." / "rows.jsonl", "--program", "{question}{completion}")
    assert refused.exit_code == 2 and "the output is the input" in refused.stderr
    assert "--in-place" in refused.stderr
    done = execute(src, src, "--program", "{question}{completion}", "--in-place")
    assert done.exit_code == 0, done.output
    assert [inf["pass_rate"] for inf in read_rows(src)[1]["inferences"]] == [1.0, 0.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.jsonl"]
