"""Infrastructure errors (the engine failing, not the program) are never scored as verdicts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from acecoder.execution import ExecutionEngine

# A stand-in for the sandbox's interpreter: it starts like a sandbox server, then dies on every job.
FAKE_SERVER = """#!{python}
import json, os, struct, sys
out = os.fdopen(1, "wb")
ready = json.dumps({{"ready": True, "isolation": {{}}, "warnings": [], "cgroups": []}}).encode()
out.write(struct.pack(">I", len(ready)) + ready)
out.flush()
header = sys.stdin.buffer.read(4)
os._exit(1)
"""


def _fake_interpreter(tmp_path: Path) -> str:
    path = tmp_path / "python-that-dies"
    path.write_text(FAKE_SERVER.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_a_job_whose_server_keeps_dying_gets_no_pass_rate(tmp_path):
    with ExecutionEngine(workers=1, interpreter=_fake_interpreter(tmp_path)) as engine:
        result = engine.run_one("def f():\n    return 1\n", ["assert f() == 1", "assert f() == 2"])
    assert result.infra_error and result.pass_rate is None
    assert result.errors == ["infra", "infra"]


def test_execute_writes_null_pass_rates_with_the_reason_and_exits_1(tmp_path):
    rows = tmp_path / "rows.jsonl"
    row = {
        "id": "q",
        "question": "?",
        "test_cases": ["assert f() == 1"],
        "inferences": [{"completion": "def f():\n    return 1\n"}],
    }
    rows.write_text(json.dumps(row) + "\n")
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from acecoder.cli import main; main()",
            "execute",
            str(rows),
            str(out),
            "--interpreter",
            _fake_interpreter(tmp_path),
            "--workers",
            "1",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stderr
    assert "infrastructure errors" in done.stderr and "rerun" in done.stderr
    inference = json.loads(out.read_text())["inferences"][0]
    assert inference["pass_rate"] is None and "died" in inference["infra_error"]
