"""Data safety: no verb overwrites its input unless told to (``--in-place``, atomically), bad input files end in one
line naming file, row and field, and repeated row ids are refused (or renamed with ``--dedupe-ids``)."""

from __future__ import annotations

import gzip
import json
import os

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import DataError, iter_rows, read_rows, write_rows

runner = CliRunner()


def scored_row(qid: str, question: str = "Add one.") -> dict:
    return {
        "id": qid,
        "source": "s",
        "question": question,
        "test_cases": ["assert f(1) == 2"] * 5,
        "reference": "def f(x):\n    return x + 1\n",
        "inferences": [
            {
                "model_name": "m",
                "completion_id": 0,
                "completion": "def f(x):\n    return x + 1\n",
                "pass_rate": 1.0,
            },
            {
                "model_name": "m",
                "completion_id": 1,
                "completion": "def f(x):\n    return 2\n",
                "pass_rate": 0.4,
            },
        ],
    }


def invoke(*args) -> object:
    return runner.invoke(app, [*map(str, args)], env={"OPENAI_API_KEY": "k"})


# Each verb with the options it needs to get as far as checking its paths.
VERBS = {
    "synthesize": ["--model", "m"],
    "filter-tests": ["--reference-field", "reference"],
    "sample": ["--model", "m"],
    "execute": [],
    "pairs": [],
    "hard": [],
}


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("spelling", ["same", "relative", "symlink"])
def test_no_verb_writes_over_its_input(tmp_path, verb, spelling, monkeypatch):
    src = tmp_path / "rows.jsonl"
    write_rows(src, [scored_row("q0")])
    before = src.read_bytes()
    monkeypatch.chdir(tmp_path)
    if spelling == "symlink":
        os.symlink(src, tmp_path / "link.jsonl")
    inp, out = {
        "same": (src, src),
        "relative": (src, "sub/../rows.jsonl"),
        "symlink": ("link.jsonl", src),
    }[spelling]
    (tmp_path / "sub").mkdir()
    result = invoke(verb, inp, out, *VERBS[verb])
    assert result.exit_code == 2, result.output
    assert "the output is the input" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert src.read_bytes() == before


def test_in_place_replaces_atomically_only_when_asked(tmp_path):
    src = tmp_path / "rows.jsonl"
    write_rows(src, [scored_row(f"q{i}") for i in range(3)])
    refused = invoke("filter-tests", src, src, "--reference-field", "reference", "--workers", "1")
    assert refused.exit_code == 2 and "pass --in-place" in refused.stderr
    done = invoke(
        "filter-tests",
        src,
        src,
        "--reference-field",
        "reference",
        "--workers",
        "1",
        "--in-place",
        "--no-progress",
    )
    assert done.exit_code == 0, done.output
    assert [row["n_tests_before"] for row in read_rows(src)] == [5, 5, 5]
    write_rows(src, [scored_row(f"q{i}") for i in range(3)])
    hard = invoke("hard", src, src, "--in-place", "--no-progress")
    assert hard.exit_code == 0, hard.output
    assert (
        len(read_rows(src)) == 3
    )  # equal rows are all "hard"; the file was read fully before being replaced
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("verb", "name"), [("filter-tests", "out.jsonl.rejected.jsonl"), ("execute", "out.jsonl.partial.jsonl")]
)
def test_an_input_named_like_a_side_output_is_refused(tmp_path, verb, name):
    src = tmp_path / name
    write_rows(src, [scored_row("q0")])
    result = invoke(verb, src, tmp_path / "out.jsonl", *VERBS[verb])
    assert result.exit_code == 2 and "this run writes that file, but it is the input" in result.stderr
    assert read_rows(src) == [scored_row("q0")]


@pytest.mark.parametrize(
    "verb", ["filter-tests", "execute", "pairs", "hard", "sample", "synthesize", "stats"]
)
def test_a_missing_input_is_one_line(tmp_path, verb):
    args = [verb, tmp_path / "missing.jsonl"] + ([] if verb == "stats" else [tmp_path / "o.jsonl"])
    result = invoke(*args, *VERBS.get(verb, []))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'missing.jsonl'}: no such file"


@pytest.mark.parametrize("verb", ["stats", "execute", "pairs", "hard", "filter-tests"])
def test_non_utf8_input_names_file_row_and_field(tmp_path, verb):
    src = tmp_path / "rows.jsonl"
    good = json.dumps(scored_row("q0")).encode()
    bad = json.dumps(scored_row("q1", question="caf_")).encode().replace(b"caf_", b"caf\xe9")
    src.write_bytes(good + b"\n" + bad + b"\n")
    args = [verb, src] + ([] if verb == "stats" else [tmp_path / "o.jsonl", "--no-progress"])
    result = invoke(*args, *VERBS.get(verb, []))
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"error: {src}: row 2: field 'question': not valid UTF-8 (byte 0xe9 at byte "
        f"{bad.index(b'caf') + 4} of the line); re-encode the file as UTF-8"
    )


def test_data_io_locates_bad_bytes_deep_in_a_row_and_broken_files(tmp_path):
    src = tmp_path / "rows.jsonl.gz"
    row = scored_row("q0")
    row["inferences"][1]["completion"] = "caf_"
    with gzip.open(src, "wb") as f:
        f.write(json.dumps(row).encode().replace(b"caf_", b"caf\xff") + b"\n")
    with pytest.raises(
        DataError, match=r"rows\.jsonl\.gz: row 1: field 'inferences\[1\]\.completion': not valid"
    ):
        list(iter_rows(src))
    (tmp_path / "junk.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match=r"junk\.jsonl\.gz: not a readable gzip file"):
        list(iter_rows(tmp_path / "junk.jsonl.gz"))
    (tmp_path / "junk.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"junk\.parquet: not a readable Parquet file"):
        list(iter_rows(tmp_path / "junk.parquet"))
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "x"}).encode() + b"\n")
    assert read_rows(tmp_path / "bom.jsonl") == [{"id": "x"}]


@pytest.mark.parametrize("verb", ["pairs", "hard", "execute", "filter-tests"])
def test_duplicate_ids_are_refused_naming_both_rows(tmp_path, verb):
    src = tmp_path / "rows.jsonl"
    write_rows(src, [scored_row("q0"), scored_row("q1"), scored_row("q0", question="Another question.")])
    result = invoke(verb, src, tmp_path / "o.jsonl", "--no-progress", *VERBS[verb])
    assert result.exit_code == 2, result.output
    assert f"{src}: row 3: field 'id': duplicate id 'q0' (first at row 1)" in result.stderr
    assert "--dedupe-ids" in result.stderr


def test_dedupe_ids_keeps_pairs_of_two_questions_apart(tmp_path):
    src, out = tmp_path / "rows.jsonl", tmp_path / "pairs.jsonl"
    write_rows(src, [scored_row("q0"), scored_row("q0", question="Another question.")])
    result = invoke("pairs", src, out, "--dedupe-ids", "--format", "acecodepair", "--min-margin", "0.4")
    assert result.exit_code == 0, result.output
    pairs = read_rows(out)
    assert [p["question_id"] for p in pairs] == ["q0", "q0#2"]
    assert len({(p["question_id"], p["id"]) for p in pairs}) == 2


def test_duplicate_seed_ids_are_refused_before_any_request(tmp_path):
    seeds = tmp_path / "seeds.jsonl"
    write_rows(
        seeds, [{"id": 1, "program": "def f():\n    return 1\n"}, {"id": 1, "program": "def g(): pass\n"}]
    )
    result = invoke(
        "synthesize", seeds, tmp_path / "o.jsonl", "--model", "m", "--base-url", "http://127.0.0.1:9/v1",
        "--no-decontaminate",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"{seeds}: row 2: field 'id': duplicate id '1' (first at row 1)" in result.stderr


@pytest.mark.parametrize(
    ("verb", "option", "what"),
    [
        ("synthesize", "--template", "template"),
        ("sample", "--models", "models file"),
        ("sample", "--prices", "price table"),
    ],
)
def test_non_utf8_settings_files_are_named(tmp_path, verb, option, what):
    src, settings = tmp_path / "rows.jsonl", tmp_path / "settings.yaml"
    write_rows(src, [scored_row("q0")])
    settings.write_bytes(b"# ok\n- caf\xe9\n")
    result = invoke(verb, src, tmp_path / "o.jsonl", "--model", "m", option, settings)
    assert result.exit_code == 2, result.output
    assert f"{settings}: line 2: the {what} is not valid UTF-8" in result.stderr
