"""Validating synthesized tests: one assert, calls the function, constant arguments, no I/O, no duplicates."""

from __future__ import annotations

import pytest

from acecoder.synthesis.validate import DROP_REASONS, check_test, find_entry_point, validate_tests


@pytest.mark.parametrize(
    "test",
    [
        "assert f(1) == 2",
        "assert f([1, 2], k=-3) == [float('inf')]",
        "assert f('a' * 3, (1, 2), {'a': {1, 2}}) is None",
        "assert abs(f(0.5) - 0.25) < 1e-9",
        "assert math.isclose(f(2.0), 1.4142, rel_tol=1e-3)",
        "assert f(math.pi) == 3",
        "assert sorted(f([3, 1, 2])) == [1, 2, 3]",
        "assert f(list(range(5))) == 10, 'sum of 0..4'",
        "assert f(b'ab', None, True) == f'{1}x'",
        "assert f(*[1, 2]) == 3",
        "assert f([1, 2][0]) == 1",
        "assert all(x > 0 for x in f(3))",
        "  assert f(1) == 2  ",
        "assert isinstance(f(1), int)",
        "assert f(\n    1,\n    2,\n) == 3",
    ],
)
def test_valid_tests(test):
    assert check_test(test, "f") is None


@pytest.mark.parametrize(
    "test, reason",
    [
        (5, "not_a_string"),
        (None, "not_a_string"),
        ("   ", "empty"),
        ("assert f(", "syntax_error"),
        ("assert f(1) == 2 extra", "syntax_error"),
        ("f(1) == 2", "not_single_assert"),
        ("x = f(1)", "not_single_assert"),
        ("assert f(1) == 2; assert f(2) == 4", "not_single_assert"),
        ("assert f(1) == 2\nassert f(2) == 4", "not_single_assert"),
        ("import os\nassert f(1)", "not_single_assert"),
        ("def test():\n    assert f(1) == 2", "not_single_assert"),
        ("assert f(open('data.txt').read()) == 1", "io"),
        ("assert f(1) == print(2)", "io"),
        ("assert f(input()) == 1", "io"),
        ("assert f(os.getcwd()) == 1", "io"),
        ("assert f(sys.maxsize) == 1", "io"),
        ("assert f(__import__('os')) == 1", "io"),
        ("assert f(().__class__.__bases__) == 1", "io"),
        ("assert f(eval('1')) == 1", "io"),
        ("assert f(random.random()) < 1", "io"),
        ("assert g(1) == 2", "no_function_call"),
        ("assert True", "no_function_call"),
        ("assert obj.f(1) == 2", "no_function_call"),
        ("assert f(x) == 1", "non_constant_args"),
        ("assert f(g(1)) == 1", "non_constant_args"),
        ("assert f(f(1)) == 1", "non_constant_args"),
        ("assert f(lambda x: x) == 1", "non_constant_args"),
        ("assert f(TreeNode(1)) == 1", "non_constant_args"),
        ("assert f(1, key=y) == 1", "non_constant_args"),
        ("assert f([i for i in range(3)]) == 3", "non_constant_args"),
        ("assert f(1) == expected", "free_name"),
        ("assert np.allclose(f(1), 2)", "free_name"),
    ],
)
def test_invalid_tests_say_why(test, reason):
    assert check_test(test, "f") == reason
    assert reason in DROP_REASONS


def test_validate_counts_drops_and_removes_duplicates():
    tests = [
        "assert f(1) == 2",
        "assert f(1)==2",  # same syntax tree
        "assert f( 1 ) == 2  ",
        "assert f(2) == 4",
        "assert f(x) == 1",
        "assert open('a')",
        "garbage(",
        42,
        "assert f(2) == 4, 'message differs'",
    ]
    v = validate_tests(tests, question="Write f.")
    assert v.entry_point == "f"
    assert v.kept == ["assert f(1) == 2", "assert f(2) == 4", "assert f(2) == 4, 'message differs'"]
    assert v.dropped == {
        "duplicate": 2,
        "non_constant_args": 1,
        "io": 1,
        "syntax_error": 1,
        "not_a_string": 1,
    }
    assert v.n_raw == len(tests)


def test_entry_point_by_majority_then_question_then_order():
    import ast

    trees = [
        ast.parse(t).body[0] for t in ["assert a(1) == b(2)", "assert b(3) == 1", "assert len(c(1)) == 2"]
    ]
    assert find_entry_point(trees) == "b"
    tied = [ast.parse(t).body[0] for t in ["assert a(1) == 1", "assert b(1) == 1"]]
    assert find_entry_point(tied) == "a"
    assert find_entry_point(tied, "Implement the function `b`.") == "b"
    assert find_entry_point([ast.parse("assert len([1]) == 1").body[0]]) is None


def test_given_entry_point_overrides_majority():
    v = validate_tests(["assert g(1) == 1", "assert g(2) == 2", "assert f(3) == 3"], entry_point="f")
    assert v.kept == ["assert f(3) == 3"] and v.dropped == {"no_function_call": 2}


def test_no_function_at_all():
    v = validate_tests(["assert True", "assert 1 == 1"])
    assert v.entry_point is None and v.kept == [] and v.dropped == {"no_function_call": 2}
