"""The shared sampling prompt template and code extraction from model answers."""

from __future__ import annotations

import json

import pytest

from acecoder.sampling.extract import extract_code, strip_trailing_tests, trim_prose
from acecoder.sampling.prompt import (
    ACECODEPAIR_TEMPLATE,
    PREFILL_SENTENCE,
    SAMPLING_TEMPLATE,
    PromptTemplate,
    get_prompt_template,
    load_prompt_template,
)

INSTRUCTION = "Please provide a self-contained Python script that solves the following problem in a markdown code block:"
TESTS = ["assert f(1) == 2 ", "assert f(2) == 3", "assert f(3) == 4"]


# ---- prompt template -------------------------------------------------------------------------------------------


def test_sampling_prompt_is_the_release_wording_with_the_first_two_tests():
    assert SAMPLING_TEMPLATE.user_message("Add one.", TESTS) == (
        INSTRUCTION + '\n```\n"""\nAdd one.\nassert f(1) == 2 \nassert f(2) == 3\n"""\n```\n'
    )
    assert SAMPLING_TEMPLATE.messages("Add one.", TESTS) == [
        {"role": "user", "content": SAMPLING_TEMPLATE.user_message("Add one.", TESTS)},
        {"role": "assistant", "content": PREFILL_SENTENCE + "\n```python"},
    ]
    assert SAMPLING_TEMPLATE.messages("q", TESTS, with_prefill=False)[-1]["role"] == "user"
    assert PREFILL_SENTENCE == (
        "Below is a Python script with a self-contained function that solves the problem and passes "
        "corresponding tests:"
    )


def test_acecodepair_prompt_has_one_stripped_test_and_a_blank_line_before_the_fence():
    assert ACECODEPAIR_TEMPLATE.user_message("Add one.", TESTS) == (
        INSTRUCTION + '\n```\n"""\nAdd one.\nassert f(1) == 2\n"""\n\n```\n'
    )
    assert ACECODEPAIR_TEMPLATE.answer_text("def f(x):\n    return x + 1") == (
        PREFILL_SENTENCE + "\n```python\ndef f(x):\n    return x + 1\n```"
    )


def test_test_count_and_missing_tests():
    everything = PromptTemplate(num_tests=-1)
    assert everything.shown_tests(TESTS) == TESTS
    assert PromptTemplate(num_tests=5).shown_tests(TESTS[:1]) == TESTS[:1]
    assert SAMPLING_TEMPLATE.user_message("q", None).endswith('"""\nq\n\n"""\n```\n')


def test_braces_in_questions_and_templates_stay_verbatim():
    question = "Return {'a': {x}} for {tests} and {0}."
    assert question in SAMPLING_TEMPLATE.user_message(question, [])
    template = PromptTemplate(user="Solve {question}. Return a dict like {'k': 1} {unknown}.\n{tests}")
    assert template.user_message("it", ["t"]) == "Solve it. Return a dict like {'k': 1} {unknown}.\nt"


def test_templates_need_their_placeholders():
    with pytest.raises(ValueError, match=r"\{question\}"):
        PromptTemplate(user="no placeholder")
    with pytest.raises(ValueError, match=r"\{program\}"):
        PromptTemplate(answer="{prefill}")


def test_load_template_from_text_yaml_and_json(tmp_path):
    text = tmp_path / "prompt.txt"
    text.write_text("Q: {question}\nT: {tests}\n", encoding="utf-8")
    loaded = load_prompt_template(text)
    assert loaded.user == "Q: {question}\nT: {tests}\n"
    assert loaded.prefill == SAMPLING_TEMPLATE.prefill and loaded.num_tests == 2

    yaml_file = tmp_path / "prompt.yaml"
    yaml_file.write_text("user: 'Q: {question}'\nprefill: 'Sure:'\nnum_tests: 1\n", encoding="utf-8")
    loaded = load_prompt_template(yaml_file)
    assert (loaded.user, loaded.prefill, loaded.num_tests) == ("Q: {question}", "Sure:", 1)
    assert loaded.messages("x", TESTS)[1] == {"role": "assistant", "content": "Sure:"}

    json_file = tmp_path / "prompt.json"
    json_file.write_text(json.dumps({"answer": "<{program}>", "strip_tests": True}), encoding="utf-8")
    loaded = load_prompt_template(json_file, base=ACECODEPAIR_TEMPLATE)
    assert loaded.answer_text("p") == "<p>" and loaded.user == ACECODEPAIR_TEMPLATE.user

    assert get_prompt_template(None) is SAMPLING_TEMPLATE
    assert get_prompt_template("acecodepair") is ACECODEPAIR_TEMPLATE
    assert get_prompt_template(str(text)).user == "Q: {question}\nT: {tests}\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.yaml", "num_tests: two\n", "'num_tests' must be an integer"),
        ("bad.yaml", "user: hi\n", r"no \{question\} placeholder"),
        ("bad.json", '{"usr": "{question}"}', r"unknown key\(s\) \['usr'\]"),
        ("bad.json", "[1, 2]", "expected a mapping"),
        ("bad.json", "{oops", "invalid JSON"),
        ("bad.txt", "no placeholder here", r"no \{question\} placeholder"),
    ],
)
def test_bad_template_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        load_prompt_template(path)
    assert str(path) in str(info.value)


def test_missing_template_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        load_prompt_template(tmp_path / "absent.txt")


# ---- code extraction -------------------------------------------------------------------------------------------

FUNC_WITH_ASSERT = "def f(x):\n    assert x > 0, 'positive only'\n    return x + 1\n"


def test_an_assert_inside_a_function_is_kept_the_release_bug_is_not_reproduced():
    assert extract_code(FUNC_WITH_ASSERT) == FUNC_WITH_ASSERT
    method = "class A:\n    def g(self, y):\n        assert y\n        return y\n"
    assert extract_code(method + "\nassert A().g(1) == 1\n") == method


def test_trailing_module_level_tests_are_removed():
    answer = FUNC_WITH_ASSERT + "\n# Tests\nassert f(1) == 2\nassert f(2) == 3\nprint(f(5))\n"
    assert extract_code(answer) == FUNC_WITH_ASSERT
    assert extract_code(answer, strip_tests=False) == answer


def test_prefill_continuation_ends_at_the_closing_fence():
    answer = "\n" + FUNC_WITH_ASSERT + "```\n\nThis adds one.\n\n```python\nprint(f(1))\n```\n"
    assert extract_code(answer) == "\n" + FUNC_WITH_ASSERT
    assert extract_code(answer, continuation=True) == "\n" + FUNC_WITH_ASSERT


def test_continuation_without_a_closing_fence_and_with_a_language_tag():
    assert extract_code("\n" + FUNC_WITH_ASSERT) == "\n" + FUNC_WITH_ASSERT
    assert extract_code("python\n" + FUNC_WITH_ASSERT + "```") == FUNC_WITH_ASSERT


def test_a_prose_intro_before_a_bare_fence_is_not_a_continuation():
    answer = "Here is the solution:\n```\n" + FUNC_WITH_ASSERT + "```\nIt adds one.\n"
    assert extract_code(answer) == FUNC_WITH_ASSERT
    # The caller can say so explicitly too.
    assert extract_code(answer, continuation=False) == FUNC_WITH_ASSERT


def test_markdown_answer_takes_the_first_python_block():
    answer = "Install:\n```bash\npip install x\n```\nCode:\n```python\n" + FUNC_WITH_ASSERT + "```\nUsage:\n"
    assert extract_code(answer) == FUNC_WITH_ASSERT
    answer = "```python\n" + FUNC_WITH_ASSERT + "\nassert f(1) == 2\n```\nExplanation: it adds one."
    assert extract_code(answer) == FUNC_WITH_ASSERT


def test_trailing_and_leading_prose_are_cut():
    answer = FUNC_WITH_ASSERT + "\nThis function adds one.\nIt's simple:\n- fast\n"
    assert extract_code(answer) == FUNC_WITH_ASSERT
    assert extract_code("Sure! Here's the code.\n" + FUNC_WITH_ASSERT) == FUNC_WITH_ASSERT
    assert extract_code(FUNC_WITH_ASSERT + "\nExplanation:\n1. The function checks x.\n") == FUNC_WITH_ASSERT
    assert trim_prose(FUNC_WITH_ASSERT) == FUNC_WITH_ASSERT


def test_a_broken_program_is_never_shortened_into_a_working_one():
    broken = "def f(x):\n    return x + 1\n\ndef g(:\n    return 2\n\nassert f(1) == 2\n"
    assert extract_code(broken) == broken
    unclosed = "def f(x):\n    return (x + 1\n\nassert f(1) == 2\n"
    assert extract_code(unclosed) == unclosed
    misplaced = "def f(x):\n    y = x + 1\nreturn y if y else x\n"
    assert extract_code(misplaced) == misplaced
    only_prose = "\n## Title\n\nThis is a description of the approach.\n\n### Code\n"
    assert extract_code(only_prose) == only_prose


def test_main_block_without_stdin_is_removed_but_stdin_programs_keep_theirs():
    with_main = FUNC_WITH_ASSERT + "\nif __name__ == '__main__':\n    print(f(2))\n    assert f(3) == 4\n"
    assert extract_code(with_main) == FUNC_WITH_ASSERT
    stdin = "def main():\n    n = int(input())\n    print(n + 1)\n\nif __name__ == '__main__':\n    main()\n"
    assert extract_code(stdin) == stdin
    argv = "import sys\n\ndef f():\n    return sys.argv\n\nif __name__ == '__main__':\n    print(f())\n"
    assert extract_code(argv) == argv


def test_test_data_is_removed_unless_the_program_reads_it():
    looped = FUNC_WITH_ASSERT + "\ncases = [(1, 2), (2, 3)]\nfor x, want in cases:\n    assert f(x) == want\n"
    assert extract_code(looped) == FUNC_WITH_ASSERT
    table = "def f(x):\n    return TABLE[x]\n\nTABLE = {1: 2}\nassert f(1) == 2\n"
    assert extract_code(table) == "def f(x):\n    return TABLE[x]\n\nTABLE = {1: 2}\n"
    shadow = "def add(a, b):\n    return a + b\n\na = 1\nb = 2\nassert add(a, b) == 3\n"
    assert extract_code(shadow) == "def add(a, b):\n    return a + b\n"
    usage_only = FUNC_WITH_ASSERT + "\nf(3)\n"  # a bare call may be a script's entry point: kept
    assert extract_code(usage_only) == usage_only


def test_test_functions_classes_and_runners_are_removed():
    answer = (
        FUNC_WITH_ASSERT
        + "\nimport pytest\n\n@pytest.mark.parametrize('x', [1])\ndef test_f(x):\n    assert f(x) == 2\n"
        + "\nimport unittest\n\nclass Checks(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(f(1), 2)\n"
        + "\nif __name__ == '__main__':\n    unittest.main()\n"
    )
    assert extract_code(answer) == FUNC_WITH_ASSERT


def test_nothing_but_tests_or_tests_on_the_programs_line_stay():
    assert strip_trailing_tests("assert 1 == 1\n") == "assert 1 == 1\n"
    same_line = "x = 1; assert x == 1\n"
    assert strip_trailing_tests(same_line) == same_line


def test_chat_header_and_crlf():
    answer = "<|start_header_id|>assistant<|end_header_id|>\n\n" + FUNC_WITH_ASSERT
    assert extract_code(answer) == FUNC_WITH_ASSERT
    crlf = "def f(x):\r\n    return x\r\n\r\nassert f(1) == 1\r\n"
    assert extract_code(crlf) == "def f(x):\r\n    return x\r\n"


def test_released_completions(shared_data):
    """The released AceCode completions are already programs: those that end with a truncated pytest function
    or with example prints lose exactly that tail; the rest come back unchanged."""
    row = json.loads(
        (shared_data / "acecode/acecode87k_sample_open_instruct.jsonl").read_text().splitlines()[0]
    )
    changed = []
    for inference in row["inferences"]:
        code = extract_code(inference["completion"])
        if code != inference["completion"]:
            changed.append(code)
            assert inference["completion"].startswith(code.rstrip("\n"))
            assert "def parse_tokens" in code and "test_" not in code and "print(" not in code
    assert len(changed) == 4
