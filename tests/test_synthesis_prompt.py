"""The synthesis prompt: the paper's Table 7 default, both variants, and templates from files."""

from __future__ import annotations

import pytest

from acecoder.data import DataError
from acecoder.synthesis.prompt import SynthesisPrompt, default_template, load_template

PROGRAM = "def f(d):\n    return {k: v for k, v in d.items()}  # {instruction} stays\n"


def test_default_is_the_papers_prompt_with_both_variants():
    t = default_template()
    assert t.system == "You are an AI assistant that helps people with python coding tasks."
    with_inst = t.messages(PROGRAM, "Copy a dict.")
    assert [m["role"] for m in with_inst] == ["system", "user"]
    user = with_inst[1]["content"]
    assert user.startswith("You are the latest and best bot aimed at transforming some code snippet")
    assert "Here is the original question:\nCopy a dict.\n" in user
    assert "```python\n" + PROGRAM.rstrip("\n") + "\n```" in user
    assert "create around 20 test cases" in user
    assert user.rstrip().endswith('{"question": ..., "tests":["assert ...", "assert ..."]}.')
    only = t.messages(PROGRAM)[1]["content"]
    assert (
        "Here is the original question" not in only
        and "You will be provided with a reference program." in only
    )
    assert "{instruction} stays" in only  # placeholders are not re-expanded inside the program


def test_blank_instruction_uses_the_program_only_variant():
    t = default_template()
    assert t.messages(PROGRAM, "  ")[1]["content"] == t.messages(PROGRAM, None)[1]["content"]


def test_yaml_template_file(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "system: null\nwith_instruction: 'Q: {instruction} P: {program}'\nprogram_only: 'P: {program} {x}'\n"
    )
    t = load_template(path)
    assert t.messages("code", "do it") == [{"role": "user", "content": "Q: do it P: code"}]
    assert t.messages("code") == [{"role": "user", "content": "P: code {x}"}]
    assert t.fingerprint != default_template().fingerprint


def test_text_template_file_serves_both_variants(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Make a question from {program}. Hint: {instruction}")
    t = load_template(path)
    assert t.messages("code")[-1]["content"] == "Make a question from code. Hint: "
    assert t.system == default_template().system


@pytest.mark.parametrize(
    "text, match",
    [
        ("with_instruction: 'x {program}'\n", "program_only"),
        ("with_instruction: 'x'\nprogram_only: 'y {program}'\n", "no {program}"),
        ("with_instruction: 'x {program}'\nprogram_only: 'y {program}'\nextra: 1\n", "unknown keys"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_bad_template_files(tmp_path, text, match):
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(DataError, match=match):
        load_template(path)


def test_missing_template_file(tmp_path):
    with pytest.raises(DataError, match="no such template"):
        load_template(tmp_path / "none.yaml")
    with pytest.raises(DataError, match=r"no \{program\}"):
        (tmp_path / "t.txt").write_text("no placeholder")
        load_template(tmp_path / "t.txt")


def test_prompt_is_a_value():
    a = SynthesisPrompt("a {program}", "b {program}")
    assert (
        a == SynthesisPrompt("a {program}", "b {program}")
        and a.fingerprint == SynthesisPrompt("a {program}", "b {program}").fingerprint
    )
