"""The Ray executor: engines in Ray actors on a local Ray cluster give the local pool's verdicts, in input order,
survive a dead actor, and plug into ``acecoder execute --executor ray`` and ``execution.executor: ray`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from acecoder.data import read_rows
from acecoder.execution import ExecutionEngine, Job, Limits
from acecoder.execution.ray_executor import RayExecutor, make_executor
from acecoder.execution.rows import row_jobs

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]
LIMITS = Limits(timeout=0.5, setup_timeout=2.0)

HOSTILE = [
    Job("def f(x):\n    return x\n", ["assert f(1) == 1", "while True: pass", "assert f(2) == 3"]),
    Job("def f(x) return x", ["assert f(1) == 1"]),  # syntax error
    Job("import sys\nsys.exit(0)\n", ["assert False"]),  # an early exit is no pass
    Job(
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", ["assert True"]
    ),  # tries to kill its server
    Job("x = 1\n", []),  # no tests
]


def sample_jobs() -> list[Job]:
    return [job for row in read_rows(SAMPLE) for job in row_jobs(row)]


def verdicts(results) -> list[tuple]:
    return [(r.test_results, r.errors, r.setup_error, r.infra_error is None) for r in results]


def test_make_executor_checks_its_arguments():
    assert isinstance(make_executor("local", workers=1), ExecutionEngine)
    with pytest.raises(ValueError, match="add --executor ray"):
        make_executor("local", ray_address="auto")
    with pytest.raises(ValueError, match="unknown executor 'slurm'"):
        make_executor("slurm")
    with pytest.raises(ValueError, match="batch_size"):
        RayExecutor(batch_size=0)
    result = subprocess.run(
        [*CLI, "execute", str(SAMPLE), "/tmp/never.jsonl", "--ray-address", "auto"],
        capture_output=True,
        text=True,
    )
    assert (
        result.returncode != 0 and "add --executor ray" in result.stderr and "Traceback" not in result.stderr
    )


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'acecoder[ray]'")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_verdicts():
    with ExecutionEngine(workers=2, limits=LIMITS) as engine:
        return verdicts(engine.run(sample_jobs() + HOSTILE))


@pytest.mark.slow
def test_ray_verdicts_equal_the_local_pool(ray_cluster, local_verdicts):
    jobs = sample_jobs() + HOSTILE
    with RayExecutor(actors=2, workers=1, limits=LIMITS, batch_size=16) as executor:
        assert executor.workers == 2 and executor.isolation
        results = list(executor.run(jobs))
        assert len(results) == len(jobs)
        assert verdicts(results) == local_verdicts
        # The default placement: one actor per node with its CPUs.
    with RayExecutor(limits=LIMITS) as executor:
        assert len(executor._handles) == 1 and executor.workers == 2
        assert verdicts(executor.run(jobs[:50])) == local_verdicts[:50]


@pytest.mark.slow
def test_a_dead_actor_is_replaced_and_its_batches_rerun(ray_cluster, local_verdicts):
    jobs = sample_jobs()
    with RayExecutor(actors=2, workers=1, limits=LIMITS, batch_size=8) as executor:
        results = []
        for i, result in enumerate(executor.run(jobs)):
            if i == 3:
                ray_cluster.kill(executor._handles[0])  # a node lost mid-run
            results.append(result)
    assert verdicts(results) == local_verdicts[: len(jobs)]


@pytest.mark.slow
def test_execute_cli_and_pipeline_on_ray(ray_cluster, tmp_path):
    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import run_pipeline
    from acecoder.rundir.store import StageDir

    local = tmp_path / "local.jsonl"
    remote = tmp_path / "ray.jsonl"
    common = ["--workers", "2", "--timeout", "0.5", "--no-progress"]
    assert (
        subprocess.run([*CLI, "execute", str(SAMPLE), str(local), *common], capture_output=True).returncode
        == 0
    )
    # Its own local cluster (the test's cluster belongs to this process).
    result = subprocess.run([*CLI, "execute", str(SAMPLE), str(remote), *common, "--executor", "ray"],
                            capture_output=True, text=True, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert read_rows(remote) == read_rows(local)
    # A pipeline run on the cluster this process started.
    config = {"run_dir": "run", "input": str(SAMPLE), "shard_rows": 10, "execution": {"executor": "ray"},
              "stages": {"execute": {"timeout": 0.5}}}  # fmt: skip
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    run_pipeline(load_run_config(tmp_path / "c.yaml"), log=lambda _: None)
    rows = [r for p in StageDir(tmp_path / "run", "execute").shards() for r in read_rows(p)]
    assert [[i["test_results"] for i in r["inferences"]] for r in rows] == [
        [i["test_results"] for i in r["inferences"]] for r in read_rows(local)
    ]
