"""Infrastructure errors (the engine failing, not the program) are never scored as verdicts."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from acecoder.execution import ExecutionEngine, Job

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


# Dies on the first three jobs it is ever sent (counted in a file across restarts), then fails every test.
FLAKY_SERVER = """#!{python}
import json, os, struct, sys
out = os.fdopen(1, "wb")
def send(message, blob=None):
    data = json.dumps(message).encode()
    frames = struct.pack(">I", len(data)) + data
    if blob is not None:
        frames += struct.pack(">I", len(blob)) + blob
    out.write(frames)
    out.flush()
send({{"ready": True, "isolation": {{}}, "warnings": [], "cgroups": []}})
while True:
    header = sys.stdin.buffer.read(4)
    if len(header) < 4:
        break
    job = json.loads(sys.stdin.buffer.read(struct.unpack(">I", header)[0]))
    deaths = os.path.getsize({counter!r}) if os.path.exists({counter!r}) else 0
    if deaths < 3:
        with open({counter!r}, "a") as f:
            f.write("x")
        os._exit(1)
    n = len(job["tests"])
    send({{"results": [0] * n, "errors": ["assertion"] * n, "setup": None, "values": []}}, b"")
"""


def test_copies_of_a_job_the_engine_failed_run_themselves(tmp_path):
    path = tmp_path / "python-that-dies-three-times"
    path.write_text(FLAKY_SERVER.format(python=sys.executable, counter=str(tmp_path / "deaths")))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    job = Job("def f():\n    return 1\n", ["assert f() == 1"])
    with ExecutionEngine(workers=1, interpreter=str(path)) as engine:
        results = list(engine.run([job] * 3))
    assert results[0].infra_error  # its server died three times under it
    assert [r.infra_error for r in results[1:]] == [None, None]  # an engine failure is no verdict to copy
    assert [r.errors for r in results[1:]] == [["assertion"], ["assertion"]]


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
