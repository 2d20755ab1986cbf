"""MBPP+ inputs as stored (JSON) versus as called: evalplus turns some lists back into tuples, sets or complex
numbers when it loads the dataset, and writes failing inputs back in the stored shape
(``evalplus/data/mbpp.py``: ``mbpp_deserialize_inputs`` / ``mbpp_serialize_inputs``, same task lists)."""

from __future__ import annotations

from typing import Any

_TUPLE_ARGS = {
    2,
    116,
    132,
    143,
    222,
    261,
    273,
    394,
    399,
    421,
    424,
    429,
    470,
    560,
    579,
    596,
    616,
    630,
    726,
    740,
}
_TUPLE_ARGS |= {744, 809}
_TUPLES_IN_LIST_ARGS = {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
_FIRST_ARG_TUPLES = {75, 413, 444, 753}
_SECOND_ARG_TUPLE = {106, 750}
_FIRST_ARG_TUPLE = {250, 405, 446, 617, 720, 763, 808}
_NESTED_TUPLES = {259, 401, 445}
_ALL_TUPLES = {580, 615, 791}


def _number(task_id: str) -> int:
    try:
        return int(task_id.rsplit("/", 1)[-1])
    except ValueError:
        return -1


def _all_tuples(value: Any) -> Any:
    return tuple(_all_tuples(v) for v in value) if isinstance(value, list) else value


def _deserialize_one(n: int, inp: list) -> Any:
    if n in _TUPLE_ARGS:
        return [tuple(lst) for lst in inp]
    if n in _TUPLES_IN_LIST_ARGS:
        return [[tuple(lst) for lst in lst_lst] for lst_lst in inp]
    if n in _FIRST_ARG_TUPLES:
        return [[tuple(lst) for lst in inp[0]], inp[1]]
    if n in _SECOND_ARG_TUPLE:
        return [inp[0], tuple(inp[1])]
    if n == 115:  # evalplus writes an empty set as {} (a dict), kept as it does
        return [[set(item) if isinstance(item, list) and len(item) else {} for item in inp[0]]]
    if n == 124:
        return (float(inp[0]), complex(inp[1]))
    if n in _FIRST_ARG_TUPLE:
        return [tuple(inp[0]), inp[1]]
    if n in _NESTED_TUPLES:
        return [tuple(tuple(lst) for lst in lst_lst) for lst_lst in inp]
    if n == 278:
        return [tuple(tuple(item) if isinstance(item, list) else item for item in inp[0])]
    if n == 307:
        return [tuple(inp[0]), inp[1], inp[2]]
    if n == 722:
        return [{key: tuple(value) for key, value in inp[0].items()}, *inp[1:]]
    if n == 252:
        return [complex(inp[0])]
    if n in _ALL_TUPLES:
        return _all_tuples(inp)
    return inp


def deserialize_inputs(task_id: str, inputs: list) -> list:
    """The argument lists evalplus calls an MBPP+ task's function with."""
    n = _number(task_id)
    return [_deserialize_one(n, inp) for inp in inputs]


def serialize_inputs(task_id: str, inputs: list) -> list:
    """Failing inputs in the shape evalplus writes them (only three tasks differ from the called shape)."""
    n = _number(task_id)
    if n == 115:
        return [[[list(item) for item in inp[0]]] for inp in inputs]
    if n == 124:
        return [(str(inp[0]), str(inp[1])) for inp in inputs]
    if n == 252:
        return [[str(inp[0])] for inp in inputs]
    return inputs
