"""``acecoder run`` / ``acecoder status`` on the bundled real sample: Parquet shards with markers, resume after an
interruption at the first unfinished shard, fingerprints that redo a changed stage and what is downstream of it
and nothing else, --from/--until, LLM stages against the loopback fake server (skipped without an endpoint), and
clear one-line errors for bad configs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from acecoder.data import read_rows
from acecoder.pipeline.runconfig import load_run_config
from acecoder.pipeline.runner import PipelineError, run_pipeline
from acecoder.pipeline.stages.execute import Execute
from acecoder.rundir.status import format_status, run_status
from acecoder.rundir.store import StageDir
from llm_fake_server import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
QUICKSTART = REPO / "src" / "acecoder" / "resources" / "configs" / "quickstart.yaml"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]


def write_config(tmp_path: Path, stages: dict, **top) -> Path:
    data = {"run_dir": "run", "input": str(SAMPLE), "shard_rows": 10, "execution": {"workers": 2}, **top}
    data["stages"] = stages
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run(path: Path, lines: list[str] | None = None, **kw) -> list[str]:
    out = lines if lines is not None else []
    run_pipeline(load_run_config(path, overrides=kw.pop("overrides", [])), log=out.append, **kw)
    return out


def finished(run_dir: Path, stage: str) -> dict:
    return {m["shard"]: m["finished"] for m in StageDir(run_dir, stage).markers()}


def stage_meta(run_dir: Path, stage: str) -> dict:
    return json.loads((run_dir / stage / "stage.json").read_text())


BASE = {"execute": {"timeout": 1.0}, "pairs": {}, "hard": {}, "stats": {}}


def test_run_writes_sharded_stages_and_status(tmp_path):
    config = write_config(tmp_path, {"sample": {"models": ["m"]}, **BASE})
    lines = run(config)
    run_dir = tmp_path / "run"
    # The LLM stage without an endpoint is skipped with one line saying how to enable it.
    skipped = [line for line in lines if line.startswith("sample: skipped")]
    assert len(skipped) == 1 and "llm.base_url" in skipped[0]
    # Input and execute: 25 rows in 3 Parquet shards (10, 10, 5), each with a marker.
    assert [pq.ParquetFile(p).metadata.num_rows for p in StageDir(run_dir, "execute").shards()] == [10, 10, 5]
    assert sorted(finished(run_dir, "execute")) == [0, 1, 2]
    rows = [r for p in StageDir(run_dir, "execute").shards() for r in read_rows(p)]
    assert [r["id"] for r in rows] == [r["id"] for r in read_rows(SAMPLE)]
    oss = next(r for r in rows if r["id"] == "oss_1")
    # The released row's pass rates are reproduced by the engine (as acecoder execute does).
    released = {i["completion_id"]: i["pass_rate"] for i in read_rows(SAMPLE)[0]["inferences"]}
    assert {i["completion_id"]: i["pass_rate"] for i in oss["inferences"]} == pytest.approx(released)
    pairs = [r for p in StageDir(run_dir, "pairs").shards() for r in read_rows(p)]
    assert len(pairs) == stage_meta(run_dir, "pairs")["rows_out"] > 0
    assert stage_meta(run_dir, "hard")["rows_out"] == sum(
        pq.ParquetFile(p).metadata.num_rows for p in StageDir(run_dir, "hard").shards()
    )
    table1 = json.loads((run_dir / "stats" / "table1.json").read_text())
    assert table1[-1]["source"] == "Overall" and table1[-1]["examples_before"] == 25
    assert table1[-1]["pairs"] == len(pairs)
    status = {e["stage"]: e for e in run_status(run_dir)}
    assert status["sample"]["state"] == "skipped"
    assert status["execute"]["state"] == "done" and status["execute"]["shards"] == 3
    assert status["execute"]["rows_out"] == 25
    assert "sample: skipped" in format_status(list(status.values()))
    # A second run redoes nothing.
    before = {s: finished(run_dir, s) for s in ("execute", "pairs")}
    lines = run(config)
    assert {s: finished(run_dir, s) for s in ("execute", "pairs")} == before
    assert any(line.startswith("execute: done") and "nothing to redo" in line for line in lines)


class Crash(Exception):
    pass


def test_interrupted_run_resumes_at_the_first_unfinished_shard(tmp_path, monkeypatch):
    config = write_config(tmp_path, BASE)
    run_dir = tmp_path / "run"
    calls: list[str] = []
    crash = [True]
    original = Execute.run_shard

    def crashing(self, ctx, source, output):
        calls.append(source.name)
        if len(calls) == 2 and crash[0]:
            raise Crash  # the process dies in the middle of the second shard
        return original(self, ctx, source, output)

    monkeypatch.setattr(Execute, "run_shard", crashing)
    with pytest.raises(Crash):
        run(config)
    assert sorted(finished(run_dir, "execute")) == [0]
    assert {e["stage"]: e["state"] for e in run_status(run_dir)}["execute"] == "interrupted"
    first = finished(run_dir, "execute")[0]
    calls.clear()
    crash[0] = False
    run(config)
    assert calls == ["shard-00001.parquet", "shard-00002.parquet"]  # shard 0 was not redone
    assert finished(run_dir, "execute")[0] == first
    assert stage_meta(run_dir, "execute")["state"] == "done"


def test_killed_cli_run_resumes(tmp_path):
    """kill -9 of `acecoder run` mid-execute, then the same command finishes without redoing marked shards."""
    import signal
    import time

    config = write_config(tmp_path, {"execute": {}}, shard_rows=3)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([*CLI, "run", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(finished(run_dir, "execute")) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = finished(run_dir, "execute")
    assert 2 <= len(done) < 9, "the run should have been killed mid-stage"
    result = subprocess.run([*CLI, "run", str(config)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    after = finished(run_dir, "execute")
    assert len(after) == 9
    assert all(after[i] == done[i] for i in done)  # finished shards untouched
    rows = [r for p in StageDir(run_dir, "execute").shards() for r in read_rows(p)]
    assert [r["id"] for r in rows] == [r["id"] for r in read_rows(SAMPLE)]
    status = subprocess.run([*CLI, "status", str(run_dir)], capture_output=True, text=True)
    assert status.returncode == 0 and "execute" in status.stdout and "9/9" in status.stdout


def test_changed_setting_redoes_that_stage_and_what_follows_only(tmp_path):
    config = write_config(tmp_path, BASE)
    run_dir = tmp_path / "run"
    run(config)
    snap = {s: finished(run_dir, s) for s in ("execute", "pairs")}
    hard = stage_meta(run_dir, "hard")["finished"]
    stats = stage_meta(run_dir, "stats")["finished"]
    pairs_before = stage_meta(run_dir, "pairs")["rows_out"]
    lines = run(config, overrides=["stages.pairs.min_chosen=1.0"])
    assert finished(run_dir, "execute") == snap["execute"]  # upstream kept
    assert stage_meta(run_dir, "hard")["finished"] == hard  # a sibling that does not read pairs: kept
    assert finished(run_dir, "pairs") != snap["pairs"]
    assert stage_meta(run_dir, "pairs")["rows_out"] < pairs_before
    assert stage_meta(run_dir, "stats")["finished"] != stats  # uses pairs: redone
    assert any("pairs: settings or inputs changed" in line for line in lines)
    # A setting that changes verdicts redoes execute and everything after it.
    run(config, overrides=["stages.pairs.min_chosen=1.0", "stages.execute.timeout=2.0"])
    assert finished(run_dir, "execute") != snap["execute"]
    assert stage_meta(run_dir, "hard")["finished"] != hard
    # Volatile settings (speed only) and the executor do not change fingerprints.
    fp = stage_meta(run_dir, "execute")["fingerprint"]
    run(
        config, overrides=["stages.pairs.min_chosen=1.0", "stages.execute.timeout=2.0", "execution.workers=1"]
    )
    assert stage_meta(run_dir, "execute")["fingerprint"] == fp


def test_from_and_until(tmp_path):
    config = write_config(tmp_path, BASE)
    run_dir = tmp_path / "run"
    with pytest.raises(PipelineError, match="execute is not finished"):
        run(config, start="pairs")
    run(config, stop="execute")
    assert stage_meta(run_dir, "execute")["state"] == "done"
    assert not (run_dir / "pairs").exists()
    execute = finished(run_dir, "execute")
    run(config)
    pairs = finished(run_dir, "pairs")
    run(config, start="pairs", stop="pairs")
    assert finished(run_dir, "execute") == execute  # kept
    assert finished(run_dir, "pairs") != pairs  # redone
    with pytest.raises(PipelineError, match="--from bogus: not a stage of this run"):
        run(config, start="bogus")


def _fake_llm(messages, params):
    """Synthesis answers with two tests (one wrong); programs that double their argument."""
    import re

    user = next(m["content"] for m in messages if m["role"] == "user")
    if "leetcode style question" in user:
        name = re.search(r"def (\w+)\(", user).group(1)
        tests = [f"assert {name}({i}) == {2 * i}" for i in range(6)] + [f"assert {name}(7) == 15"]
        return json.dumps({"question": f"Write a function `{name}(x)` returning twice `x`.", "tests": tests})
    name = re.search(r"`(\w+)\(x\)`", user).group(1)
    body = "x * 2" if params["index"] % 2 == 0 else "x + 2"
    return f"\ndef {name}(x):\n    return {body}\n```\n"  # continues the prompt's prefilled fence


def test_llm_stages_against_a_loopback_server(tmp_path):
    from importlib import resources

    seeds = Path(
        str(resources.files("acecoder").joinpath("resources", "seeds", "cpython311_stdlib_sample.jsonl"))
    )
    prices = tmp_path / "prices.yaml"
    prices.write_text("gpt-4o-mini: {input: 100.0, output: 200.0}\n")
    stages = {
        "synthesize": {"model": "gpt-4o-mini", "limit": 6, "decontaminate": False},
        "filter-tests": {"model": "gpt-4o-mini"},
        "sample": {"models": [{"model": "gpt-4o-mini", "name": "policy"}], "n": 2},
        "execute": {},
        "pairs": {"min_rejected": -0.0},
    }
    with FakeOpenAIServer(_fake_llm) as server:
        config = write_config(
            tmp_path,
            stages,
            input=str(seeds),
            llm={"base_url": server.url, "prices": str(prices), "max_attempts": 2},
        )
        run(config)
        requests = len(server.received)
        run(config)  # nothing redone, nothing re-asked
        assert len(server.received) == requests
    run_dir = tmp_path / "run"
    rows = [r for p in StageDir(run_dir, "execute").shards() for r in read_rows(p)]
    assert len(rows) == 6
    for row in rows:
        assert len(row["test_cases"]) == 6 and row["n_tests_before"] == 7  # the wrong test was filtered out
        rates = sorted(i["pass_rate"] for i in row["inferences"])
        assert [i["model_name"] for i in row["inferences"]] == ["policy", "policy"]
        assert rates[1] == 1.0 and rates[0] < 1.0
    status = {e["stage"]: e for e in run_status(run_dir)}
    for stage in ("synthesize", "filter-tests", "sample"):
        assert status[stage]["state"] == "done"
        assert isinstance(status[stage]["cost"], float) and status[stage]["cost"] > 0
    assert status["execute"]["cost"] is None
    assert (run_dir / "cache" / "sample.llm_cache.sqlite").is_file()
    table = json.loads((run_dir / "execute" / "stage.json").read_text())
    assert table["source"] == "sample"


@pytest.mark.parametrize(
    ("stages", "top", "message"),
    [
        ({"evaluate": {"benchmark": "humanevl"}}, {}, "'humanevl' is not one of humaneval, "),
        ({"train-rm": {"lerning_rate": 1.0}}, {}, "stages.train-rm: unknown setting(s) ['lerning_rate']"),
        ({"bogus": {}}, {}, "unknown stage 'bogus'"),
        ({"pairs": {"min_chosn": 0.5}}, {}, "stages.pairs: unknown setting(s) ['min_chosn']"),
        ({"pairs": {"min_chosen": 3.0}}, {}, "min_chosen must be between 0 and 1"),
        ({"execute": {}}, {"input": "missing.jsonl"}, "no such input file"),
        ({"execute": {}}, {"colour": 1}, "unknown key(s) ['colour']"),
        ({"execute": {}}, {"execution": {"executor": "slurm"}}, "expected local or ray"),
        ({"filter-tests": {}}, {}, "set exactly one oracle"),
        (
            {"execute": {"timeout": "soon"}, "pairs": {}},
            {},
            "stages.execute.timeout: expected a number, got 'soon'",
        ),
    ],
)
def test_bad_configs_fail_with_one_clear_line(tmp_path, stages, top, message):
    config = write_config(tmp_path, stages, **top)
    result = subprocess.run([*CLI, "run", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_cli_usage_errors(tmp_path):
    config = write_config(tmp_path, BASE)
    for args, message in [
        (["run", str(config), "--set", "novalue"], "expected KEY=VALUE"),
        (["run", str(tmp_path / "none.yaml")], "cannot read the run config"),
        (["status", str(tmp_path)], "not a run directory"),
        (["report", str(tmp_path)], "not a run directory"),
    ]:
        result = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    no_run_dir = tmp_path / "c.yaml"
    no_run_dir.write_text("stages: {execute: {}}\n")
    with pytest.raises(ValueError, match="no run_dir"):
        load_run_config(no_run_dir)


def test_one_run_at_a_time_and_an_input_is_needed(tmp_path):
    import fcntl

    config = write_config(tmp_path, {"execute": {}})
    (tmp_path / "run").mkdir()
    with open(tmp_path / "run" / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(PipelineError, match="another acecoder run is using this run directory"):
            run(config)
    data = yaml.safe_load(config.read_text())
    del data["input"]
    config.write_text(yaml.safe_dump(data))
    with pytest.raises(PipelineError, match="stage execute reads the run input: set input"):
        run(config)


def test_quickstart_config_is_valid_and_relative_to_itself():
    config = load_run_config("quickstart", run_dir="/tmp/unused")
    assert config.path == QUICKSTART.resolve()
    assert config.input is not None and config.input.is_file()
    assert list(config.stages) == ["augment", "sample", "execute", "pairs", "hard", "stats", "train-rm", "score",
                                   "evaluate", "rewards", "report"]  # fmt: skip
