"""Importers: each on a real row of its format, the safe decoding of LiveCodeBench's private tests, and the CLI."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acecoder.data import read_rows, validate_acecode_row
from acecoder.execution.testkinds import CallTest, StdinTest, parse_tests
from acecoder.importers import Rejected, import_file, import_row
from acecoder.importers.safe_pickle import UnsafePickle, decode_private_tests, load_string_pickle

DATA = Path(__file__).parent / "data" / "importers"
LCB_SAMPLE = Path(__file__).parents[1] / "src/acecoder/resources/benchmarks/livecodebench_sample.jsonl"


def _rows(name: str) -> list[dict]:
    return read_rows(DATA / f"{name}.jsonl")


def _tests(row: dict) -> list:
    validate_acecode_row(row, require=("id", "question", "test_cases"))
    return parse_tests(row["test_cases"])


# ------------------------------------------------------------------------------------------ LiveCodeBench
def test_livecodebench_row_with_compressed_private_tests():
    row = next(r for r in read_rows(LCB_SAMPLE) if r["question_id"] == "1873_A")
    out = import_row("livecodebench", row)
    tests = _tests(out)
    assert out["id"] == "1873_A" and out["public_tests"] == 1 and len(tests) == 5
    assert all(isinstance(t, StdinTest) and t.comparator == "livecodebench" for t in tests)
    assert tests[1] == StdinTest("1\nabc\n", "YES\n", "livecodebench")  # the first private test
    assert out["question"].startswith("### Question:\nThere are three cards")
    assert "### Answer: (use the provided format with backticks)" in out["question"]


def test_livecodebench_functional_rows_take_json_arguments():
    row = next(r for r in read_rows(LCB_SAMPLE) if r["question_id"] == "2757")
    tests = _tests(import_row("livecodebench", row))
    assert tests[0] == CallTest("count", ("1", "12", 1, 8), 11)
    assert "class Solution" in import_row("livecodebench", row)["question"]  # the starter code is shown


def test_livecodebench_func_name_not_testtype_picks_the_mode():
    row = next(r for r in read_rows(LCB_SAMPLE) if r["question_id"] == "2727")
    row = dict(row, public_test_cases=row["public_test_cases"].replace('"functional"', '"stdin"'))
    assert all(isinstance(t, CallTest) for t in _tests(import_row("livecodebench", row)))


def _blob(payload) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(payload))).decode()


def test_private_tests_decode_only_a_pickled_string():
    text = json.dumps([{"input": "1\n", "output": "2\n", "testtype": "stdin"}])
    assert json.loads(decode_private_tests(_blob(text))) == json.loads(text)
    # a pickle that is not one plain string is refused before anything of it runs
    with pytest.raises(UnsafePickle, match="only a plain string"):
        decode_private_tests(_blob([text]))
    with pytest.raises(UnsafePickle, match="only a plain string"):
        decode_private_tests(_blob({"input": "1"}))


class _Boom:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /tmp/acecoder_pwned",))


def test_a_malicious_pickle_is_refused_without_running(tmp_path):
    marker = Path("/tmp/acecoder_pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(UnsafePickle, match=r"STACK_GLOBAL|GLOBAL|REDUCE"):
        decode_private_tests(_blob(_Boom()))
    assert not marker.exists()
    # a string plus a REDUCE smuggled after it is refused too
    with pytest.raises(UnsafePickle):
        load_string_pickle(pickle.dumps("x")[:-1] + pickle.dumps(_Boom())[2:])
    assert not marker.exists()
    row = next(r for r in read_rows(LCB_SAMPLE) if r["question_id"] == "1873_A")
    with pytest.raises(Rejected, match="unsafe or undecodable private tests"):
        import_row("livecodebench", dict(row, private_test_cases=_blob(_Boom())))
    assert not marker.exists()


def test_private_tests_that_are_not_base64_zlib_or_too_big():
    with pytest.raises(UnsafePickle, match="neither JSON nor base64"):
        decode_private_tests("not base64 at all!")
    with pytest.raises(UnsafePickle, match="not zlib"):
        decode_private_tests(base64.b64encode(b"plain bytes").decode())
    bomb = base64.b64encode(zlib.compress(pickle.dumps("x" * 100_000))).decode()
    with pytest.raises(UnsafePickle, match="more than 1,000 bytes"):
        decode_private_tests(bomb, limit=1000)


# --------------------------------------------------------------------------------------------- APPS/TACO
def test_apps_stdin_row():
    out = import_row("apps", _rows("apps")[0])
    tests = _tests(out)
    assert len(tests) == 11 and all(isinstance(t, StdinTest) and t.comparator == "apps" for t in tests)
    assert tests[0].stdin.startswith("5 7 6 11\n3\n") and tests[0].stdout == "4\n"
    assert out["solutions"] and "deque" in out["solutions"][0]


def test_apps_call_row_unwraps_returns():
    tests = _tests(import_row("apps", _rows("apps")[1]))
    assert tests == [
        CallTest("is_anagram", ("foefet", "toffee"), True),
        CallTest("is_anagram", ("dumble", "bumble"), False),
    ]


def test_apps_line_lists_and_string_dict_keys():
    io = {"inputs": [["3", "1 2 3"]], "outputs": [["6"]]}
    tests = _tests(import_row("apps", {"problem_id": 1, "question": "q", "input_output": json.dumps(io)}))
    assert tests == [StdinTest("3\n1 2 3", "6", "apps")]
    io = {"fn_name": "invert", "inputs": [[{"1": "a", "2": "b"}]], "outputs": [[{"1": "b", "2": "a"}]]}
    row = {
        "problem_id": 2,
        "question": "q",
        "input_output": json.dumps(io),
        "starter_code": "class Solution:\n",
    }
    (test,) = _tests(import_row("apps", row))
    assert test == "assert Solution().invert({1: 'a', 2: 'b'}) == {1: 'b', 2: 'a'}"


def test_taco_row_carries_its_limits():
    out = import_row("taco", _rows("taco")[0])
    assert out["time_limit"] == 2.0 and out["memory_limit"] == 256 and out["source"] == "taco/codeforces"
    assert len(_tests(out)) == 11


def test_rows_without_tests_are_rejected_not_passed():
    with pytest.raises(Rejected, match="no tests"):
        import_row(
            "apps", {"problem_id": 3, "question": "q", "input_output": '{"inputs": [], "outputs": []}'}
        )
    with pytest.raises(Rejected, match="no tests"):
        import_row("taco", {"id": 3, "question": "q", "input_output": ""})


# ------------------------------------------------------------------------------------------ CodeContests
def test_codecontests_row():
    out = import_row("codecontests", _rows("codecontests")[0])
    tests = _tests(out)
    assert len(tests) == 3  # the generated test repeats a public one
    assert all(t.comparator == "codecontests" for t in tests)
    assert out["time_limit"] == 2.0 and out["memory_limit"] == 244  # 256,000,000 bytes
    assert out["solutions"] and out["cf_rating"] == 1200
    with pytest.raises(Rejected, match="reads a file"):
        import_row("codecontests", dict(_rows("codecontests")[0], input_file="input.txt"))


# ----------------------------------------------------------------------------------- DeepCoder, SYNTHETIC-1
def test_deepcoder_rows_in_each_subset_shape():
    lcb, taco, prime = (import_row("deepcoder", r, i) for i, r in enumerate(_rows("deepcoder"), 1))
    assert _tests(lcb) == [CallTest("numberOfEmployeesWhoMetTarget", ([5, 3, 10, 8, 2], 5), 3)]
    assert (
        lcb["test_shape"] == "lcb"
        and taco["test_shape"] == "taco"
        and prime["test_shape"] == "primeintellect"
    )
    assert len(_tests(taco)) == 11
    assert _tests(prime) == [StdinTest("2\n3\n4 6 8\n2 6 6\n1 4 3\n1\n7 7 4\n", "12\n0\n", "apps")]
    assert prime["id"] == "deepcoder-3"


def test_synthetic1_row():
    out = import_row("synthetic1", _rows("synthetic1")[0])
    assert _tests(out) == [StdinTest("2\n3\n4 6 8\n2 6 6\n1 4 3\n1\n7 7 4\n", "12\n0\n", "lines")]
    assert out["solution"].startswith("t=int(input())")
    other = dict(
        _rows("synthetic1")[0], verification_info=json.dumps({"language": "cpp", "test_cases": [{}]})
    )
    with pytest.raises(Rejected, match="not Python"):
        import_row("synthetic1", other)
    call = {
        "language": "python",
        "test_cases": [{"type": "function_call", "fn_name": "f", "input": [1, 2], "output": 3}],
    }
    out = import_row("synthetic1", dict(_rows("synthetic1")[0], verification_info=json.dumps(call)))
    assert _tests(out) == [CallTest("f", (1, 2), 3)]


# ------------------------------------------------------------------------------------------------ KodCode
def test_kodcode_rows():
    first, second = (import_row("kodcode", r) for r in _rows("kodcode"))
    assert first["test_names"] == ["test_interleave_strings", "test_performance"]
    assert first["test_cases"][0].startswith("assert (interleave_strings('ABCD', 'XY') == 'AXBYCD') and (")
    assert "from timeit import timeit" in first["test_cases"][1]
    assert second["test_cases"][0].count("DID NOT RAISE ValueError") == 1  # pytest.raises written out
    assert "import pytest" not in second["test_cases"][0]
    assert first["solution"].startswith("def interleave_strings")


def test_kodcode_every_real_row_converts(shared_data):
    summary = import_file(
        "kodcode",
        shared_data / "kodcode" / "kodcode_demo_232.jsonl",
        Path(pytest.importorskip("tempfile").mkdtemp()) / "k.jsonl",
    )
    assert summary.imported == summary.rows == 232
    assert summary.tests["assert"] == 818  # one test per pytest test function


# ------------------------------------------------------------------------------------------------- CLI
def test_import_tests_cli_writes_rows_and_rejects(tmp_path):
    from acecoder.cli import app

    source = tmp_path / "in.jsonl"
    good = _rows("apps")[0]
    source.write_text(
        json.dumps(good) + "\n" + json.dumps({"problem_id": 9, "question": "q", "input_output": "{"}) + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["import-tests", "apps", str(source), str(out)])
    assert result.exit_code == 0, result.output
    assert "1 of 2 rows imported" in result.output and "rejected (bad JSON): 1" in result.output
    assert [r["id"] for r in read_rows(out)] == ["codeforces_242C"]
    (rejected,) = read_rows(tmp_path / "out.rejected.jsonl")
    assert rejected["row"] == 2 and rejected["reason"] == "bad JSON" and rejected["id"] == 9
    result = CliRunner().invoke(app, ["import-tests", "nope", str(source), str(out)])
    assert result.exit_code == 2 and "unknown format 'nope'" in result.output
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text(json.dumps({"problem_id": 9, "question": "q", "input_output": "{"}) + "\n")
    result = CliRunner().invoke(app, ["import-tests", "apps", str(only_bad), str(tmp_path / "o2.jsonl")])
    assert result.exit_code == 2 and "no row could be imported as apps" in result.output
    assert not (tmp_path / "o2.jsonl").exists()


def test_imported_rows_round_trip_through_parquet(tmp_path):
    out = tmp_path / "rows.parquet"
    import_file("livecodebench", LCB_SAMPLE, out)
    rows = read_rows(out)
    jsonl = tmp_path / "rows.jsonl"
    import_file("livecodebench", LCB_SAMPLE, jsonl)

    def present(row):  # Parquet gives every row every column (null where a row has no such field)
        return {k: v for k, v in row.items() if v is not None}

    assert [present(r) for r in rows] == read_rows(jsonl)
    assert any(isinstance(t, dict) and "fn_name" in t for r in rows for t in r["test_cases"])
