"""Test augmentation: reading calls, domain-keeping mutation of every value type, reference checks in the engine,
asserts in the row's style, the consensus reference, renaming, bad rows, and the mutation score."""

from __future__ import annotations

import random
import re

import pytest

from acecoder.augmentation import ConsensusSource, OracleSource, Settings, augment_batch, mutants, read_calls
from acecoder.augmentation.calls import Call, Style, canonical, defined_names
from acecoder.augmentation.domain import RULES, admits, balanced, profile, relations
from acecoder.augmentation.mutate import generate, mutate_value, seed_of
from acecoder.augmentation.render import matches, render_assert
from acecoder.execution import ExecutionEngine, Limits
from acecoder.synthesis import FieldOracle

ALL = frozenset(RULES)


@pytest.fixture(scope="module")
def engine():
    with ExecutionEngine(workers=2, limits=Limits()) as e:
        yield e


def target_of(tests: list[str], program: str):
    return read_calls(tests, defined_names([program])).targets


# -- reading calls ---------------------------------------------------------------------------------------------


def test_calls_styles_and_literal_forms_are_read():
    program = "def f(*a, **k): pass\nclass S:\n    def m(self, x): pass\n"
    tests = [
        "assert f([1, 2], k=3) == [1]",
        "assert sorted(f((1,), k=-2)) == [0]",
        "assert f(float('inf'), [0] * 3, list(range(3))) is None",
        "assert 3 == f(set())",
        "assert S().m('x') == 1",
        "assert f(g(1)) == 2",  # g is not the program's: f's argument is not a literal
        "assert len(x) == 2",
    ]
    (f, m) = target_of(tests, program)
    assert f.callee == "f" and m.callee == "S().m"
    args = [c.args for c in f.calls]
    assert args == [([1, 2],), ((1,),), (float("inf"), [0, 0, 0], [0, 1, 2]), (set(),)]
    assert f.calls[0].kwargs == (("k", 3),)
    style = f.style()
    assert style.wrapper == "sorted"  # any assert comparing without order makes the new ones do so


def test_booleans_keep_the_rows_way_of_writing_them():
    program = "def even(n): return n % 2 == 0\n"
    assert target_of(["assert even(2)", "assert not even(3)"], program)[0].style().bools == "truth"
    assert target_of(["assert even(2) is True", "assert even(1) is False"], program)[0].style().bools == "is"
    assert target_of(["assert even(2) == True", "assert even(4) == 1"], program)[0].style().bools == "eq"


# -- mutation of each value type -------------------------------------------------------------------------------


def _mutations(value, seen, n=300, seed=1):
    slot = profile([Call("f", (v,)) for v in seen])[0]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        step = mutate_value(value, slot, rng)
        if step is not None:
            out.append((step, admits(slot, step[1], ALL)))
    return out


@pytest.mark.parametrize(
    ("value", "seen", "check"),
    [
        (5, [5, 9, 12], lambda v: type(v) is int and v > 0),
        (-3, [-3, 4, 0], lambda v: type(v) is int),
        (2.5, [2.5, 0.5], lambda v: type(v) is float and v >= 0),
        (True, [True, False], lambda v: type(v) is bool),
        ("abc", ["abc", "bca"], lambda v: type(v) is str and set(v) <= set("abcdefghijklmnopqrstuvwxyz")),
        (
            "a-1",
            ["a-1", "b-22"],
            lambda v: type(v) is str and set(v) <= set("abcdefghijklmnopqrstuvwxyz-0123456789"),
        ),
        (b"ab", [b"ab", b"b"], lambda v: type(v) is bytes and set(v) <= set(b"ab")),
        ([3, 1, 2], [[3, 1, 2], [5]], lambda v: type(v) is list and all(type(x) is int and x > 0 for x in v)),
        ((1, "a"), [(1, "a"), (2, "b")], lambda v: type(v) is tuple and len(v) == 2 and type(v[1]) is str),
        (
            {"a": 1},
            [{"a": 1}, {"b": 2, "c": 3}],
            lambda v: type(v) is dict and all(type(x) is int for x in v.values()),
        ),
        ({1, 2}, [{1, 2}, {3}], lambda v: type(v) is set and all(type(x) is int for x in v)),
        ([[1, 2], [3, 4]], [[[1, 2], [3, 4]], [[5, 6]]], lambda v: all(type(r) is list for r in v)),
    ],
)
def test_each_value_type_mutates_within_its_domain(value, seen, check):
    made = _mutations(value, seen)
    kept = [v for (_, v), broken in made if broken is None]
    assert len({canonical(v) for v in kept}) >= (1 if type(value) is bool else 5), made[:10]  # varied
    assert all(check(v) for v in kept), [v for v in kept if not check(v)][:5]
    assert all(canonical(v) != canonical(value) for v in kept)


def test_edge_values_appear_and_leave_the_domain_only_when_not_seen():
    ops = {op.split(".")[1] for (op, _), _ in _mutations([4, 2, 7], [[4, 2, 7], []], n=500) if "." in op}
    assert {"empty", "dup", "shuffle", "sort", "drop", "mirror"} <= ops
    texts = {v for (op, v), _ in _mutations("abC", ["abC", "xyz"], n=500) if op in ("str.mirror", "str.case")}
    assert {"abCCba", "abCba"} <= texts and texts & {"AbC", "aBC", "abc"}  # palindromes, one letter's case
    floats = [v for (op, v), _ in _mutations(2.5, [2.5, 0.75], n=300) if op == "float.whole"]
    assert floats and all(type(v) is float and v.is_integer() for v in floats)
    made = _mutations(3, [3, 8], n=400)
    negatives = [v for (_, v), broken in made if v < 0]
    assert negatives and all(broken == "sign" for (_, v), broken in made if v < 0)
    empty_kept = [b for (_, v), b in _mutations([4, 2], [[4, 2], [1, 5, 3]], n=400) if v == []]
    assert empty_kept and set(empty_kept) == {"size"}  # no empty list was seen


def test_domain_rules_strings_sorted_distinct_brackets_relations():
    slot = profile([Call("f", ("(()) ()",)), Call("f", ("((()))",))])[0]
    assert admits(slot, "(()", ALL) == "brackets" and admits(slot, "()(())", ALL) is None
    assert admits(slot, "(x)", ALL) == "charset" and admits(slot, " ()", ALL) == "spacing"
    assert balanced("([]{})") and not balanced("(]")
    lists = profile([Call("f", ([1, 2, 5, 9],)), Call("f", ([0, 3, 4],))])[0]
    assert admits(lists, [5, 1, 7], ALL) == "sorted" and admits(lists, [1, 1, 3], ALL) == "distinct"
    assert admits(lists, [5, 1, 7], ALL - {"sorted"}) is None and admits(lists, [5, 1], ALL) == "size"
    mixed = profile([Call("f", ([1, "a", 2],)), Call("f", (["b"],))])[0]
    assert admits(mixed, [1, None, "a", 2.5], ALL) is None  # items of several kinds: other plain kinds
    assert admits(mixed, [1, True, [], {}], ALL) is None  # bools and empty containers too (evalplus's mixes)
    assert admits(lists, [1, None, 3], ALL) == "types" and admits(lists, [1, True, 4], ALL) == "types"
    one = profile([Call("f", ([[1, 2, 3], [4, 5, 6]],))])[0]  # one matrix is one example: no rule from it
    assert admits(one, [[2, 1, 1], [1, 1, 1, 3]], ALL) is None
    two = profile([Call("f", ([[1, 2, 3], [4, 5, 6]],)), Call("f", ([[0, 7], [8, 9]],))])[0]
    assert (
        admits(two, [[2, 1, 3], [4, 5, 6]], ALL) == "sorted"
        and admits(two, [[1, 2], [3, 4, 5]], ALL) == "shape"
    )
    records = profile([Call("f", ([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],))])[0]
    ok, other = [{"a": 3, "b": "x"}, {"a": 4, "b": "y"}], [{"a": 3, "c": "x"}, {"a": 4, "b": "y"}]
    assert (
        admits(records, ok, ALL) is None and admits(records, other, frozenset({"types", "shape"})) == "shape"
    )
    both = relations([Call("f", ([0, 1, 9], 1)), Call("f", ([2, 4, 0], 2))])
    assert {r.kind for r in both} >= {"index<", "member"}  # one relation of each family
    rel = relations([Call("f", ("abcd", 2)), Call("f", ("xy", 0))])
    assert any(r.kind == "index<" for r in rel)
    same = relations([Call("f", ("10", "01")), Call("f", ("1", "0"))])
    assert any(r.kind == "same_len" for r in same)


def test_an_arguments_value_is_planted_into_another_arguments_lists():
    from acecoder.augmentation.calls import Target

    seen = [Call("f", ([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], 12))]
    made = generate(Target("f", seen), 200, rng=random.Random(3), rules=ALL)
    planted = [c for c, how in made if "plant" in how]
    assert planted
    assert any(
        sum(row.count(c.args[1]) for row in c.args[0]) >= 2 for c in planted
    )  # x twice, as get_row needs


def test_generation_is_seeded_by_inputs_not_names():
    program = "def f(xs, k): return xs\ndef other_name(xs, k): return xs\n"
    t1 = target_of(["assert f([1, 2, 3], 2) == [1]", "assert f([4], 0) == [4]"], program)
    t2 = target_of(["assert other_name([1, 2, 3], 2) == [1]", "assert other_name([4], 0) == [4]"], program)
    a = generate(t1[0], 40, rng=random.Random(seed_of(t1)))
    b = generate(t2[0], 40, rng=random.Random(seed_of(t2)))
    assert [(c.args, how) for c, how in a] == [(c.args, how) for c, how in b] and len(a) == 40


# -- rendering -------------------------------------------------------------------------------------------------


def test_float_tolerance_and_wrappers_in_asserts_and_in_python():
    call = Call("f", (1,))
    text = render_assert(call, 0.1 + 0.2, Style())
    assert text.startswith("assert abs(f(1) - 0.30000000000000004) <= 1.0")
    assert matches(Style(), 0.3, 0.3 + 1e-9) and not matches(Style(), 0.3, 0.31)
    assert "zip(f(1), [0.5, 2], strict=True)" in render_assert(call, [0.5, 2], Style())
    assert render_assert(call, [3, 1], Style(wrapper="sorted")) == "assert sorted(f(1)) == [1, 3]"
    assert render_assert(call, {"b", "a"}, Style(wrapper="set")) == "assert set(f(1)) == {'a', 'b'}"
    assert render_assert(call, True, Style(bools="truth")) == "assert f(1)"
    assert render_assert(call, 4, Style(flipped=True)) == "assert 4 == f(1)"
    assert matches(Style(wrapper="sorted"), [3, 1], [1, 3]) and not matches(Style(), [3, 1], [1, 3])


# -- augmentation in the engine ----------------------------------------------------------------------------------


def _row(rid, program, tests, **extra):
    return {"id": rid, "source": "t", "question": "q", "test_cases": tests, "reference": program, **extra}


def _augment(engine, rows, source=None, limits=None, **settings):
    settings.setdefault("mutation_score", False)
    source = source or OracleSource(FieldOracle("reference"))
    limits = limits or Limits(timeout=0.3, program_timeout=10.0)
    return augment_batch(list(enumerate(rows, 1)), source, engine, Settings(**settings), limits=limits)


def test_inputs_where_the_reference_raises_or_times_out_are_dropped(engine):
    program = (
        "def f(n):\n"
        "    if n % 3 == 0:\n        raise ValueError(n)\n"
        "    if n % 3 == 1 and n > 20:\n        while True: pass\n"
        "    return n * 2\n"
    )
    row = _row(
        "r", program, ["assert f(2) == 4", "assert f(5) == 10", "assert f(8) == 16", "assert f(41) == 82"]
    )
    (out,) = _augment(engine, [row], max_new_tests=40, candidates=40)
    assert out.problem is None and out.n_new > 5
    assert out.dropped.get("raises", 0) > 0 and out.dropped.get("timeout", 0) > 0
    for test in out.row["test_cases"][4:]:
        n = int(re.match(r"assert f\((-?\d+)\)", test).group(1))
        assert n % 3 == 2 or (n % 3 == 1 and n <= 20)
    assert out.row["test_provenance"][:4] == ["original"] * 4
    assert all(p.startswith("mutation:") for p in out.row["test_provenance"][4:])
    assert out.row["n_tests_augmented"] == out.n_new == len(out.row["test_cases"]) - 4


def test_float_tolerance_lets_right_programs_pass_and_catches_wrong_ones(engine):
    from acecoder.execution import Job

    program = "def mean(xs):\n    return sum(xs) / len(xs)\n"
    row = _row("m", program, ["assert mean([1, 2]) == 1.5", "assert mean([2, 4, 9]) == 5.0"])
    (out,) = _augment(engine, [row], max_new_tests=20)
    tests = out.row["test_cases"]
    assert out.n_new >= 10 and any("abs(mean(" in t for t in tests[2:])
    other = "import math\ndef mean(xs):\n    return math.fsum(reversed(xs)) / len(xs) * (1 + 1e-12)\n"
    wrong = "def mean(xs):\n    return sum(xs) // len(xs)\n"
    right, bad = engine.run([Job(other, tests[2:]), Job(wrong, tests[2:])])  # the originals compare exactly
    assert right.passed_all and not bad.passed_all


def test_order_insensitive_comparison_is_kept(engine):
    from acecoder.execution import Job

    program = "def uniq(xs):\n    return list(set(xs))\n"
    row = _row(
        "u", program, ["assert sorted(uniq([3, 1, 3])) == [1, 3]", "assert sorted(uniq([5, 2])) == [2, 5]"]
    )
    (out,) = _augment(engine, [row], max_new_tests=15)
    new = out.row["test_cases"][2:]
    assert new and all(t.startswith("assert sorted(uniq(") for t in new)
    reordered = "def uniq(xs):\n    out = []\n    for x in reversed(xs):\n        if x not in out: out.append(x)\n    return out\n"
    assert next(iter(engine.run([Job(reordered, out.row["test_cases"])]))).passed_all


def test_a_renamed_function_gives_the_same_tests(engine):
    program = "def count_vowels(s):\n    return sum(c in 'aeiou' for c in s)\n"
    tests = [
        "assert count_vowels('hello') == 2",
        "assert count_vowels('sky') == 0",
        "assert count_vowels('aa b') == 2",
    ]
    renamed = program.replace("count_vowels", "zz")
    a, b = _augment(
        engine,
        [_row("a", program, tests), _row("b", renamed, [t.replace("count_vowels", "zz") for t in tests])],
        max_new_tests=20,
        mutation_score=True,
    )
    assert a.n_new > 5
    assert [t.replace("count_vowels", "zz") for t in a.row["test_cases"]] == b.row["test_cases"]
    assert a.row["test_provenance"] == b.row["test_provenance"] and a.mutation == b.mutation


def test_consensus_reference_keeps_only_inputs_its_programs_agree_on(engine):
    right = "def f(n):\n    return n * 2\n"
    also_right = "def f(n):\n    return n + n\n"
    differs_from_5 = "def f(n):\n    return n * 2 if n < 5 else n * 2 + 1\n"
    fails = "def f(n):\n    return 0\n"
    tests = ["assert f(1) == 2", "assert f(3) == 6", "assert f(0) == 0", "assert f(2) == 4"]
    infs = [{"completion": p} for p in (right, also_right, differs_from_5, fails)]
    infs[3]["pass_rate"] = (
        1.0  # a stale pass rate: checked again, the program fails the tests and gets no vote
    )
    row = {"id": "c", "question": "q", "test_cases": tests, "inferences": infs}
    strict = ConsensusSource(min_share=1.0, min_votes=2)
    (out,) = _augment(engine, [row], source=strict, max_new_tests=30)
    assert out.problem is None and out.reference == "consensus"

    def inputs(o):
        return [int(re.match(r"assert f\((-?\d+)\)", t).group(1)) for t in o.row["test_cases"][4:]]

    assert inputs(out) and all(v < 5 for v in inputs(out))  # from 5 on the passing programs disagree: dropped
    assert out.dropped.get("disagree", 0) > 0
    majority = ConsensusSource(min_share=0.6, min_votes=2)
    (out2,) = _augment(engine, [row], source=majority, max_new_tests=30)
    big = [t for t in out2.row["test_cases"][4:] if int(re.match(r"assert f\((-?\d+)\)", t).group(1)) >= 5]
    assert big and all(re.fullmatch(r"assert f\((\d+)\) == (\d+)", t) for t in big)
    assert all(
        int(a) * 2 == int(b) for a, b in (re.findall(r"\d+", t) for t in big)
    )  # the majority's results
    assert all(inf.get("pass_rate") is None for inf in out2.row["inferences"])  # stale verdicts cleared
    lone = ConsensusSource(min_share=0.5, min_votes=4)
    (out3,) = _augment(engine, [row], source=lone, max_new_tests=30)
    assert out3.n_new == 0 and out3.dropped.get("no_consensus", 0) > 0  # three voters never make four votes


def test_bad_rows_are_reported_with_row_and_field_and_left_unchanged(engine, tmp_path):
    from acecoder.augmentation import augment_tests_file
    from acecoder.data import read_rows, write_rows

    good = _row("ok", "def f(x):\n    return x + 1\n", ["assert f(1) == 2", "assert f(5) == 6"])
    rows = [
        good,
        _row("nocall", "def f(x):\n    return x\n", ["assert True", "assert len('ab') == 2"]),
        {"id": "noref", "question": "q", "test_cases": ["assert f(1) == 2"]},
        _row("wrongref", "def f(x):\n    return x\n", ["assert f(1) == 2"]),
        _row("notests", "def f(x):\n    return x\n", []),
    ]
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_rows(source, rows)
    summary = augment_tests_file(
        source, output, OracleSource(FieldOracle("reference")), engine, mutation_score=False
    )
    out = read_rows(output)
    assert [r["id"] for r in out] == ["ok", "nocall", "noref", "wrongref", "notests"]
    assert out[0]["n_tests_augmented"] > 0
    assert out[1:] == rows[1:]  # unchanged
    text = "\n".join(summary.problems)
    assert f"{source}: row 2: field 'test_cases': no assert calls a function" in text
    assert f"{source}: row 3: field 'reference': no reference program" in text
    assert f"{source}: row 4: field 'reference': the reference fails test_cases[0]" in text
    assert f"{source}: row 5: field 'test_cases'" in text
    assert dict(summary.unchanged) == {
        "no_call": 1,
        "no_reference": 1,
        "reference_fails_tests": 1,
        "no_tests": 1,
    }


def test_tests_the_reference_fails_are_removed_and_the_row_augmented_from_the_rest(engine):
    program = "def half(n):\n    assert n % 2 == 0, 'odd input'\n    return n // 2\n"
    tests = ["assert half(4) == 2", "assert half(3) == 1", "assert half(10) == 5", "assert half(8) == 5"]
    row = _row("r", program, ["x = 1", *tests], inferences=[{"completion": "c", "pass_rate": 1.0}])
    (out,) = _augment(engine, [row], max_new_tests=10)
    assert out.problem is None and out.n_new > 3
    kept = out.row["test_cases"]
    assert kept[:3] == ["x = 1", "assert half(4) == 2", "assert half(10) == 5"]  # the failing ones removed
    assert out.row["augmentation"]["removed_tests"] == ["assert half(3) == 1", "assert half(8) == 5"]
    assert out.row["test_provenance"][:3] == ["original"] * 3 and len(out.row["test_provenance"]) == len(kept)
    assert out.row["inferences"][0]["pass_rate"] is None  # its verdicts covered other tests
    (skipped,) = _augment(engine, [row], max_new_tests=10, failing_tests="skip")
    assert skipped.problem["reason"] == "reference_fails_tests" and skipped.row == row


# -- mutation score --------------------------------------------------------------------------------------------


def test_mutants_cover_the_operators_and_skip_docstrings():
    program = 'def f(xs, k):\n    """Doc 1."""\n    if k > 0 and xs:\n        return xs[1:] + [k - 1]\n    return []\n'
    made = mutants(program, max_mutants=50)
    kinds = {op for op, _ in made}
    assert {"comparison", "arithmetic", "constant", "logic", "branch", "boundary"} <= kinds
    assert all('"""Doc 1."""' in src or "'Doc 1.'" in src for _, src in made)
    assert len({src for _, src in made}) == len(made)
    assert mutants(program, 5) == made[:5] or len(mutants(program, 5)) == 5


def test_mutation_score_rises_with_augmentation_and_sets_equivalents_aside(engine):
    program = "def clamp(x):\n    if x > 10:\n        return 10\n    return x\n"
    row = _row("s", program, ["assert clamp(3) == 3"])  # a weak test: most mutants survive it
    (out,) = _augment(engine, [row], max_new_tests=30, mutation_score=True)
    score = out.row["mutation_score"]
    assert score["mutants"] >= 4
    assert score["before"] < 0.6 and score["after"] == 1.0
    assert out.mutation == score
    (dropped,) = _augment(engine, [row], max_new_tests=0, mutation_score=True, min_mutation_score=0.9)
    assert dropped.row is None and "mutation score" in dropped.rejected


def test_inputs_are_probed_when_the_asserts_show_no_kind_of_value(engine):
    digits = "def odd_digits(items):\n    return [sum(int(c) % 2 for c in s) for s in items]\n"
    swap = "def flip(text):\n    return text.swapcase()\n"
    (a, b) = _augment(
        engine,
        [_row("empty", digits, ["assert odd_digits([]) == []"]), _row("cut", swap, ["assert flip"])],
        max_new_tests=10,
    )
    assert a.problem is None and a.row["augmentation"]["probed_inputs"] > 0
    new = a.row["test_cases"][1:]
    assert new and all(re.match(r"assert odd_digits\(\['\d+'", t) for t in new)  # the reference rejects ints
    assert (
        b.problem is None
        and b.n_new > 3
        and all(t.startswith("assert flip('") for t in b.row["test_cases"][1:])
    )


def test_augmenting_an_augmented_row_starts_from_its_original_tests(engine):
    program = "def inc(n):\n    return n + 1\n"
    (once,) = _augment(
        engine, [_row("r", program, ["assert inc(3) == 4", "assert inc(5) == 6"])], max_new_tests=6
    )
    (twice,) = _augment(engine, [once.row], max_new_tests=6)
    assert twice.row["test_cases"][:8] == once.row["test_cases"]
    assert twice.row["n_tests_augmented"] == once.n_new + twice.n_new == 12
    assert twice.row["test_provenance"][:2] == ["original", "original"]
    values = [int(re.match(r"assert inc\((-?\d+)\)", t).group(1)) for t in twice.row["test_cases"]]
    assert max(values) <= 1000 * 5 + 10  # the domain is still the original tests'
