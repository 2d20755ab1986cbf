"""Reward-model scoring throughput on CPU: programs/s with and without length bucketing.

Model: a small Qwen2 reward model (random weights, sequence-classification head, a BPE tokenizer trained on the
workload's text), saved and loaded the way ``acecoder score`` loads a model. Workload: real programs, the
CodeGen-16B HumanEval samples of ../shared/data/codet (every ``--stride``-th sample of every question, each
rendered with its question and first two tests by the sampling prompt), or synthetic programs of mixed
lengths when the data is absent. Each setting runs ``--repeat`` times, interleaved; the median is reported.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/reward_model_scoring.py [--batch-size 16] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACECODER_SHARED_DATA", REPO.parent / "shared" / "data"))
SOURCE = DATA / "codet" / "humaneval_codegen16B_acecode_format.jsonl"


def workload(stride: int) -> tuple[list[tuple[str, str, list[str]]], str]:
    """(question, program, tests) items in file order, and where they came from."""
    if SOURCE.is_file():
        from acecoder.data import iter_rows
        from acecoder.execution.program import extract_program

        items = [
            (row["question"], extract_program(inf["completion"]), row["test_cases"])
            for _, row in iter_rows(SOURCE)
            for inf in row["inferences"][::stride]
        ]
        return items, f"{SOURCE.name}, every {stride}th sample"
    rng = random.Random(0)
    items = [
        (f"Question {q}: compute f.", "def f(x):\n" + "    x += 1\n" * rng.choice([1, 3, 10, 40]), [])
        for q in range(60)
        for _ in range(20)
    ]
    return items, "synthetic programs (../shared/data absent)"


def build_model(folder: Path, texts: list[str], hidden: int, layers: int) -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from tiny_models import build_tiny_chat_model

    return build_tiny_chat_model(
        folder, hidden_size=hidden, num_layers=layers, num_heads=4, head_dim=hidden // 4, vocab_size=2048,
        sequence_classification=True, initializer_range=0.02, texts=texts,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--stride", type=int, default=5, help="score every k-th sample of each question")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from acecoder.reward_model import RewardModel

    items, origin = workload(args.stride)
    with tempfile.TemporaryDirectory() as tmp:
        texts = [q for q, _, _ in items[::10]] + [p for _, p, _ in items]
        folder = build_model(Path(tmp) / "rm", texts, args.hidden, args.layers)
        models = {
            "bucketed": RewardModel(folder, device="cpu", batch_size=args.batch_size, bucketing=True),
            "input order": RewardModel(folder, device="cpu", batch_size=args.batch_size, bucketing=False),
        }
        renderer = models["bucketed"].renderer
        ids = renderer.encode([(renderer.user_message(q, t), p) for q, p, t in items])
        lengths = sorted(len(s) for s in ids)
        models["bucketed"].score_ids(ids[: args.batch_size * 2])  # warm-up
        times: dict[str, list[float]] = {name: [] for name in models}
        reference = None
        for _ in range(args.repeat):
            for name, model in models.items():
                started = time.perf_counter()
                scores = model.score_ids(ids)
                times[name].append(time.perf_counter() - started)
                if reference is None:
                    reference = scores
                deviation = max(abs(a - b) for a, b in zip(scores, reference, strict=True))
                assert deviation < 1e-3, f"{name}: scores differ by {deviation}"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"workload: {len(ids)} programs from {origin}")
    print(
        f"tokens per input: min {lengths[0]}, median {lengths[len(lengths) // 2]}, "
        f"mean {statistics.mean(lengths):.0f}, max {lengths[-1]}"
    )
    print(
        f"model: Qwen2 reward model, hidden {args.hidden}, {args.layers} layers; batch size {args.batch_size}; "
        f"torch threads {torch.get_num_threads()}; cores available {cores} (os.cpu_count {os.cpu_count()}); "
        f"load average {os.getloadavg()[0]:.2f}; Python {sys.version.split()[0]}, torch {torch.__version__}"
    )
    print("\n| batching | seconds (median) | programs/s |\n|---|---:|---:|")
    rates = {}
    for name, values in times.items():
        median = statistics.median(values)
        rates[name] = len(ids) / median
        print(f"| {name} | {median:.2f} | {rates[name]:.1f} |")
    print(f"\nbucketing speed-up: {rates['bucketed'] / rates['input order']:.2f}x")


if __name__ == "__main__":
    main()
