"""What `acecoder run` says (issue 22): Ctrl-C says what was kept, a rerun says where it resumes, `acecoder status`
shows an interrupted stage's finished shards; and the CLI's small messages (one "Did you mean", readable
isolation)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]


def cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def test_ctrl_c_says_what_was_kept_and_the_rerun_where_it_resumes(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump({"run_dir": "run", "input": str(SAMPLE), "shard_rows": 2, "stages": {"execute": {}}})
    )
    run = subprocess.Popen(
        [*CLI, "run", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while len(list((tmp_path / "run" / "execute").glob("*.done"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr
    kept = re.search(
        r"interrupted: kept in \S+: execute: (\d+) of 13 shards done; shard (\d+) continues", stderr
    )
    assert kept, stderr
    done = int(kept.group(1))
    assert 2 <= done < 13 and int(kept.group(2)) == done + 1
    assert "rerun the same command to resume" in stderr

    status = cli("status", str(tmp_path / "run"))
    assert re.search(rf"execute\s+interrupted\s+{done}/13\b", status.stdout), status.stdout

    rerun = cli("run", str(config))
    assert rerun.returncode == 0, rerun.stderr
    assert f"execute: resuming the interrupted run: {done} of 13 shards done; shard {done + 1} continues" in (
        rerun.stderr
    )
    assert f"execute: shard {done}/13" not in rerun.stderr  # finished shards are not redone
    assert re.search(r"execute\s+done\s+13/13", cli("status", str(tmp_path / "run")).stdout)


def test_a_typo_gets_one_suggestion():
    result = cli("exectue")
    assert result.returncode == 2 and result.stderr.count("Did you mean 'execute'?") == 1, result.stderr


def test_execute_says_how_programs_were_isolated_in_words(tmp_path):
    (tmp_path / "in.jsonl").write_text(SAMPLE.read_text().splitlines(keepends=True)[1])
    result = cli("execute", "in.jsonl", "out.jsonl", "--no-progress", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if "isolation:" in line)
    assert re.search(r"isolation: (no network|host network), ", line), line
    assert "none network" not in line
