"""Help and conventions: ``--version``, verbs in pipeline order, every verb saying what it reads, defaults that
neither contradict the help nor get cut off, and pairs that can be traced back to their question."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
import typer.main
from typer.testing import CliRunner

from acecoder import __version__
from acecoder.cli import COMMANDS, PIPELINE_ORDER, app
from acecoder.data import read_rows, write_rows

runner = CliRunner()
COMMAND = typer.main.get_command(app)


def test_version():
    done = subprocess.run(
        [sys.executable, "-c", "from acecoder.cli import main; main()", "--version"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip() == f"acecoder {__version__}"


def test_verbs_are_listed_in_pipeline_order():
    listed = [
        line.split()[0]
        for line in runner.invoke(app, ["--help"]).stdout.split("Commands:")[1].splitlines()
        if line.strip()
    ]
    pipeline = ["synthesize", "filter-tests", "augment-tests", "sample", "execute", "pairs", "hard", "stats"]
    assert listed[: len(pipeline)] == pipeline
    assert sorted(listed, key=lambda v: PIPELINE_ORDER.index(v) if v in PIPELINE_ORDER else 99) == listed
    assert (
        "exit status: 0 done; 1 some work failed"
        in " ".join(runner.invoke(app, ["--help"]).stdout.split()).lower()
    )


# Verbs that read a run directory or a config rather than row files.
NOT_ROW_READERS = {"run", "status", "report", "push"}


@pytest.mark.parametrize("verb", list(COMMANDS))
def test_every_verb_says_what_it_reads_and_nothing_is_cut_off(verb):
    raw = runner.invoke(app, [verb, "--help"], terminal_width=80).stdout
    text = " ".join(raw.split())
    if verb not in NOT_ROW_READERS:
        assert "JSONL, JSONL.gz or Parquet, by extension" in text
    assert "Reads " in text  # the fields it needs
    assert "…" not in text and "..." not in text.replace("ID#3, ...", "")


@pytest.mark.parametrize("verb", list(COMMANDS))
def test_no_default_contradicts_its_help(verb):
    command = COMMAND.commands[verb]
    for param in command.params:
        if isinstance(param, click.Argument):
            assert param.help, f"{verb} {param.name}: an argument without help"
            continue
        says_default = "[default" in (param.help or "") or "(default" in (param.help or "")
        shows_default = param.show_default is not False and param.default not in (None, False, ())
        assert not (says_default and shows_default), f"{verb} --{param.name}: two defaults in its help"
    workers = next((p for p in command.params if p.name == "workers"), None)
    if workers is not None:
        assert workers.default is None and "one per core" in workers.help


def test_required_options_are_marked():
    synthesize = COMMAND.commands["synthesize"]
    assert next(p for p in synthesize.params if p.name == "model").required
    sample_help = runner.invoke(app, ["sample", "--help"]).stdout
    assert "[required unless --models]" in " ".join(sample_help.split())
    filter_help = " ".join(runner.invoke(app, ["filter-tests", "--help"]).stdout.split())
    assert "One of --reference-field and --model is required." in filter_help


def test_acecodepair_rows_keep_the_question_id(tmp_path):
    row = {
        "id": "oss_7",
        "question": "Add one.",
        "test_cases": ["assert f(1) == 2"],
        "inferences": [
            {"model_name": "m", "completion": "def f(x):\n    return x + 1\n", "pass_rate": 1.0},
            {"model_name": "m", "completion": "def f(x):\n    return 2\n", "pass_rate": 0.5},
        ],
    }
    write_rows(tmp_path / "rows.jsonl", [row])
    done = runner.invoke(
        app, ["pairs", str(tmp_path / "rows.jsonl"), str(tmp_path / "p.jsonl"), "--format", "acecodepair"]
    )
    assert done.exit_code == 0, done.output
    (pair,) = read_rows(tmp_path / "p.jsonl")
    assert {k: pair[k] for k in ("input", "id", "question_id")} == {
        "input": "",
        "id": 0,
        "question_id": "oss_7",
    }
    assert set(pair) == {"instruction", "input", "chosen", "rejected", "id", "question_id"}
