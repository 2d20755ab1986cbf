"""evalplus's output comparison (in the trusted caller), input literals, program headers, MBPP+ input shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acecoder.evaluation.compare import OutputChecker, first_mismatch, is_floats
from acecoder.evaluation.literals import call_source, to_source
from acecoder.evaluation.mbpp_inputs import deserialize_inputs, serialize_inputs
from acecoder.evaluation.programs import main_guard_off, statements


def test_exact_match_and_types():
    check = OutputChecker("humaneval", "f", 0).check
    assert check([1], [1, 2], [1, 2])
    assert check([1], True, 1)  # Python's own == : evalplus accepts True for 1
    assert not check([1], (1, 2), [1, 2])
    assert not check([1], "1", 1)
    assert not check([1], np.array([1, 2]), [1, 2])  # an array's == is not a truth value: a failure


def test_float_tolerance_and_evalplus_sticky_atol():
    checker = OutputChecker("humaneval", "f", 0)
    assert checker.check([1], 0.1 + 0.2, 0.3)  # float expected: atol becomes 1e-6
    assert checker.atol == 1e-6
    # evalplus keeps the reassigned atol for later inputs of the same run: lists of ints now compare with it
    assert checker.check([2], [1, 2], [1, 2.0000001])
    fresh = OutputChecker("humaneval", "f", 0)
    assert not fresh.check([2], [1, 2], [1, 2.0000001])
    assert not OutputChecker("humaneval", "f", 0).check([1], 0.3001, 0.3)
    assert not OutputChecker("humaneval", "f", 1e-6).check([1], 1, 1.0000001)  # int vs float: type differs
    assert not OutputChecker("humaneval", "f", 1e-6).check([1], [0.1], [0.1, 0.2])  # length differs
    assert not OutputChecker("humaneval", "f", 0).check([1], math.nan, math.nan)
    assert is_floats([0.5, 1.5]) and not is_floats([]) and not is_floats([1, 0.5])
    assert is_floats(np.array([0.5])) and not is_floats(np.array([1]))


def test_special_checkers():
    find_zero = OutputChecker("humaneval", "find_zero", 1e-4).check
    assert find_zero([[-6, 11, -6, 1]], 1.0, 3.0)  # another root than the canonical one is right
    assert not find_zero([[-6, 11, -6, 1]], 1.5, 1.0)
    assert not find_zero([[1, 2]], "x", -0.5)
    mbpp = lambda entry, atol=0: OutputChecker("mbpp", entry, atol).check  # noqa: E731
    assert mbpp("similar_elements")([(3, 4), (4, 3)], (4, 3), (3, 4))  # set equality
    assert not mbpp("similar_elements")([(1,), (1,)], (1, 2), (1,))
    assert mbpp("check_str")(["a"], "match", True)  # expected: "not None"
    assert not mbpp("check_str")(["a"], None, True)
    assert mbpp("check_str")(["a"], False, False)
    assert mbpp("are_equivalent")([1, 2], 123, False)
    assert mbpp("sum_div")([1], 0, 1)
    assert mbpp("digit_distance_nums")([123, 5], 5, 99)  # zero-padded: |1-0| + |2-0| + |3-5| = 5
    assert not mbpp("digit_distance_nums")([123, 5], 2, 99)
    assert mbpp("surface_Area", 1e-4)([3, 4], 35, 99)  # round(9 + 2 * 3 * sqrt(2.25 + 16)) = 35


def test_first_mismatch():
    checker = OutputChecker("humaneval", "f", 0)
    inputs = [[1], [2], [3]]
    assert first_mismatch(checker, inputs, [1, 2, 3], [1, 2, 3], ran=lambda i: True) is None
    assert first_mismatch(checker, inputs, [1, 0, 0], [1, 2, 3], ran=lambda i: True) == 1
    assert first_mismatch(checker, inputs, [1, 2, None], [1, 2, 3], ran=lambda i: i < 2) == 2


@pytest.mark.parametrize(
    "value",
    [
        math.inf,
        -math.inf,
        -0.0,
        1e-310,
        10**5000,
        -(10**5000),
        (1,),
        (),
        {"a": [1, (2, 3.5)], 3: None},
        {1, 2},
        set(),
        frozenset({"x"}),
        complex(1, -0.0),
        complex(math.inf, 1),
        "quote ' \" \\ \n \ud800 é",
        b"\x00\xff",
        [[[]]],
    ],
    ids=lambda v: type(v).__name__,
)
def test_to_source_round_trips(value):
    back = eval(to_source(value))
    assert type(back) is type(value)
    assert repr(back) == repr(value) if not isinstance(value, int) else back == value


def test_to_source_nan_and_calls():
    assert math.isnan(eval(to_source(math.nan)))
    assert call_source("f", [1, "a", [2.5]]) == "f(1, 'a', [2.5])"
    with pytest.raises(TypeError):
        to_source(object())


def test_main_guard_off_keeps_future_imports_first():
    program = '"""doc"""\nfrom __future__ import annotations\nimport os\nif __name__ == "__main__":\n    raise SystemExit\n'
    guarded = main_guard_off(program)
    namespace: dict = {}
    exec(compile(guarded, "<p>", "exec", dont_inherit=True), namespace)  # no SystemExit, no SyntaxError
    assert namespace["__name__"] == "builtins"
    assert main_guard_off("x = (") == "x = ("  # does not parse: unchanged
    assert main_guard_off("x = 1", "__test__").startswith("__name__ = '__test__'\n")
    assert statements("import math\nassert f(1) == 2\nassert g(\n  3)\n") == [
        "import math",
        "assert f(1) == 2",
        "assert g(\n  3)",
    ]


def test_mbpp_inputs_follow_evalplus_shapes():
    assert deserialize_inputs("Mbpp/2", [[[1, 2], [3]]]) == [[(1, 2), (3,)]]
    assert deserialize_inputs("Mbpp/124", [["1.5", "1+2j"]]) == [(1.5, 1 + 2j)]
    assert deserialize_inputs("Mbpp/115", [[[[1], []]]]) == [[[{1}, {}]]]
    assert deserialize_inputs("Mbpp/580", [[[1, [2]], 3]]) == [((1, (2,)), 3)]
    assert deserialize_inputs("Mbpp/3", [[5]]) == [[5]]
    assert serialize_inputs("Mbpp/124", [(1.5, 1 + 2j)]) == [("1.5", "(1+2j)")]
    assert serialize_inputs("Mbpp/115", [[[{1}, {}]]]) == [[[[1], []]]]


def test_output_transport_reduces_and_rebuilds():
    from acecoder.evaluation.transport import DIGEST_MARK, Undecodable, decode_output, helpers

    namespace: dict = {}
    exec(helpers(True), namespace)
    out = namespace["__acecoder_output__"]
    value = {"a": [(1, 2.5), {3}], "b": -0.0, 4: b"x", "c": set()}
    assert decode_output(out(value)) == value  # travels as text, rebuilt exactly
    assert type(decode_output(out((1,)))) is tuple
    for kept in (float("nan"), [float("inf")], 10**5000, object()):
        assert out(kept) is kept  # non-finite floats, huge ints, program objects: as the engine captures them
    floats = [0.1 * i for i in range(10_000)]
    assert decode_output(out(floats)) == floats  # floats (compared with a tolerance) are never digests
    big = [(i, str(i)) for i in range(20_000)]
    digest = decode_output(out(big))
    assert digest[0] == DIGEST_MARK and digest == decode_output(out([tuple(x) for x in big]))
    assert digest != decode_output(out([[i, str(i)] for i in range(20_000)]))  # lists of lists are not tuples
    assert digest != decode_output(out([*big[:-1], (0, "0")]))
    whole: dict = {}
    exec(helpers(False), whole)
    assert (
        decode_output(whole["__acecoder_output__"](big)) == big
    )  # tasks with special checkers: never digests
    assert decode_output(("__acecoder_text__", "__import__('os')")) != 0
    assert isinstance(decode_output(("__acecoder_text__", "[1, 2")), Undecodable)


def test_outputs_with_the_expected_text_match_without_being_rebuilt():
    """The caller knows the text each plain expected output travels as: a same-text output is equal to it (so it
    is not rebuilt), and any other output takes the full comparison, as before."""
    from acecoder.evaluation.transport import TEXT_MARK, decode_output, helpers, plain_text

    namespace: dict = {}
    exec(helpers(False), namespace)
    text_of = namespace["__acecoder_text__"]
    values = [1, True, -0.0, 0.1, "a'b", b"x", None, (1,), [1, [2, {3}]], {"k": (1.5, 2j)}, 10**3000, 1e300]
    for value in values:  # the caller's text is exactly what the sandbox sends
        assert text_of(value) == (TEXT_MARK, plain_text(value))
    for kept in (math.nan, [math.inf], 10**5000, object(), np.int64(3), frozenset({1})):
        assert plain_text(kept) is None and text_of(kept) is kept

    class Boom:
        """Would fail the slow path: a matching text must never reach it."""

        def __eq__(self, other):
            raise AssertionError("rebuilt")

    checker = OutputChecker("humaneval", "f", 0)
    expected = [3, 0.5, [1, 2]]
    texts = [plain_text(v) for v in expected]
    sent = [(TEXT_MARK, t) for t in texts]
    assert (
        first_mismatch(checker, [[1]] * 3, sent, expected, ran=lambda i: True, expected_texts=texts) is None
    )
    assert checker.atol == 1e-6  # the float expected output still carries evalplus's atol to later inputs
    checker = OutputChecker("humaneval", "f", 0)
    near = [(TEXT_MARK, "3"), (TEXT_MARK, repr(0.5 + 1e-9)), (TEXT_MARK, "[1, 3]")]  # other texts: compared
    assert first_mismatch(checker, [[1]] * 3, near, expected, ran=lambda i: True, expected_texts=texts) == 2
    assert decode_output(near[1]) != 0.5  # ... with the tolerance, which accepted it
    equal = [(TEXT_MARK, "0.0")]  # -0.0 == 0.0 although their texts differ: the full comparison says so
    assert (
        first_mismatch(
            OutputChecker("humaneval", "f", 0),
            [[1]],
            equal,
            [-0.0],
            ran=lambda i: True,
            expected_texts=["-0.0"],
        )
        is None
    )
    assert first_mismatch(checker, [[1]], [Boom()], [3], ran=lambda i: False, expected_texts=["3"]) == 0
    # HumanEval/32's checker judges the root itself: never the shortcut (a wrong root with the right text fails)
    zero = OutputChecker("humaneval", "find_zero", 1e-4)
    assert (
        first_mismatch(
            zero, [[[1, 1]]], [(TEXT_MARK, "5.0")], [5.0], ran=lambda i: True, expected_texts=["5.0"]
        )
        == 0
    )
