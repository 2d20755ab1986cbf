"""How many real synthesized tests the engine judges outside the program's process (split into probes + check).

The README quotes it for the released AceCode-87K row (data/samples/acecode_sample.jsonl, the row with 80
completions) and for CodeT's distinct CodeGen-16B-written asserts (../shared/data/codet). Splitting is static
(no program runs), so this takes seconds.

    .venv/bin/python scripts/split_share.py
"""

from __future__ import annotations

import os
from pathlib import Path

from acecoder.data import iter_rows
from acecoder.execution.split import SplitTest, split_test

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
ACECODE = REPO / "data" / "samples" / "acecode_sample.jsonl"
CODET = DATA / "codet" / "humaneval_codegen16B_acecode_format.jsonl"


def share(tests: set[str]) -> tuple[int, int]:
    """(tests that split, tests)."""
    return sum(isinstance(split_test(t), SplitTest) for t in tests), len(tests)


def main() -> None:
    acecode = next(row for _, row in iter_rows(ACECODE) if len(row.get("inferences") or []) == 80)
    split, total = share(set(acecode["test_cases"]))
    print(f"released AceCode-87K row {acecode['id']}: {split} of {total} tests split")
    if not CODET.is_file():
        raise SystemExit(f"{CODET} is absent (set ACECODER_SHARED_DATA)")
    split, total = share({t for _, row in iter_rows(CODET) for t in row["test_cases"]})
    print(f"CodeT's distinct asserts: {split} of {total} split ({100 * split / total:.1f}%)")


if __name__ == "__main__":
    main()
