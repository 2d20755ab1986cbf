"""Table 1 statistics: before/after filtering per source, pairs from pair files or from pass rates."""

from __future__ import annotations

import json

from acecoder.data import write_rows
from acecoder.synthesis.stats import format_table1, table1, table1_file


def synth_row(i, source, n_tests):
    return {
        "id": f"{source}_{i}",
        "source": source,
        "question": "q",
        "test_cases": [f"assert f({j}) == {j}" for j in range(n_tests)],
    }


def filtered_row(i, source, before, after):
    row = synth_row(i, source, after)
    row["n_tests_before"] = before
    return row


def by_source(cols):
    return {c.source: c for c in cols}


def test_unfiltered_rows_are_the_before_figures():
    cols = by_source(table1([synth_row(0, "evol", 20), synth_row(1, "evol", 10), synth_row(2, "oss", 4)]))
    assert cols["evol"].examples_before == 2 and cols["evol"].avg_tests_before == 15
    assert cols["evol"].examples_after is None and cols["Overall"].examples_before == 3
    assert cols["Overall"].tests_before == 34 and cols["Overall"].pairs is None


def test_filtered_rows_with_and_without_the_before_set():
    before = [synth_row(0, "evol", 20), synth_row(1, "evol", 10), synth_row(2, "oss", 4)]
    after = [filtered_row(0, "evol", 20, 16)]
    partial = by_source(table1(after))
    assert partial["evol"].before_partial and partial["evol"].examples_before == 1
    assert partial["evol"].avg_tests_after == 16
    full = by_source(table1(after, before_rows=before))
    assert not full["evol"].before_partial and full["evol"].examples_before == 2
    assert full["oss"].examples_before == 1 and full["oss"].examples_after == 0
    assert full["Overall"].examples_after == 1 and full["Overall"].avg_tests_after == 16
    text = format_table1(list(full.values()))
    assert "Evol" in text and "OSS" in text and "*" not in text
    assert "*" in format_table1(list(partial.values()))


def test_filter_summary_beside_the_file_gives_the_before_figures(tmp_path):
    path = tmp_path / "f.jsonl"
    write_rows(path, [filtered_row(0, "oss", 12, 8), filtered_row(1, "oss", 10, 6)])
    summary = {
        "rows_in": 5,
        "by_source": {"oss": {"rows_in": 5, "tests_before": 50, "rows_out": 2, "tests_after": 14}},
    }
    (tmp_path / "f.jsonl.summary.json").write_text(json.dumps(summary))
    cols = by_source(table1_file(path))
    assert cols["oss"].examples_before == 5 and cols["oss"].avg_tests_before == 10
    assert cols["oss"].examples_after == 2 and cols["oss"].avg_tests_after == 7


def test_pairs_from_a_pair_file_and_from_pass_rates(tmp_path):
    rows = [filtered_row(0, "evol", 10, 5), filtered_row(1, "oss", 10, 5)]
    rows[0]["inferences"] = [
        {"model_name": "m", "completion_id": 0, "completion": "a", "pass_rate": 1.0},
        {"model_name": "m", "completion_id": 1, "completion": "b", "pass_rate": 0.2},
        {"model_name": "m", "completion_id": 2, "completion": "c", "pass_rate": 0.0},
    ]
    cols = by_source(table1(rows))
    assert cols["evol"].pairs == 1 and cols["oss"].pairs == 0 and cols["Overall"].pairs == 1
    assert "#Pairs" in format_table1(list(cols.values()), "markdown")
    pair_rows = [
        {"id": "oss_1/0-1", "question_id": "oss_1", "chosen": "x", "rejected": "y"},
        {"id": "oss_1/0-2", "question_id": "oss_1", "chosen": "x", "rejected": "z"},
        {"id": "zzz/0-1", "chosen": "x", "rejected": "y", "source": "evol"},
    ]
    cols = by_source(table1(rows, pair_rows=pair_rows, count_pairs=False))
    assert cols["oss"].pairs == 2 and cols["evol"].pairs == 1


def test_formats():
    cols = table1([synth_row(0, "bigcode_python_fns", 3)])
    text = format_table1(cols)
    assert text.splitlines()[0].split() == ["Subset", "Stack", "Python", "Overall"]
    assert json.loads(format_table1(cols, "json"))[0]["avg_tests_before"] == 3
    assert format_table1(cols, "markdown").startswith("| Subset | Stack Python | Overall |")
