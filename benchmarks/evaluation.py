"""``acecoder evaluate`` against evalplus's own labels and against evalplus 0.3.1 itself, on real samples.

Samples: the 984 HumanEval and 2,268 MBPP greedy samples of six models that evalplus labelled
(../shared/data/evalplus/greedy_samples_6models_humaneval_mbpp_labeled.jsonl; evalplus at 7887006, HumanEval+
v0.1.10, MBPP+ v0.2.0). For each benchmark it

1. writes the samples as an evalplus samples file and the dataset as one plain JSONL file (HumanEval+ v0.1.10;
   MBPP+: the bundled pre-release restricted to the 378 task ids of v0.2.0, since evalplus insists that the
   samples cover every task of its dataset);
2. runs ``acecoder evaluate`` (CLI, start-up included) with ``--dataset`` that file and an empty cache (so the
   expected outputs are computed, as they are for evalplus with an empty cache);
3. runs evalplus 0.3.1 from a throwaway venv (``--evalplus-python``; ``--setup-evalplus DIR`` builds one from the
   registry) pointed at the same file (``HUMANEVAL_OVERRIDE_PATH`` / ``MBPP_OVERRIDE_PATH``), with an empty
   cache (``XDG_CACHE_HOME``) and the same number of workers (``--parallel``);
4. prints the agreement of base_status/plus_status with the labels and with evalplus 0.3.1, the samples that
   disagree, and both wall times.

Run: ``.venv/bin/python benchmarks/evaluation.py --evalplus-python /tmp/evalplus031/bin/python [--workers 2]``
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
LABELED = DATA / "evalplus" / "greedy_samples_6models_humaneval_mbpp_labeled.jsonl"
RESOURCES = REPO / "src" / "acecoder" / "resources" / "benchmarks"
ACECODER = [sys.executable, "-c", "from acecoder.cli import main; main()"]


def prepare(work: Path, dataset: str, model: str | None = None) -> tuple[Path, Path, list[dict]]:
    """(samples file, dataset file, labeled rows) for ``dataset`` ("humaneval" or "mbpp"), of the models whose
    name contains ``model`` (all six by default)."""
    rows = [json.loads(line) for line in LABELED.open()]
    rows = [r for r in rows if r["dataset"] == dataset and (model is None or model in r["model"])]
    if not rows:
        sys.exit(f"no {dataset} samples of a model named like {model!r} in {LABELED}")
    samples = work / f"{dataset}_samples.jsonl"
    with samples.open("w") as f:
        for r in rows:
            f.write(
                json.dumps({"task_id": r["task_id"], "solution": r["solution"], "model": r["model"]}) + "\n"
            )
    if dataset == "humaneval":
        text = gzip.decompress((RESOURCES / "HumanEvalPlus-v0.1.10.jsonl.gz").read_bytes()).decode()
    else:
        ids = set((RESOURCES / "MbppPlus-v0.2.0-task-ids.txt").read_text().split())
        lines = (
            gzip.decompress((RESOURCES / "MbppPlus-prerelease-399.jsonl.gz").read_bytes())
            .decode()
            .splitlines()
        )
        text = "".join(line + "\n" for line in lines if line.strip() and json.loads(line)["task_id"] in ids)
    data = work / f"{dataset}_dataset.jsonl"
    data.write_text(text)
    return samples, data, rows


def run_acecoder(
    samples: Path, data: Path, dataset: str, workers: int, work: Path, warm: bool = False
) -> tuple[float, list[dict]]:
    out = work / f"{dataset}_acecoder.jsonl"
    cache = work / f"cache-acecoder-{dataset}"
    if not warm:  # empty, as evalplus's: both compute the expected outputs
        shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, ACECODER_CACHE_DIR=str(cache))
    command = [
        *ACECODER,
        "evaluate",
        str(samples),
        str(out),
        "--benchmark",
        f"{dataset}+",
        "--dataset",
        str(data),
    ]
    command += ["--workers", str(workers), "--group-by", "model", "--no-resume", "--no-progress"]
    started, cpu = time.monotonic(), _children_cpu()
    done = subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.monotonic() - started
    EXPECTED["acecoder"].append(_seconds(r"computed in ([0-9.]+) s", done.stderr.decode()))
    CPU["acecoder"].append(_children_cpu() - cpu)
    return elapsed, [json.loads(line) for line in out.open()]


def run_evalplus(
    python: str, samples: Path, data: Path, dataset: str, workers: int, work: Path, warm: bool = False
):
    cache = work / f"cache-evalplus-{dataset}"
    shutil.rmtree(cache, ignore_errors=True)
    samples.with_name(samples.stem + "_eval_results.json").unlink(
        missing_ok=True
    )  # else it asks to overwrite
    cache.mkdir()
    override = "HUMANEVAL_OVERRIDE_PATH" if dataset == "humaneval" else "MBPP_OVERRIDE_PATH"
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), **{override: str(data)})
    command = [python, "-m", "evalplus.evaluate", "--dataset", dataset, "--samples", str(samples)]
    command += ["--parallel", str(workers), "--i_just_wanna_run"]
    started, cpu = time.monotonic(), _children_cpu()
    done = subprocess.run(command, check=True, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    EXPECTED["evalplus"].append(_seconds(r"Expected outputs computed in ([0-9.]+)s", done.stdout.decode()))
    CPU["evalplus"].append(_children_cpu() - cpu)
    results = json.loads(samples.with_name(samples.stem + "_eval_results.json").read_text())["eval"]
    # evalplus groups results by task in its samples' order: give each labeled row its own verdict back
    queues = {task: collections.deque(items) for task, items in results.items()}
    return elapsed, queues


CPU: dict[str, list[float]] = {"acecoder": [], "evalplus": []}
EXPECTED: dict[str, list[float]] = {"acecoder": [], "evalplus": []}  # seconds spent on the expected outputs


def _seconds(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else float("nan")


def _children_cpu() -> float:
    """CPU seconds of the finished child process trees (a figure the machine's load barely changes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def agreement(ours: list[dict], theirs: list[dict]) -> dict[str, tuple[int, int]]:
    out = {}
    for key in ("base_status", "plus_status"):
        same = sum(_status(o[key]) == _status(t[key]) for o, t in zip(ours, theirs, strict=True))
        out[key] = (same, len(ours))
    return out


def _status(value: str | None) -> str | None:
    return "fail" if value == "timeout" else value  # evalplus 0.3.1 writes "timeout" for a killed process


def differences(ours: list[dict], theirs: list[dict]) -> list[tuple]:
    rows = []
    for o, t in zip(ours, theirs, strict=True):
        for key in ("base_status", "plus_status"):
            if _status(o[key]) != _status(t[key]):
                rows.append(
                    (
                        t["task_id"],
                        o["model"],
                        key,
                        t[key],
                        o[key],
                        str(t[key.replace("status", "fail_tests")])[:60],
                    )
                )
    return rows


def setup_evalplus(directory: Path) -> str:
    python = directory / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "evalplus==0.3.1"], check=True)
    return str(python)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--evalplus-python", help="Python of a venv with evalplus==0.3.1 (skip evalplus if absent)"
    )
    parser.add_argument(
        "--setup-evalplus", type=Path, help="build that venv here first (outside the repository)"
    )
    parser.add_argument("--datasets", default="humaneval,mbpp")
    parser.add_argument("--work", type=Path, help="keep files here (default: a temporary directory)")
    parser.add_argument("--model", help="only the samples of the model whose name contains this")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each tool, alternating (medians)")
    parser.add_argument("--warm", action="store_true", help="also run each tool once with its cache kept")
    args = parser.parse_args()
    python = setup_evalplus(args.setup_evalplus) if args.setup_evalplus else args.evalplus_python
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for dataset in args.datasets.split(","):
            samples, data, labeled = prepare(work, dataset, args.model)
            print(f"\n== {dataset}: {len(labeled)} samples, {args.workers} workers, load {os.getloadavg()}")
            ours_times, theirs_times = [], []
            for _ in range(args.repeat):
                ours_time, ours = run_acecoder(samples, data, dataset, args.workers, work)
                ours_times.append(ours_time)
                if python:
                    theirs_time, queues = run_evalplus(python, samples, data, dataset, args.workers, work)
                    theirs_times.append(theirs_time)
            if args.warm:  # again with the expected outputs cached: what judging the samples alone costs
                warm_ours = run_acecoder(samples, data, dataset, args.workers, work, warm=True)[0]
                line = f"  warm caches: acecoder {warm_ours:.1f} s, CPU {CPU['acecoder'].pop():.1f} s"
                if python:
                    warm_theirs = run_evalplus(python, samples, data, dataset, args.workers, work, warm=True)[
                        0
                    ]
                    line += f"; evalplus 0.3.1 {warm_theirs:.1f} s, CPU {CPU['evalplus'].pop():.1f} s"
                    line += f" -> acecoder is {warm_theirs / warm_ours:.2f}x faster"
                    EXPECTED["evalplus"].pop()
                EXPECTED["acecoder"].pop()
                print(line)
            ours_time = statistics.median(ours_times)
            runs = ", ".join(f"{t:.1f}" for t in ours_times)
            print(
                f"acecoder evaluate: {ours_time:.1f} s (runs: {runs}; expected outputs computed, empty cache)"
            )
            ours_cpu = statistics.median(CPU["acecoder"][-args.repeat :])
            print(f"  CPU of its process tree: {ours_cpu:.1f} s (median)")
            print(
                f"  expected outputs: {statistics.median(EXPECTED['acecoder'][-args.repeat :]):.1f} s of it"
            )
            for key, (same, total) in agreement(ours, labeled).items():
                print(f"  {key} agrees with evalplus's labels: {same}/{total} ({100 * same / total:.2f}%)")
            for row in differences(ours, labeled):
                print("   label differs:", row)
            if python:
                theirs = [dict(queues[r["task_id"]].popleft(), model=r["model"]) for r in labeled]
                theirs_time = statistics.median(theirs_times)
                runs = ", ".join(f"{t:.1f}" for t in theirs_times)
                pairs = ", ".join(f"{b / a:.2f}x" for a, b in zip(ours_times, theirs_times, strict=True))
                print(
                    f"evalplus 0.3.1: {theirs_time:.1f} s (runs: {runs}) -> acecoder is "
                    f"{theirs_time / ours_time:.2f}x faster (medians; run by run: {pairs}); "
                    f"load after {os.getloadavg()}"
                )
                theirs_cpu = statistics.median(CPU["evalplus"][-args.repeat :])
                print(
                    f"  CPU of its process tree: {theirs_cpu:.1f} s (median) -> acecoder uses {ours_cpu / theirs_cpu:.2f}x"
                )
                print(
                    f"  expected outputs: {statistics.median(EXPECTED['evalplus'][-args.repeat :]):.1f} s of it"
                )
                for key, (same, total) in agreement(ours, theirs).items():
                    print(f"  {key} agrees with evalplus 0.3.1: {same}/{total} ({100 * same / total:.2f}%)")
                for row in differences(ours, theirs):
                    print("   evalplus 0.3.1 differs:", row)
                for key, (same, total) in agreement(theirs, labeled).items():
                    print(f"  (evalplus 0.3.1 vs its own 2024 labels, {key}: {same}/{total})")


if __name__ == "__main__":
    main()
