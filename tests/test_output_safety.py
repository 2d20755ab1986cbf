"""One writer per output, and exit 2 leaves nothing behind (issue 22).

A second writer of an output stops at once naming the first (every verb, and two real `execute` runs on one
output); a checkpoint line that does not parse is reported with file, line and cause, never as a traceback; bad
input (a CSV file, a truncated JSONL line, a wrong --benchmark, a broken input in a run config) stops before
anything is written or run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from acecoder.data import read_rows
from acecoder.data.checkpoint import Checkpoint, CheckpointError
from acecoder.data.lock import LockedError, WriteLock, holder, lock_path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]
HOLD = (
    "import sys, time; from acecoder.data.lock import WriteLock; WriteLock(sys.argv[1]).acquire(); "
    "print('held', flush=True); time.sleep(120)"
)


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.fixture
def held(tmp_path):
    """A process that holds the write lock of tmp_path/out.jsonl until the test ends."""
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield out, proc.pid
    proc.kill()
    proc.wait()


# ---- the lock itself -----------------------------------------------------------------------------------------
def test_lock_names_its_holder_is_reentrant_and_leaves_nothing(tmp_path, held):
    out, pid = held
    with pytest.raises(LockedError) as error:
        WriteLock(out).acquire()
    message = str(error.value)
    assert f"pid {pid} (python -c {out})" in message and f"kill {pid}" in message
    assert "\n" not in message
    assert holder(lock_path(out)).pid == pid

    target = tmp_path / "new" / "deeper" / "o.jsonl"
    with WriteLock(target) as lock:
        with WriteLock(target):  # the same process again: no conflict
            pass
        assert lock.path.exists() and holder(lock.path).pid == os.getpid()
    assert not (tmp_path / "new").exists()  # the folders made for the lock are gone with it


def test_a_killed_holder_never_blocks_the_next_run(tmp_path):
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert lock_path(out).exists()  # left behind by the kill, but unlocked
    with WriteLock(out):
        assert holder(lock_path(out)).pid == os.getpid()
    assert not lock_path(out).exists()


def test_two_checkpoints_of_one_output_cannot_both_write(tmp_path, held):
    out, pid = held
    with pytest.raises(LockedError, match=f"pid {pid}"):
        Checkpoint(out, "fp")
    assert not Checkpoint.progress_path(out).exists()


# ---- the checkpoint reader -----------------------------------------------------------------------------------
def test_a_line_that_does_not_parse_is_reported_and_redone(tmp_path, caplog):
    out = tmp_path / "out.jsonl"
    checkpoint = Checkpoint(out, "fp")
    for i in range(4):
        checkpoint.append({"id": i, "text": "x" * 20})
    progress = checkpoint.path
    damaged = progress.read_text().splitlines(keepends=True)
    damaged[2] = damaged[2][:12] + "\n"  # the second row torn mid-string, as two writers interleaving left it
    progress.write_text("".join(damaged))
    with pytest.raises(CheckpointError) as error:
        checkpoint.finalize()
    text = str(error.value)
    assert str(progress) in text and "line 3 cannot be read back (" in text and " at column 13)" in text
    assert "at at" not in text and "\n" not in text
    assert not out.exists() and progress.exists()  # nothing half-written; the progress file stays
    assert not lock_path(out).exists()  # and the lock is released

    resumed = Checkpoint(out, "fp")  # a rerun keeps the rows before the bad line and does the rest again
    assert resumed.done == 1
    assert "line 3 cannot be read back" in caplog.text and "done again" in caplog.text
    resumed.append({"id": 1})
    assert resumed.finalize() == 2 and [r["id"] for r in read_rows(out)] == [0, 1]


# ---- a second writer, for real -------------------------------------------------------------------------------
def test_a_second_execute_on_the_same_output_stops_at_once(tmp_path):
    rows = SAMPLE.read_text().splitlines(keepends=True)
    source = tmp_path / "in.jsonl"
    source.write_text("".join(rows))
    out = tmp_path / "out.jsonl"
    first = subprocess.Popen([*CLI, "execute", str(source), str(out), "--no-progress"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while not Checkpoint.progress_path(out).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGSTOP)  # the first run holds the output, mid-run
    try:
        started = time.monotonic()
        second = cli("execute", str(source), str(out), "--no-progress")
        elapsed = time.monotonic() - started
    finally:
        os.kill(first.pid, signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and f"execute {source} {out}" in lines[0], lines
    assert "Traceback" not in second.stderr and elapsed < 30
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert [r["id"] for r in read_rows(out)] == [json.loads(r)["id"] for r in rows]
    assert files(tmp_path) == {"in.jsonl", "out.jsonl"}  # no lock or progress file left


VERBS = {
    "execute": ["execute", "in.jsonl", "out.jsonl"],
    "filter-tests": ["filter-tests", "in.jsonl", "out.jsonl", "--reference-field", "question"],
    "sample": ["sample", "in.jsonl", "out.jsonl", "--model", "m", "--base-url", "http://127.0.0.1:9/v1"],
    "pairs": ["pairs", "in.jsonl", "out.jsonl"],
    "hard": ["hard", "in.jsonl", "out.jsonl"],
    "score": ["score", "in.jsonl", "out.jsonl", "--model", "rm"],
    "evaluate": ["evaluate", "in.jsonl", "out.jsonl", "--benchmark", "humaneval"],
    "synthesize": [
        "synthesize",
        "in.jsonl",
        "out.jsonl",
        "--model",
        "m",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--program-field",
        "question",
    ],
    "train-rm": ["train-rm", "in.jsonl", "out.jsonl", "--model", "tiny"],
    "train-rl": ["train-rl", "--model", "m", "--dataset", "in.jsonl", "--output", "out.jsonl"],
}


@pytest.mark.parametrize("verb", list(VERBS))
def test_every_verb_refuses_an_output_another_process_writes(tmp_path, held, verb):
    _, pid = held
    (tmp_path / "in.jsonl").write_text(SAMPLE.read_text().splitlines(keepends=True)[1])
    before = files(tmp_path)
    result = cli(*VERBS[verb], cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"pid {pid}" in result.stderr and "another acecoder process is writing it" in result.stderr
    assert "Traceback" not in result.stderr
    assert files(tmp_path) == before


def test_report_and_run_refuse_a_second_writer(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"run_dir": "run", "input": str(SAMPLE), "stages": {"stats": {}}}))
    proc = subprocess.Popen([sys.executable, "-c", HOLD.replace("WriteLock(sys.argv[1])",
                             "WriteLock(sys.argv[1], path=sys.argv[1] + '/.lock')"), str(tmp_path / "run")],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "held"
        result = cli("run", str(config))
        assert (
            result.returncode == 2
            and f"another acecoder run is using this run directory: pid {proc.pid}" in (result.stderr)
        ), result.stderr
    finally:
        proc.kill()
        proc.wait()


# ---- exit 2 means nothing was written ------------------------------------------------------------------------
@pytest.fixture
def inputs(tmp_path) -> Path:
    rows = SAMPLE.read_text().splitlines(keepends=True)
    (tmp_path / "rows.csv").write_text("".join(rows[:3]))
    # Rows 1-5 (HumanEval/0-4) are fine; row 6 was cut mid-string (as a full disk or a killed writer leaves it).
    (tmp_path / "truncated.jsonl").write_text("".join(rows[1:6]) + rows[6][:201])
    (tmp_path / "ok.jsonl").write_text("".join(rows[1:6]))
    return tmp_path


@pytest.mark.parametrize(
    "verb",
    ["execute", "filter-tests", "sample", "pairs", "hard", "score", "evaluate", "synthesize", "train-rm"],
)
@pytest.mark.parametrize("bad", ["rows.csv", "truncated.jsonl"])
def test_bad_input_stops_before_anything_is_written(inputs, verb, bad):
    args = [a.replace("in.jsonl", bad).replace("out.jsonl", "new/out.jsonl") for a in VERBS[verb]]
    before = files(inputs)
    result = cli(*args, cwd=inputs)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    if bad == "rows.csv":
        assert "unknown file type" in result.stderr
    else:
        assert "truncated.jsonl: row 6: invalid JSON (Unterminated string starting at column" in result.stderr
        assert "at at" not in result.stderr
    assert files(inputs) == before  # no OUT.partial.jsonl, no lock, no `new` folder


def test_execute_runs_no_program_before_a_bad_line(inputs):
    result = cli("execute", "truncated.jsonl", "out.jsonl", cwd=inputs)
    assert result.returncode == 2 and "programs" not in result.stdout  # no summary: nothing ran


@pytest.mark.parametrize(
    "benchmark, message",
    [
        ("humaneval+++", "unknown benchmark 'humaneval+++'"),
        (
            "mbpp+",
            "he.jsonl: row 1: field 'id': 'HumanEval/0' is a task of humaneval/humaneval+, not of mbpp+",
        ),
    ],
)
def test_evaluate_checks_every_sample_against_the_benchmark_first(tmp_path, benchmark, message):
    rows = SAMPLE.read_text().splitlines(keepends=True)
    (tmp_path / "he.jsonl").write_text("".join(rows[1:4]))  # HumanEval/0..2
    before = files(tmp_path)
    result = cli("evaluate", "he.jsonl", "out.jsonl", "--benchmark", benchmark, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert files(tmp_path) == before


@pytest.mark.parametrize(
    "change, message",
    [
        ({"input": "rows.csv"}, "unknown file type"),
        ({"input": "truncated.jsonl"}, "row 6: invalid JSON"),
        ({"stages": {"execute": {}, "pairs": {"template": "missing.txt"}}}, "stages.pairs.template"),
    ],
)
def test_a_broken_run_config_input_leaves_no_run_directory(inputs, change, message):
    config = {"run_dir": "run", "input": "ok.jsonl", "stages": {"execute": {}}, **change}
    (inputs / "c.yaml").write_text(yaml.safe_dump(config))
    result = cli("run", "c.yaml", cwd=inputs)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (inputs / "run").exists()
