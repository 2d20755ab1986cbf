"""Output comparators for stdin tests (run in the trusted judge). A fuller set comes with the importers."""

from __future__ import annotations

from collections.abc import Callable


def exact(actual: str, expected: str) -> bool:
    """Byte-for-byte equal text."""
    return actual == expected


COMPARATORS: dict[str, Callable[[str, str], bool]] = {"exact": exact}


def compare(name: str, actual: str, expected: str) -> bool:
    try:
        comparator = COMPARATORS[name]
    except KeyError:
        raise KeyError(f"unknown comparator {name!r} (known: {', '.join(sorted(COMPARATORS))})") from None
    return comparator(actual, expected)
