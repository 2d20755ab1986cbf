"""Rows in and out: formats by extension, unknown fields untouched, located errors, torn checkpoints."""

from __future__ import annotations

import json

import pytest

from acecoder.data import DataError, RowWriter, iter_rows, read_rows, validate_acecode_row, write_rows
from acecoder.data.checkpoint import Checkpoint, fingerprint
from acecoder.data.io import count_rows

ROW = {
    "id": "oss_1",
    "source": "oss",
    "question": "q",
    "test_cases": ["assert f() == 1"],
    "inferences": [
        {"model_name": "m", "completion_id": 0, "completion": "def f(): return 1", "pass_rate": 1.0}
    ],
    "context_messages": [{"role": "user", "content": "q"}],
    "unknown": {"deep": [{"x": None, "y": [1, 2]}]},
}


@pytest.mark.parametrize("name", ["rows.jsonl", "rows.jsonl.gz", "rows.parquet"])
def test_round_trip_keeps_every_field(tmp_path, name):
    write_rows(tmp_path / name, [ROW, ROW])
    assert read_rows(tmp_path / name) == [ROW, ROW]
    assert count_rows(tmp_path / name) in (2, None)


def test_rows_parquet_cannot_hold_fail_clearly(tmp_path):
    with pytest.raises(DataError, match="cannot be stored as Parquet"):
        write_rows(tmp_path / "rows.parquet", [{**ROW, "unknown": [1, {"x": 2}]}])
    assert list(tmp_path.iterdir()) == []


def test_writes_are_atomic(tmp_path):
    target = tmp_path / "out.jsonl"
    with (
        pytest.raises(RuntimeError),
        RowWriter(target) as w,
    ):
        w.write(ROW)
        raise RuntimeError("crash mid-write")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_errors_name_file_row_and_field(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(ROW) + "\n\n" + json.dumps({**ROW, "test_cases": ["ok", 3]}) + "\n")
    rows = list(iter_rows(path))
    assert [n for n, _ in rows] == [1, 3]
    with pytest.raises(DataError) as err:
        validate_acecode_row(rows[1][1], require=("test_cases",), path=str(path), line=3)
    assert str(err.value) == (
        f"{path}: row 3: field 'test_cases[1]': expected an assert string or a test object, got int"
    )
    with pytest.raises(DataError, match=r"field 'inferences\[0\]\.pass_rate'"):
        validate_acecode_row({"id": "x", "inferences": [{"completion": "", "pass_rate": "1"}]})
    with pytest.raises(DataError, match="unknown file type"):
        write_rows(tmp_path / "rows.csv", [ROW])


def test_checkpoint_cuts_a_torn_last_line_and_resumes(tmp_path):
    out = tmp_path / "out.jsonl"
    run = fingerprint(a=1)
    checkpoint = Checkpoint(out, run)
    checkpoint.append({"id": 1})
    checkpoint.append({"id": 2})
    checkpoint.close()
    with open(checkpoint.path, "a") as f:
        f.write('{"id": 3, "half')  # a crash mid-line
    resumed = Checkpoint(out, run)
    assert resumed.done == 2
    resumed.append({"id": 3})
    assert resumed.finalize() == 3
    assert read_rows(out) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert not checkpoint.path.exists()
    assert Checkpoint(tmp_path / "other.jsonl", fingerprint(a=2)).done == 0


def test_parquet_round_trips_empty_dicts(tmp_path):
    """Parquet has no struct without fields: columns of empty dicts (e.g. a summary with nothing dropped in every
    row) are stored with a placeholder field and read back as empty dicts, None staying None."""
    from acecoder.data import read_rows, write_rows

    rows = [
        {"id": "a", "meta": {"dropped": {}, "n": 1}, "items": [{}], "extra": {}},
        {"id": "b", "meta": {"dropped": {}, "n": 2}, "items": [], "extra": None},
    ]
    write_rows(tmp_path / "rows.parquet", rows)
    assert read_rows(tmp_path / "rows.parquet") == rows
    plain = [{"id": "c", "meta": {"n": 3}}]
    write_rows(tmp_path / "plain.parquet", plain)
    assert read_rows(tmp_path / "plain.parquet") == plain


def test_parquet_keeps_fields_that_only_later_rows_have(tmp_path):
    rows = [
        {"id": "a", "test_cases": ["assert 1"]},
        {"id": "b", "test_cases": [{"stdin": "1", "stdout": "1"}], "time_limit": 2.0},
    ]
    write_rows(tmp_path / "rows.parquet", rows)
    back = read_rows(tmp_path / "rows.parquet")
    assert back[1] == rows[1]
    assert back[0] == {**rows[0], "time_limit": None}


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path):
    from acecoder.data.io import write_atomic, write_json

    path = tmp_path / "sub" / "summary.json"
    write_json(path, {"rows": 3, "name": "é", "path": tmp_path})
    before = path.read_bytes()
    assert json.loads(before) == {"rows": 3, "name": "é", "path": str(tmp_path)} and before.endswith(b"}\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "half written \ud800")  # a lone surrogate cannot be UTF-8: fails mid-write
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == ["summary.json"]


def test_checkpoint_hands_back_finished_rows_with_their_inputs_and_splits_the_output(tmp_path):
    out, rejects = tmp_path / "out.jsonl", tmp_path / "out.rejected.jsonl"
    with Checkpoint(out, "fp") as ckpt:
        ckpt.append({"id": "a", "row": {"id": "a"}})
        ckpt.append({"id": "b", "row": None, "reason": "no tests"})
    inputs = iter(["input a", "input b", "input c"])
    with Checkpoint(out, "fp") as ckpt:
        done = list(ckpt.finished(inputs))
        assert [(i, r["id"], item) for i, r, item in done] == [(0, "a", "input a"), (1, "b", "input b")]
        assert next(inputs) == "input c"  # the rest of the input continues after the finished rows
        ckpt.append({"id": "c", "row": {"id": "c"}})
        with pytest.raises(DataError, match="more rows than the input"):
            list(ckpt.finished(iter(["only one"])))
    ckpt.write_split(out, rejects)
    assert read_rows(out) == [{"id": "a"}, {"id": "c"}]
    assert read_rows(rejects) == [{"id": "b", "reason": "no tests"}] and not ckpt.path.exists()
