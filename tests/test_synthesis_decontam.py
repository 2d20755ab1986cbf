"""Decontamination against the bundled HumanEval(+)/MBPP(+) problem texts."""

from __future__ import annotations

import gzip
import json

import pytest

from acecoder.synthesis.decontam import BUNDLED_BENCHMARKS, Decontaminator, bundled_documents, file_documents


@pytest.fixture(scope="module")
def index():
    return Decontaminator.bundled()


def test_bundled_texts_cover_every_benchmark():
    docs = bundled_documents()
    counts = {b: sum(d[0] == b for d in docs) for b in BUNDLED_BENCHMARKS}
    assert counts["humaneval"] == 164 and counts["mbpp"] == 974 and counts["mbpp+"] == 399
    assert counts["humaneval+"] >= 1  # only prompts that differ from HumanEval's


def test_humaneval_paraphrase_with_a_copied_sentence_is_a_hit(index):
    question = (
        "You are given a list of floats. Check if in given list of numbers, are any two numbers closer to each "
        "other than given threshold. Return a boolean."
    )
    hit = index.check(question)
    assert hit is not None and (hit.benchmark, hit.task_id) == ("humaneval", "HumanEval/0")


def test_short_mbpp_problem_contained_in_a_question_is_a_hit(index):
    hit = index.check("Task: Write a function to find the nth hexagonal number. Input: an integer n >= 1.")
    assert hit is not None and hit.benchmark == "mbpp" and hit.task_id == "Mbpp/135"


def test_identifier_and_prose_spellings_agree(index):
    assert (
        index.check(
            "def has_close_elements(numbers: List[float], threshold: float) -> bool: Check if in given list of numbers, are any two numbers closer"
        )
        is not None
    )


def test_unrelated_and_generic_questions_are_misses(index):
    assert index.check("Given a list of integers, return the sum of their squares.") is None
    assert (
        index.check("Write a function that parses an ISO 8601 date string and returns the weekday name.")
        is None
    )
    assert index.check("Write a function to find") is None  # shorter than any benchmark problem
    assert index.check("") is None


def test_limited_benchmarks_and_ngram_size():
    he_only = Decontaminator.bundled(["humaneval"])
    assert he_only.check("Write a function to find the nth hexagonal number.") is None
    with pytest.raises(ValueError, match="unknown benchmarks"):
        Decontaminator.bundled(["apps"])
    tiny = Decontaminator([("b", "1", "alpha beta gamma delta")], n=3, min_tokens=2)
    assert tiny.check("x alpha beta gamma y") is not None and tiny.check("alpha beta") is None


def test_extra_benchmark_file(tmp_path):
    path = tmp_path / "lcb.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write(
            json.dumps(
                {
                    "task_id": "lcb/1",
                    "question": "Given a string s of lowercase letters, count vowels that appear in the first half of s.",
                }
            )
            + "\n"
        )
    docs = file_documents(path)
    assert docs[0][:2] == ("lcb", "lcb/1")
    index = Decontaminator.bundled([], extra_files=[path], n=8)
    assert (
        index.check("Count vowels: given a string s of lowercase letters, count vowels that appear in it.")
        is not None
    )
