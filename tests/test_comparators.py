"""The named stdin-test comparators, each on the edge cases its dataset's judge decides in its own way."""

from __future__ import annotations

import pytest

from acecoder.data.schema import DataError
from acecoder.execution.comparators import COMPARATORS, compare, get_comparator
from acecoder.execution.testkinds import StdinTest, parse_test

# (actual, expected) -> verdict per comparator: exact, livecodebench, codecontests, apps
CASES = [
    ("3\n", "3", (True, True, True, True)),  # print's newline
    ("3\r\n", "3\n", (True, True, True, True)),  # CRLF
    ("3 \n", "3", (False, True, True, True)),  # trailing space
    ("1 2\n", "1  2", (False, True, True, True)),  # inner spacing
    ("1\n\n2\n", "1\n2", (False, False, True, True)),  # a blank line inside
    ("\n\n1\n2\n\n", "1\n2", (False, True, True, True)),  # blank lines around
    ("100\n", "1e2", (False, True, True, True)),  # a number written two ways
    ("1.0\n", "1", (False, True, True, True)),
    ("0.3333333\n", "0.3333334", (False, False, True, True)),  # within 1e-5 / allclose
    ("0.333\n", "0.334", (False, False, False, False)),  # outside every tolerance (apps rounds to 3 places)
    ("YES\n", "yes", (False, False, True, False)),  # case
    ("2 1\n", "1 2", (False, False, False, True)),  # token order (apps compares token sets)
    ("b\na\n", "a\nb", (False, False, False, True)),  # line order (apps compares the set of lines)
    ("1 2", "1\n2", (False, False, True, False)),  # tokens on other lines (apps: other line sets)
    ("", "0", (False, False, False, False)),  # nothing printed
    ("12", "1", (False, False, False, False)),  # a prefix is not a match
    ("1", "12", (False, False, False, False)),
    ("abc\n", "abd", (False, False, False, False)),
]
NAMES = ("exact", "livecodebench", "codecontests", "apps")


def test_lines_is_livecodebench_without_numbers():
    for actual, expected, verdicts in CASES:
        lcb = verdicts[1]
        stripped = [x.strip() for x in actual.strip().split("\n")] == [
            x.strip() for x in expected.strip().split("\n")
        ]
        assert compare("lines", actual, expected) == stripped
        assert not stripped or lcb  # every lines match is a LiveCodeBench match
    assert not compare("lines", "100", "1e2") and compare("lines", " a \n b \n", "a\nb")


@pytest.mark.parametrize(("actual", "expected", "verdicts"), CASES)
def test_comparators_on_edge_cases(actual, expected, verdicts):
    got = tuple(compare(name, actual, expected) for name in NAMES)
    assert got == verdicts, f"{actual!r} vs {expected!r}: {dict(zip(NAMES, got, strict=False))}"


def test_livecodebench_is_the_official_rule():
    # Decimal equality, no tolerance: the digits must denote the same number
    assert compare("livecodebench", "0.50\n", "0.5")
    assert not compare("livecodebench", "0.5000001", "0.5")
    assert compare("livecodebench", "-0", "0")
    # a line matches as a whole or token by token, and every token must be a number for the second
    assert not compare("livecodebench", "1 x", "1.0 x")
    assert compare("livecodebench", "1.0 2", "1 2.00")
    # NaN is never equal; a signalling NaN makes Decimal raise: not a pass, not a crash
    assert not compare("livecodebench", "NaN", "nan ")
    assert not compare("livecodebench", "sNaN", "snan")
    assert compare("livecodebench", "sNaN", "sNaN ")  # the same text matches before any Decimal
    # huge integers compare exactly (Decimal, not float)
    assert not compare("livecodebench", "10000000000000000000001", "10000000000000000000000")


def test_codecontests_is_the_official_rule():
    # ints (int32) compare exactly, anything else numeric within an absolute 1e-5
    assert compare("codecontests", "0.1", "0.100009")
    assert not compare("codecontests", "0.1", "0.10002")
    assert not compare("codecontests", "1000000", "1000001")
    # beyond int32 both sides parse as doubles, as absl::SimpleAtoi fails there
    assert compare("codecontests", "10000000000000000", "10000000000000001")
    # equal token lists pass even where ValuesMatch would not (inf - inf is nan)
    assert compare("codecontests", "inf", "INF")
    assert not compare("codecontests", "inf 1", "inf 2")
    assert compare("codecontests", "Hello\tWorld", "hello world")


def test_apps_float_and_rounding_checks():
    assert compare("apps", "0.30000001\n", "0.3")  # np.allclose, line by line
    assert compare("apps", "3.14159\n", "3.1416")  # the token sets rounded to 3 places
    assert not compare("apps", "1\n2\n", "1\n2\n3")  # a missing line is not forgiven
    assert compare("apps", "1 1 2\n", "2 1")  # repeats are (its token sets are sets)


def test_exact_is_strict_apart_from_line_endings():
    assert compare("exact", "a\nb\n\n", "a\nb")
    assert not compare("exact", "a\n b", "a\nb")
    assert not compare("exact", "A", "a")


def test_unknown_comparators_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown comparator 'fuzzy'; known: exact, livecodebench"):
        compare("fuzzy", "1", "1")
    with pytest.raises(DataError, match=r"test_cases.*'comparator' must be one of"):
        parse_test({"stdin": "", "stdout": "1", "comparator": "fuzzy"})
    assert parse_test({"stdin": "", "stdout": "1", "comparator": "apps"}) == StdinTest("", "1", "apps")


def test_every_comparator_is_documented_in_the_module_table():
    import acecoder.execution.comparators as module

    for name, comparator in COMPARATORS.items():
        assert get_comparator(name) is comparator
        assert f"``{name}``" in (module.__doc__ or ""), name
        assert comparator.summary
