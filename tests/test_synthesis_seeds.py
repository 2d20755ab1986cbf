"""Seed loading in the paper's shapes, print stripping, and the bundled seed sample."""

from __future__ import annotations

import ast
import json
from importlib import resources

import pytest

from acecoder.data import DataError, write_rows
from acecoder.synthesis.seeds import SeedStats, load_seeds, python_block, strip_prints

EVOL_RESPONSE = "Here is the code:\n```python\ndef add(a, b):\n    print(a)\n    return a + b\n\nprint(add(1, 2))\n```\nDone."


def test_strip_prints_keeps_blocks_valid_and_strings_intact():
    src = (
        "def f(x):\n"
        "    print(x)\n"
        "    return x\n"
        "print(f(1))\n"
        "if x:\n"
        "    print('a',\n"
        "          'b')\n"
        "else:\n"
        "    y = 1\n"
        "    print(y)  # trailing comment\n"
        "s = '''\n"
        "print(1)\n"
        "'''\n"
        "x = 1; print(x)\n"
        "printer = 1\n"
        "for i in range(2):\n"
        "    print(i)\n"
    )
    out = strip_prints(src)
    ast.parse(out)
    assert out == (
        "def f(x):\n"
        "    return x\n"
        "if x:\n"
        "    pass\n"
        "else:\n"
        "    y = 1\n"
        "s = '''\n"
        "print(1)\n"
        "'''\n"
        "x = 1; print(x)\n"
        "printer = 1\n"
        "for i in range(2):\n"
        "    pass\n"
    )


def test_strip_prints_falls_back_to_the_papers_line_rule():
    src = "print 'python 2'\ndef f():\n    print x\n    return 1\nprinter = 2"
    assert strip_prints(src) == "def f():\n    return 1\nprinter = 2"


def test_strip_prints_no_change_and_non_ascii():
    assert strip_prints("def f():\n    return 'é'\n") == "def f():\n    return 'é'\n"
    assert strip_prints("s = 'é'; t = 1\nprint(s)\n") == "s = 'é'; t = 1\n"


def test_python_block():
    assert python_block(EVOL_RESPONSE).startswith("def add")
    assert python_block("```js\nlet a\n```") is None
    assert python_block("```py\nx = 1\n```") == "x = 1\n"


def _write(tmp_path, name, rows):
    path = tmp_path / name
    write_rows(path, rows)
    return path


def test_plain_seeds_with_and_without_instruction(tmp_path):
    path = _write(
        tmp_path,
        "s.jsonl",
        [
            {
                "id": "a",
                "instruction": "Add.",
                "program": "def add(a, b):\n    return a + b\n",
                "source": "mine",
            },
            {"program": "def neg(a):\n    print(a)\n    return -a\n"},
            {"id": "c", "program": "   "},
            {"id": "d", "program": "def add(a, b):\n    return a + b\n"},
        ],
    )
    stats = SeedStats()
    seeds = list(load_seeds(path, stats=stats))
    assert [s.id for s in seeds] == ["a", "1"]
    assert seeds[0].instruction == "Add." and seeds[0].source == "mine"
    assert seeds[1].instruction is None and seeds[1].source == "s"
    assert "print" not in seeds[1].program
    assert stats.as_dict() == {"read": 4, "kept": 2, "skipped": {"duplicate_program": 1, "empty_program": 1}}


def test_configurable_fields_and_limit(tmp_path):
    path = _write(
        tmp_path,
        "s.parquet",
        [{"key": str(i), "text": "do", "code": f"def f{i}():\n    return {i}\n"} for i in range(5)],
    )
    seeds = list(
        load_seeds(path, program_field="code", instruction_field="text", id_field="key", source="x", limit=2)
    )
    assert [(s.id, s.instruction, s.source) for s in seeds] == [("0", "do", "x"), ("1", "do", "x")]


def test_missing_program_field_is_a_clear_error(tmp_path):
    path = _write(tmp_path, "s.jsonl", [{"code": "def f(): pass"}])
    with pytest.raises(DataError, match="row 1: field 'program': missing"):
        list(load_seeds(path))


def test_evol_seeds(tmp_path):
    path = _write(
        tmp_path,
        "evol.jsonl",
        [
            {"instruction": "Write add.", "response": EVOL_RESPONSE},
            {"instruction": "Explain.", "response": "No code here."},
            {"instruction": "Snippet.", "response": "```python\nx = [1, 2]\nprint(x)\n```"},
            {"instruction": "JS.", "response": "```javascript\nfunction f() {}\n```"},
            {"instruction": "Class.", "response": "```python\nclass A:\n    pass\n```"},
        ],
    )
    stats = SeedStats()
    seeds = list(load_seeds(path, format="evol", stats=stats))
    assert [s.source for s in seeds] == ["evol", "evol"]
    assert seeds[0].program == "def add(a, b):\n    return a + b\n\n"
    assert seeds[0].instruction == "Write add."
    assert seeds[1].program.startswith("class A")
    assert stats.skipped == {"no_python_block": 2, "no_function_or_class": 1}


def test_oss_seeds_both_column_layouts(tmp_path):
    rows = [
        {"lang": "python", "problem": "P1", "solution": "```python\nx = 1\n```"},
        {"lang": "rust", "problem": "P2", "solution": "```rust\nfn main() {}\n```"},
    ]
    stats = SeedStats()
    seeds = list(load_seeds(_write(tmp_path, "oss.jsonl", rows), format="oss", stats=stats))
    assert [(s.instruction, s.program, s.source) for s in seeds] == [("P1", "x = 1\n", "oss")]
    assert stats.skipped == {"not_python": 1}
    rows = [{"instruction": "I", "response": "```python\ndef g():\n    return 2\n```"}]
    (seed,) = load_seeds(_write(tmp_path, "oss2.jsonl", rows), format="oss")
    assert seed.instruction == "I" and seed.program.startswith("def g")


def test_stack_seeds_keep_programs_longer_than_100_chars(tmp_path):
    long = "def long_function(a, b, c):\n    '''" + "x" * 80 + "'''\n    return a\n"
    short = "def s():\n    return 1\n"
    exactly = "x" * 100
    stats = SeedStats()
    path = _write(tmp_path, "stack.jsonl", [{"content": long}, {"content": short}, {"content": exactly}])
    seeds = list(load_seeds(path, format="stack", stats=stats))
    assert [s.program for s in seeds] == [long] and seeds[0].source == "bigcode_python_fns"
    assert seeds[0].instruction is None
    assert stats.skipped == {"too_short": 2}


def test_json_array_seeds(tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps([{"instruction": "I", "output": "def f():\n    return 1\n"}]))
    (seed,) = load_seeds(path, program_field="output")
    assert seed.instruction == "I"


def test_hf_dataset_folder(tmp_path):
    datasets = pytest.importorskip("datasets")
    folder = tmp_path / "ds"
    datasets.Dataset.from_list([{"instruction": "I", "program": "def f():\n    return 1\n"}]).save_to_disk(
        str(folder)
    )
    (seed,) = load_seeds(folder)
    assert seed.instruction == "I" and seed.id == "0"


def test_bundled_seed_sample_is_usable():
    ref = resources.files("acecoder").joinpath("resources", "seeds", "cpython311_stdlib_sample.jsonl")
    with resources.as_file(ref) as path:
        stats = SeedStats()
        seeds = list(load_seeds(path, source="stdlib", stats=stats))
    assert len(seeds) == 40 and stats.skipped == {}
    for s in seeds:
        ast.parse(s.program)
        assert s.program.lstrip().startswith("def ") and s.instruction is None
    license_text = resources.files("acecoder").joinpath("resources", "seeds", "LICENSE.cpython").read_text()
    assert "PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2" in license_text
