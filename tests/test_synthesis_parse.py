"""Parsing synthesis answers: fenced or bare JSON, prose around it, lenient JSON, truncation, junk."""

from __future__ import annotations

import json
import time

import pytest

from acecoder.synthesis.parse import (
    MALFORMED_REASONS,
    normalize_lenient_json,
    parse_answer,
    repair_truncated_json,
)
from llm_fake_server import fenced, truncated, with_junk

TESTS = [f"assert double({i}) == {2 * i}" for i in range(20)]
ANSWER = {"question": "Write `double(x)` returning 2 * x.", "tests": TESTS}
TEXT = json.dumps(ANSWER)


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        fenced(TEXT),
        fenced(TEXT, lang=""),
        with_junk(fenced(TEXT)),
        with_junk(TEXT),
        "```json\n" + TEXT,  # fence never closed
        "Here it is:\n```python\nprint('not this')\n```\n```json\n" + TEXT + "\n```",
        json.dumps(ANSWER, indent=4),
    ],
)
def test_complete_answers_in_any_wrapping(text):
    p = parse_answer(text)
    assert p.ok and p.method == "json"
    assert p.question == ANSWER["question"] and p.tests == TESTS


@pytest.mark.parametrize("cut", range(len(TEXT) - 60, len(TEXT)))
def test_truncated_answer_keeps_every_complete_test(cut):
    p = parse_answer(TEXT[:cut])
    assert p.ok and p.method == "repaired"
    assert p.tests == TESTS[: len(p.tests)]
    complete = sum(TEXT.find(json.dumps(t)) + len(json.dumps(t)) <= cut for t in TESTS)
    assert len(p.tests) == complete


def test_truncated_inside_fence_and_at_every_structural_point():
    for frac in (0.2, 0.5, 0.9):
        p = parse_answer("Sure! Here you go:\n```json\n" + truncated(TEXT, frac))
        assert p.ok and p.tests == TESTS[: len(p.tests)]
    assert parse_answer('{"question": "q", "tests": [').tests == []
    assert parse_answer('{"question": "q", "tests": ["assert f(1) == 1",').tests == ["assert f(1) == 1"]
    assert parse_answer('{"question": "q", "tests": ["assert f(1) == 1", "assert f(2').tests == [
        "assert f(1) == 1"
    ]


def test_truncated_before_anything_usable():
    assert parse_answer('{"question": "Write a func').error == "invalid_json"  # nothing salvaged
    assert parse_answer('{"quest').error == "invalid_json"  # nothing salvaged
    assert parse_answer('{"question": "q"').error == "missing_tests"


def test_nested_truncation_closes_every_open_container():
    text = '{"question": "q", "meta": {"a": [1, {"b": [2, 3'
    assert json.loads(repair_truncated_json(text)) == {"question": "q", "meta": {"a": [1, {"b": [2]}]}}
    assert repair_truncated_json("no json") is None


def test_numbers_and_literals_cut_mid_token_are_dropped():
    assert json.loads(repair_truncated_json('{"a": [1, 22, tru')) == {"a": [1, 22]}
    assert json.loads(repair_truncated_json('{"a": [1, 2.5')) == {"a": [1]}
    assert json.loads(repair_truncated_json('{"a": 1, "b": nul')) == {"a": 1}


def test_repair_is_linear_time():
    big = json.dumps({"question": "q", "tests": [f"assert f({i}) == {i}" for i in range(20000)]})
    start = time.perf_counter()
    p = parse_answer(big[:-5])
    assert p.ok and len(p.tests) == 19999
    assert time.perf_counter() - start < 5  # the release's cut-one-char-and-retry loop takes minutes here


def test_lenient_python_literal_answer():
    text = "{'question': 'Q', 'tests': ['assert f(1) == True', 'assert f(\\'a\\') is None',], }"
    p = parse_answer(text)
    assert p.ok and p.method == "lenient"
    assert p.tests == ["assert f(1) == True", "assert f('a') is None"]


def test_lenient_invalid_escape_and_unescaped_quotes():
    p = parse_answer('{"question": "Q", "tests": ["assert f(\'it\\\'s\') == 1", "assert f("a") == 2"]}')
    assert p.ok and p.method == "lenient"
    assert p.tests == ["assert f('it\\'s') == 1", 'assert f("a") == 2']
    p = parse_answer('{"question": "Q\nwith a raw newline", "tests": ["assert f(1) == 1"]}')
    assert p.ok and p.question == "Q\nwith a raw newline"


def test_normalize_leaves_strings_alone():
    assert normalize_lenient_json('{"a": "True, ]", "b": True,}') == '{"a": "True, ]", "b": true}'


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty_answer"),
        ("   \n", "empty_answer"),
        (None, "empty_answer"),
        ("I'm sorry, I cannot help with that.", "no_json_object"),
        ("{ this is not json at all", "invalid_json"),
        ('{"tests": ["assert f(1) == 1"]}', "missing_question"),
        ('{"question": "", "tests": []}', "missing_question"),
        ('{"question": "q"}', "missing_tests"),
        ('{"question": "q", "tests": {"a": 1}}', "tests_not_a_list"),
    ],
)
def test_malformed_answers_say_why(text, reason):
    p = parse_answer(text)
    assert not p.ok and p.error == reason and reason in MALFORMED_REASONS


def test_not_an_object_and_deep_nesting_do_not_crash():
    assert parse_answer("```json\n[1, 2]\n```\n{").error in ("not_an_object", "invalid_json")
    assert parse_answer('{"question": "q", "tests": ' + "[" * 100_000).error == "invalid_json"


def test_tests_as_one_string_and_key_variants():
    p = parse_answer('{"Question": "Q", "test_cases": "assert f(1) == 1\\nassert f(2) == 2\\n"}')
    assert p.ok and p.tests == ["assert f(1) == 1", "assert f(2) == 2"]


def test_first_good_candidate_wins():
    text = fenced('{"note": "draft"}') + "\n" + fenced(TEXT)
    p = parse_answer(text)
    assert p.ok and p.tests == TESTS
