"""The layer order of README "Architecture", checked by import-linter (the contracts in pyproject.toml): a folder
imports only from the folders below it, and the modules of a folder import each other without circles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(src: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package under ``src``, with the project's contracts."""
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev extra (make install)")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_layer_order_holds():
    done = lint_imports(ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # a lazy import from the bottom layer up to a stage
        (
            "data/io.py",
            "def _up():\n    from acecoder.pipeline.runner import run_pipeline\n",
            "Each folder imports only from the folders below it",
        ),
        # a circle between two modules of one folder
        (
            "pairs/rates.py",
            "from acecoder.pairs import build\n",
            "No import circles between the modules of a folder",
        ),
    ],
)
def test_an_import_against_the_order_is_caught(tmp_path, module, line, broken):
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "acecoder", src / "acecoder", ignore=shutil.ignore_patterns("__pycache__"))
    with open(src / "acecoder" / module, "a", encoding="utf-8") as f:
        f.write("\n\n" + line)
    done = lint_imports(src)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{broken} BROKEN" in done.stdout, done.stdout
