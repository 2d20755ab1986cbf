"""``acecoder hard``: the paper's hard subset (mean <= median mean, then std >= median std)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import DataError, read_rows, write_rows
from acecoder.pairs import hard_rows, hard_subset, rate_stats, select_hard


def make_row(id, rates, models=None):
    models = models or ["m1"] * len(rates)
    return {
        "id": id,
        "question": f"question {id}",
        "test_cases": ["assert True"],
        "inferences": [
            {"model_name": m, "completion_id": i, "completion": f"# {id} {i}", "pass_rate": r}
            for i, (m, r) in enumerate(zip(models, rates, strict=True))
        ],
    }


# Hand-computed: means A 1, B .5, C .5, D 0, E .5, G .25 -> median of the six means (.5 + .5) / 2 = .5;
# B, C, D, E, G have mean <= .5; their stds .5, .25, 0, 0, .25 -> median .25; B, C, G have std >= .25.
HAND = [
    make_row("A", [1.0, 1.0]),
    make_row("B", [0.0, 1.0]),
    make_row("C", [0.25, 0.75]),
    make_row("D", [0.0, 0.0]),
    make_row("E", [0.5]),
    make_row("F", [None, None]),
    make_row("G", [0.0, 0.5]),
]


def test_hand_computed_example():
    kept, summary = hard_rows(HAND)
    assert [r["id"] for r in kept] == ["B", "C", "G"]
    assert kept[0] is HAND[1]  # rows pass through untouched
    assert summary.rows_in == 7
    assert summary.rows_without_pass_rates == 1
    assert summary.rows_scored == 6
    assert summary.median_mean == 0.5
    assert summary.rows_after_mean_filter == 5
    assert summary.median_std == 0.25
    assert summary.rows_out == 3


def test_population_std_and_even_count_median():
    assert rate_stats([0.0, 1.0]) == (0.5, 0.5)  # population, not sample (which would be 0.707)
    assert rate_stats([]) is None
    # Means .25 .75 .5 0 -> median .375 keeps rows 0 and 3; their stds .1 and .4 -> median .25 keeps row 3.
    keep, summary = select_hard([(0.25, 0.1), (0.75, 0.2), (0.5, 0.3), (0.0, 0.4), None])
    assert keep == [False, False, False, True, False]
    assert (summary.median_mean, summary.median_std) == (0.375, 0.25)
    assert (summary.rows_scored, summary.rows_after_mean_filter, summary.rows_out) == (4, 2, 1)
    assert select_hard([None, None])[1].rows_out == 0


def test_same_rates_in_any_order_give_identical_stats():
    rates = [0.1, 0.7, 0.3, 0.9, 0.2, 1 / 3]
    assert rate_stats(rates) == rate_stats(list(reversed(rates))) == rate_stats(sorted(rates))


def test_models_restrict_the_samples_that_count():
    rows = [
        make_row("x", [1.0, 0.0, 0.5], ["m1", "m2", "m2"]),  # m2 only: mean .25 std .25
        make_row("y", [0.0, 1.0, 1.0], ["m1", "m2", "m2"]),  # m2 only: mean 1 std 0
        make_row("z", [0.5, 0.5], ["m1", "m1"]),  # no m2 sample: left out
        make_row("w", [0.0, 0.0, 1.0], ["m1", "m2", "m2"]),  # m2 only: mean .5 std .5
    ]
    kept, summary = hard_rows(rows, "m2")
    assert summary.rows_without_pass_rates == 1 and summary.models == ["m2"]
    assert summary.median_mean == 0.5 and summary.median_std == 0.375
    assert [r["id"] for r in kept] == ["w"]
    kept_all, summary_all = hard_rows(rows)
    assert summary_all.rows_without_pass_rates == 0 and summary_all.models is None
    assert [r["id"] for r in kept_all] != [r["id"] for r in kept]
    assert hard_rows(rows, ["m1", "m2"])[1].rows_scored == 4


def test_unknown_model_fails_and_lists_the_models(tmp_path):
    with pytest.raises(DataError, match=r"--models: 'nope' matches no sample; models present: m1$"):
        hard_rows(HAND, "m1,nope")
    src = tmp_path / "in.jsonl"
    write_rows(src, HAND)
    with pytest.raises(DataError, match=r"in\.jsonl: --models: 'a', 'b' match no sample; models present: m1"):
        hard_subset(src, tmp_path / "out.jsonl", ["a", "b"], progress=False)
    assert not (tmp_path / "out.jsonl").exists()


def test_file_round_trip_keeps_rows_unchanged(tmp_path):
    src = tmp_path / "in.jsonl.gz"
    write_rows(src, HAND)
    summary = hard_subset(src, tmp_path / "out.parquet", progress=False)
    assert summary.rows_out == 3
    assert [r["id"] for r in read_rows(tmp_path / "out.parquet")] == ["B", "C", "G"]
    hard_subset(src, tmp_path / "out.jsonl", progress=False)
    assert read_rows(tmp_path / "out.jsonl") == [HAND[1], HAND[2], HAND[6]]


def test_bad_rows_name_file_row_and_field(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [HAND[0], make_row("bad", [1.0, 2.0])]
    write_rows(src, rows)
    with pytest.raises(
        DataError, match=r"in\.jsonl: row 2: field 'inferences\[1\]\.pass_rate': pass rate 2\.0"
    ):
        hard_subset(src, tmp_path / "out.jsonl", progress=False)
    src.write_text(json.dumps({"id": "q", "question": "no inferences"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 1: field 'inferences': missing"):
        hard_subset(src, tmp_path / "out.jsonl", progress=False)


runner = CliRunner()


def test_cli(tmp_path):
    src = tmp_path / "in.jsonl"
    write_rows(src, HAND)
    out = tmp_path / "hard.jsonl"
    result = runner.invoke(app, ["hard", str(src), str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    for label, value in (
        ("rows in", "7"),
        ("rows without pass rates (left out)", "1"),
        ("median of row means", "0.5"),
        ("rows with mean <= median", "5"),
        ("median std of those rows", "0.25"),
        ("rows with std >= median (out)", "3"),
    ):
        assert re.search(rf"^{re.escape(label)}: +{re.escape(value)}$", result.output, re.M), label
    assert len(read_rows(out)) == 3

    result = runner.invoke(app, ["hard", str(src), str(out), "--models", "m1,ghost", "--no-progress"])
    assert result.exit_code == 2
    assert f"error: {src}: --models: 'ghost' matches no sample; models present: m1" in result.output

    bad = make_row("bad", [1.0, "0.5"])
    src.write_text(json.dumps(HAND[0]) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["hard", str(src), str(out), "--no-progress"])
    assert result.exit_code == 2
    assert f"error: {src}: row 2: field 'inferences[1].pass_rate': expected a number or null, got str" in (
        result.output
    )
    assert "Traceback" not in result.output


# ---- real data -------------------------------------------------------------------------------------------------


def numpy_hard(rows, models=None):
    """The selection recomputed with numpy, for comparison."""
    stats = {}
    for r in rows:
        rates = [
            i["pass_rate"]
            for i in r["inferences"]
            if i["pass_rate"] is not None and (models is None or i["model_name"] in models)
        ]
        if rates:
            stats[r["id"]] = (np.mean(rates), np.std(rates))
    median_mean = np.median([m for m, _ in stats.values()])
    low = {k: s for k, (m, s) in stats.items() if m <= median_mean}
    median_std = np.median(list(low.values()))
    return [k for k, s in low.items() if s >= median_std], len(stats), len(low), median_mean, median_std


def test_codet_hard_subset(shared_data: Path, tmp_path):
    src = shared_data / "codet/humaneval_codegen16B_acecode_format.jsonl"
    rows = read_rows(src)
    ids, scored, low, median_mean, median_std = numpy_hard(rows)
    summary = hard_subset(src, tmp_path / "hard.jsonl", progress=False)
    assert [r["id"] for r in read_rows(tmp_path / "hard.jsonl")] == ids
    assert (
        (summary.rows_in, summary.rows_without_pass_rates, summary.rows_scored)
        == (164, 27, 137)
        == (
            len(rows),
            len(rows) - scored,
            scored,
        )
    )
    assert summary.rows_after_mean_filter == low == 69
    assert summary.rows_out == len(ids) == 35
    assert summary.median_mean == pytest.approx(median_mean) and summary.median_std == pytest.approx(
        median_std
    )
    assert round(summary.median_mean, 6) == 0.434333 and round(summary.median_std, 6) == 0.305442


def test_released_row_hard_subset(shared_data: Path, tmp_path):
    src = shared_data / "acecode/acecode87k_sample_open_instruct.jsonl"
    (row,) = read_rows(src)
    summary = hard_subset(src, tmp_path / "hard.jsonl", "qwen_coder_2.5", progress=False)
    rates = [i["pass_rate"] for i in row["inferences"] if i["model_name"] == "qwen_coder_2.5"]
    assert summary.median_mean == pytest.approx(np.mean(rates)) and summary.median_std == pytest.approx(
        np.std(rates)
    )
    assert summary.rows_out == 1 and read_rows(tmp_path / "hard.jsonl") == [row]
    with pytest.raises(DataError) as info:
        hard_subset(src, tmp_path / "h2.jsonl", "qwen", progress=False)
    assert str(info.value).endswith(
        "'qwen' matches no sample; models present: codellama_instruct, llama3.1_instruct, mistral_instruct_v3, "
        "qwen_coder_2.5, qwen_coder_2.5_32b"
    )
