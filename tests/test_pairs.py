"""``acecoder pairs``: the released pair rule, its variants, the output shapes and the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import DataError, read_rows, write_rows
from acecoder.pairs import PAIR_FIELDS, PairConfig, PairSummary, iter_pairs, make_pairs, pairs_for_row
from acecoder.sampling.prompt import PREFILL_SENTENCE

INSTRUCTION = "Please provide a self-contained Python script that solves the following problem in a markdown code block:"


def make_row(samples, *, id="q1", question="Add one to x.", tests=("assert f(1) == 2", "assert f(2) == 3")):
    """samples: (model, completion, pass_rate) triples."""
    return {
        "id": id,
        "question": question,
        "test_cases": list(tests),
        "inferences": [
            {"model_name": m, "completion_id": i, "completion": c, "pass_rate": r}
            for i, (m, c, r) in enumerate(samples)
        ],
    }


def texts(pairs):
    return [(p.chosen, p.rejected) for p in pairs]


def release_pairs(samples):
    """The released rule, transcribed literally: stable sort by pass rate, j forwards, k backwards, raw float
    comparisons, de-duplication on the concatenated texts."""
    out, seen = [], set()
    ordered = sorted(samples, key=lambda s: s[1], reverse=True)
    for j in range(len(ordered) - 1):
        for k in range(len(ordered) - 1, j, -1):
            (p1, a1), (p2, a2) = ordered[j], ordered[k]
            if max(a1, a2) >= 0.8 and abs(a2 - a1) >= 0.4 and min(a1, a2) > 0 and p1 + p2 not in seen:
                seen.add(p1 + p2)
                out.append((p1, p2))
    return out


def release_pairs_for_row(row):
    by_model = {}
    for inf in row["inferences"]:
        if inf["pass_rate"] is not None:
            by_model.setdefault(inf["model_name"], []).append((inf["completion"], inf["pass_rate"]))
    return [pair for samples in by_model.values() for pair in release_pairs(samples)]


# ---- the rule --------------------------------------------------------------------------------------------------


def test_thresholds_at_the_boundary_released_vs_strict():
    assert 1.0 - 0.6 == 0.4 and 0.8 - 0.4 == 0.4  # these boundary gaps are exact in binary floating point
    cases = [
        ((0.8, 0.4), True, False),  # chosen exactly 0.8, gap exactly 0.4
        ((1.0, 0.6), True, False),  # gap exactly 0.4
        ((0.85, 0.4), True, True),
        ((1.0, 0.0), False, False),  # rejected must be > 0
        ((0.79, 0.1), False, False),
        ((1.0, 0.61), False, False),
    ]
    for (c, r), released, strict in cases:
        row = make_row([("m", "good", c), ("m", "bad", r)])
        assert len(pairs_for_row(row)) == released, (c, r)
        assert len(pairs_for_row(row, PairConfig(strict=True))) == strict, (c, r)
        assert PairConfig().accepts(c, r) == released and PairConfig(strict=True).accepts(c, r) == strict


def test_configurable_thresholds():
    row = make_row([("m", "a", 0.75), ("m", "b", 0.5), ("m", "c", 0.125)])
    assert pairs_for_row(row) == []
    config = PairConfig(min_chosen=0.75, min_margin=0.25)
    assert texts(pairs_for_row(row, config)) == [("a", "c"), ("a", "b")]
    config = PairConfig(min_chosen=0.75, min_margin=0.25, min_rejected=0.125)
    assert texts(pairs_for_row(row, config)) == [("a", "b")]
    with pytest.raises(ValueError, match="min_margin"):
        PairConfig(min_margin=1.5)
    with pytest.raises(ValueError, match="max_per_question"):
        PairConfig(max_per_question=0)


def test_float_noise_follows_the_release_unless_a_tolerance_is_given():
    c, r = 17 / 20, 9 / 20  # a gap of exactly 2/5 as fractions
    assert c - r < 0.4  # 0.39999999999999997 as floats
    row = make_row([("m", "a", c), ("m", "b", r)])
    assert pairs_for_row(row) == []
    assert texts(pairs_for_row(row, PairConfig(tolerance=1e-9))) == [("a", "b")]


def test_pairing_order_and_distinct_texts_match_the_release():
    samples = [
        ("m", "p_half", 0.5),
        ("m", "p_full", 1.0),
        ("m", "p_full", 1.0),  # the same text again: no duplicate pairs
        ("m", "q_full", 1.0),
        ("m", "p_low", 0.25),
        ("m", "p_zero", 0.0),
        ("m", "same", 0.9),
        ("m", "same", 0.3),  # identical texts with different rates never pair with each other
        ("m", "p_nine", 0.9),
    ]
    row = make_row(samples)
    got = texts(pairs_for_row(row))
    expected = release_pairs([(c, r) for _, c, r in samples])
    expected = [p for p in expected if p[0] != p[1]]
    assert got == expected
    assert len(got) == len(set(got))
    assert ("p_full", "p_low") in got and ("q_full", "same") in got and ("same", "same") not in got
    assert got[:3] == [("p_full", "p_low"), ("p_full", "same"), ("p_full", "p_half")]


def test_inferences_without_a_pass_rate_take_no_part():
    summary = PairSummary()
    row = make_row([("m", "a", 1.0), ("m", "b", None), ("m", "c", 0.5), ("m", "d", float("nan"))])
    assert texts(pairs_for_row(row, summary=summary)) == [("a", "c")]
    pairs_for_row(make_row([("m", "x", None), ("m", "y", None)], id="q2"), summary=summary)
    assert summary.rows_in == 2
    assert summary.rows_without_pass_rates == 1
    assert summary.inferences_without_pass_rate == 4


def test_pairs_are_per_model_unless_cross_model():
    row = make_row([("m1", "good", 1.0), ("m2", "bad", 0.5), ("m2", "worse", 0.25), ("m1", "meh", 0.5)])
    per_model = pairs_for_row(row)
    assert texts(per_model) == [("good", "meh")]
    cross = pairs_for_row(row, PairConfig(cross_model=True))
    assert texts(cross) == [("good", "worse"), ("good", "meh"), ("good", "bad")]
    assert [(p.model_name, p.rejected_model_name) for p in cross] == [
        ("m1", "m2"),
        ("m1", "m1"),
        ("m1", "m2"),
    ]
    assert cross[0].to_row(cross_model=True)["rejected_model_name"] == "m2"
    assert "rejected_model_name" not in per_model[0].to_row()


def test_cap_per_question_is_deterministic_and_independent_of_file_order():
    rows = [
        make_row(
            [("m", f"good{i}", 1.0) for i in range(6)] + [("m", f"bad{i}", 0.5) for i in range(6)], id=f"q{n}"
        )
        for n in range(4)
    ]
    full = {r["id"]: texts(pairs_for_row(r)) for r in rows}
    assert all(len(v) == 36 for v in full.values())
    config = PairConfig(max_per_question=5, seed=7)

    def capped(rows, config):
        out = {}
        for pair in iter_pairs(rows, config):
            out.setdefault(pair.question_id, []).append((pair.chosen, pair.rejected))
        return out

    first = capped(rows, config)
    assert first == capped(list(reversed(rows)), config)
    assert all(len(v) == 5 for v in first.values())
    for qid, chosen in first.items():  # a subset, in the original order
        positions = [full[qid].index(p) for p in chosen]
        assert positions == sorted(positions)
    assert capped(rows, PairConfig(max_per_question=5, seed=8)) != first
    summary = PairSummary()
    list(iter_pairs(rows, config, summary=summary))
    assert (summary.pairs_before_cap, summary.pairs_out) == (144, 20)


def test_non_ascii_questions_are_dropped_only_when_asked():
    row = make_row([("m", "a", 1.0), ("m", "b", 0.5)], question="Compute π to n digits.")
    assert len(pairs_for_row(row)) == 1
    summary = PairSummary()
    assert pairs_for_row(row, PairConfig(ascii_only=True), summary=summary) == []
    assert summary.questions_skipped_non_ascii == 1


def test_bad_rows_name_the_row_and_field():
    row = make_row([("m", "a", 1.0), ("m", "b", "high")])
    with pytest.raises(DataError, match=r"in\.jsonl: row 3: field 'inferences\[1\]\.pass_rate'"):
        pairs_for_row(row, path="in.jsonl", line=3)
    row = make_row([("m", "a", 1.5)])
    with pytest.raises(DataError, match=r"pass rate 1\.5 is outside 0\.\.1"):
        pairs_for_row(row)
    row = make_row([("m", "a", 1.0)])
    del row["inferences"][0]["model_name"]
    with pytest.raises(
        DataError, match=r"field 'inferences\[0\]\.model_name': expected a string, got nothing"
    ):
        pairs_for_row(row)
    with pytest.raises(DataError, match="field 'question': missing"):
        pairs_for_row({"id": "x", "inferences": []})


# ---- output shapes ---------------------------------------------------------------------------------------------

ROW = make_row(
    [
        ("m", "```python\ndef f(x):\n    return x + 1\n```", 1.0),
        ("m", "\ndef f(x):\n    return x\n", 0.5),
    ],
    tests=(" assert f(1) == 2 ", "assert f(2) == 3"),
)


def test_default_output_shape(tmp_path):
    src = tmp_path / "in.jsonl"
    write_rows(src, [ROW])
    summary = make_pairs(src, tmp_path / "out.jsonl", progress=False)
    (row,) = read_rows(tmp_path / "out.jsonl")
    assert tuple(row) == PAIR_FIELDS
    assert row == {
        "id": "q1/0-1",
        "question_id": "q1",
        "model_name": "m",
        "question": "Add one to x.",
        "chosen": ROW["inferences"][0]["completion"],
        "rejected": ROW["inferences"][1]["completion"],
        "chosen_pass_rate": 1.0,
        "rejected_pass_rate": 0.5,
    }
    assert summary.pairs_out == 1 and summary.pairs_per_model == {"m": 1}


def test_acecodepair_shape(tmp_path):
    src = tmp_path / "in.jsonl"
    write_rows(src, [ROW, {**ROW, "id": "q2"}])
    make_pairs(src, tmp_path / "out.jsonl", format="acecodepair", progress=False)
    rows = read_rows(tmp_path / "out.jsonl")
    assert [r["id"] for r in rows] == [0, 1]
    # The released fields, in order, then the source question's id to trace each pair back.
    assert list(rows[0]) == ["instruction", "input", "chosen", "rejected", "id", "question_id"]
    assert [r["question_id"] for r in rows] == [ROW["id"], "q2"]
    assert rows[0]["instruction"] == (
        INSTRUCTION + '\n```\n"""\nAdd one to x.\nassert f(1) == 2\n"""\n\n```\n'
    )
    assert rows[0]["input"] == ""
    assert rows[0]["chosen"] == PREFILL_SENTENCE + "\n```python\ndef f(x):\n    return x + 1\n```"
    assert rows[0]["rejected"] == PREFILL_SENTENCE + "\n```python\ndef f(x):\n    return x\n```"


def test_trl_shape_and_parquet(tmp_path):
    src = tmp_path / "in.jsonl.gz"
    write_rows(src, [ROW])
    make_pairs(src, tmp_path / "out.parquet", format="trl", progress=False)
    (row,) = read_rows(tmp_path / "out.parquet")
    assert row == {
        "prompt": [
            {
                "role": "user",
                "content": INSTRUCTION + '\n```\n"""\nAdd one to x.\nassert f(1) == 2\n"""\n\n```\n',
            }
        ],
        "chosen": [
            {
                "role": "assistant",
                "content": PREFILL_SENTENCE + "\n```python\ndef f(x):\n    return x + 1\n```",
            }
        ],
        "rejected": [
            {"role": "assistant", "content": PREFILL_SENTENCE + "\n```python\ndef f(x):\n    return x\n```"}
        ],
    }
    make_pairs(src, tmp_path / "sampling.jsonl", format="trl", template="sampling", progress=False)
    (row,) = read_rows(tmp_path / "sampling.jsonl")
    assert row["prompt"][0]["content"].endswith(
        'Add one to x.\n assert f(1) == 2 \nassert f(2) == 3\n"""\n```\n'
    )


def test_unknown_format_and_output_over_input(tmp_path):
    src = tmp_path / "in.jsonl"
    write_rows(src, [ROW])
    with pytest.raises(ValueError, match="unknown pair format 'dpo'"):
        make_pairs(src, tmp_path / "o.jsonl", format="dpo")
    with pytest.raises(DataError, match="overwrite the input"):
        make_pairs(src, src)


# ---- command line ----------------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_writes_pairs_and_prints_a_summary(tmp_path):
    src = tmp_path / "in.jsonl"
    write_rows(src, [ROW, make_row([("m", "x", None)], id="q2")])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["pairs", str(src), str(out), "--strict", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^rows in: +2$", result.output, re.M)
    assert re.search(r"^rows without pass rates: +1$", result.output, re.M)
    assert re.search(r"^pairs out: +1$", result.output, re.M)
    assert re.search(r"^  m: +1$", result.output, re.M)
    assert len(read_rows(out)) == 1


def test_cli_names_file_row_and_field_of_a_malformed_row(tmp_path):
    src = tmp_path / "in.jsonl"
    bad = make_row([("m", "a", 1.0), ("m", "b", "0.5")], id="q2")
    src.write_text(json.dumps(ROW) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["pairs", str(src), str(out), "--no-progress"])
    assert result.exit_code == 2
    assert (
        f"error: {src}: row 2: field 'inferences[1].pass_rate': expected a number or null, got str"
        in result.output
    )
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.jsonl*"))

    src.write_text('{"id": "q1", "question": "x", "inferences": [}\n', encoding="utf-8")
    result = runner.invoke(app, ["pairs", str(src), str(out), "--no-progress"])
    assert result.exit_code == 2 and f"{src}: row 1: invalid JSON" in result.output

    result = runner.invoke(app, ["pairs", str(tmp_path / "absent.jsonl"), str(out), "--no-progress"])
    assert result.exit_code == 2 and "no such file" in result.output

    result = runner.invoke(app, ["pairs", str(src), str(tmp_path / "out.csv"), "--no-progress"])
    assert result.exit_code == 2 and "unknown file type" in result.output


# ---- real data -------------------------------------------------------------------------------------------------

CODET = "codet/humaneval_codegen16B_acecode_format.jsonl"
ACECODE = "acecode/acecode87k_sample_open_instruct.jsonl"
CROSS_MODEL_PAIRS_ACECODE = 57  # 57 distinct passing programs over 5 models x 1 partial failure


def test_codet_pairs_match_a_literal_transcription_of_the_release(shared_data: Path, tmp_path):
    rows = read_rows(shared_data / CODET)
    expected = {r["id"]: release_pairs_for_row(r) for r in rows}
    summary = PairSummary()
    got: dict[str, list] = {}
    for pair in iter_pairs(rows, summary=summary):
        got.setdefault(pair.question_id, []).append((pair.chosen, pair.rejected))
    assert got == {k: v for k, v in expected.items() if v}  # same pairs, same order
    total = sum(len(v) for v in expected.values())
    assert total == summary.pairs_out == 48_761
    assert summary.questions_with_pairs == sum(1 for v in expected.values() if v) == 109
    assert (
        summary.rows_without_pass_rates
        == sum(all(i["pass_rate"] is None for i in r["inferences"]) for r in rows)
        == 27
    )
    assert list(summary.pairs_per_model.values()) == [48_761]

    # The paper's strict wording and the ASCII filter, counted independently (codet has one model).
    def strict_count(r):
        scored = [i for i in r["inferences"] if i["pass_rate"] is not None]
        return len(
            {
                (c["completion"], d["completion"])
                for c in scored
                for d in scored
                if c["pass_rate"] > 0.8
                and c["pass_rate"] - d["pass_rate"] > 0.4
                and d["pass_rate"] > 0
                and c["completion"] != d["completion"]
            }
        )

    strict_total = sum(strict_count(r) for r in rows)
    assert sum(1 for _ in iter_pairs(rows, PairConfig(strict=True))) == strict_total == 43_173
    ascii_total = sum(len(expected[r["id"]]) for r in rows if r["question"].isascii())
    assert sum(1 for _ in iter_pairs(rows, PairConfig(ascii_only=True))) == ascii_total == 48_413

    out = tmp_path / "pairs.jsonl"
    assert make_pairs(shared_data / CODET, out, progress=False).pairs_out == 48_761
    assert sum(1 for _ in out.open()) == 48_761


def test_released_row_pairs(shared_data: Path, tmp_path):
    (row,) = read_rows(shared_data / ACECODE)
    expected = release_pairs_for_row(row)
    assert len(expected) == 15  # qwen_coder_2.5: 15 samples at 1.0 against one at 7/19
    pairs = pairs_for_row(row)
    assert texts(pairs) == expected
    assert {p.model_name for p in pairs} == {"qwen_coder_2.5"}
    assert {p.rejected_pass_rate for p in pairs} == {7 / 19}

    out = tmp_path / "acecodepair.jsonl"
    make_pairs(shared_data / ACECODE, out, format="acecodepair", progress=False)
    first = read_rows(out)[0]
    assert first["instruction"] == (
        INSTRUCTION + f'\n```\n"""\n{row["question"]}\n{row["test_cases"][0].strip()}\n"""\n\n```\n'
    )
    assert first["chosen"] == PREFILL_SENTENCE + "\n```python\n" + pairs[0].chosen.strip() + "\n```"
    # Pooled over models, every distinct passing program (>= 0.8) faces the only sample with 0 < rate.
    rejected = {i["completion"] for i in row["inferences"] if 0 < i["pass_rate"] < 0.6}
    assert len(rejected) == 1
    passing = {i["completion"] for i in row["inferences"] if i["pass_rate"] >= 0.8} - rejected
    cross = pairs_for_row(row, PairConfig(cross_model=True))
    assert len(cross) == len(passing) == CROSS_MODEL_PAIRS_ACECODE
