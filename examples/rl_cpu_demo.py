"""A CPU-sized demonstration that `acecoder train-rl`'s loop learns from test-case rewards.

1. Starts the execution engine (before any model exists in this process).
2. Builds a tiny Qwen2-architecture model and tokenizer from scratch (no download) for a toy function-writing
   task: "Write f(x) that returns x plus 7" with assert tests, asked with the project's sampling template
   (instruction, question and first two tests in a docstring, the assistant prefill opening a python fence).
3. Fine-tunes it briefly with TRL's SFTTrainer on the training questions, so it writes some correct programs
   and many wrong ones.
4. Trains it with `acecoder.reward.rl_train.train_rl` (TRL GRPO + the binary test reward) on the same training questions.
5. Reports the pass rate on held-out questions (operations and constants never trained on together) after
   each stage: greedy (one program per question) and sampled at temperature 1.0 (8 per question).

Run from the repository root (7 minutes on a busy 2-core machine with one thread):

    OMP_NUM_THREADS=1 .venv/bin/python examples/rl_cpu_demo.py --out runs/rl_demo
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from acecoder.execution import Limits
from acecoder.reward import TestCaseReward
from acecoder.reward.rl_config import RLConfig
from acecoder.reward.rl_data import render_prompt
from acecoder.sampling import SAMPLING_TEMPLATE

OPS = {"plus": "+", "minus": "-", "times": "*"}
INPUTS = (0, 1, 2, 5, 10, 13)
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
    "{% if not (loop.last and m['role'] == 'assistant') %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def task(op: str, k: int) -> dict:
    symbol = OPS[op]
    values = {x: eval(f"{x} {symbol} {k}") for x in INPUTS}  # the toy oracle
    return {
        "id": f"{op}-{k}",
        "question": f"Write a function f(x) that returns x {op} {k}.",
        "test_cases": [f"assert f({x}) == {y}" for x, y in values.items()],
        "answer": f"\ndef f(x):\n    return x {symbol} {k}\n```",
    }


def split_tasks(seed: int) -> tuple[list[dict], list[dict]]:
    """Training and held-out questions: every (operation, constant) pair, a random quarter held out."""
    tasks = [task(op, k) for op in OPS for k in range(1, 21)]
    random.Random(seed).shuffle(tasks)
    held = len(tasks) // 4
    return tasks[held:], tasks[:held]


def build_model(out: Path, texts: list[str], seed: int) -> Path:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

    tok = Qwen2Tokenizer().train_new_from_iterator(
        texts, vocab_size=600, new_special_tokens=["<|im_start|>", "<|im_end|>"]
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.eos_token, tok.pad_token = "<|im_end|>", "<|endoftext|>"
    tok.save_pretrained(out)
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        head_dim=32,
        max_position_embeddings=512,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out)
    return out


def sft(model_dir: Path, out: Path, prompts: list[str], answers: list[str], steps: int, seed: int) -> Path:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_dict({"prompt": prompts, "completion": [a + "<|im_end|>" for a in answers]})
    args = SFTConfig(
        output_dir=str(out),
        max_steps=steps,
        per_device_train_batch_size=16,
        learning_rate=3e-3,
        lr_scheduler_type="constant",
        logging_steps=max(steps // 5, 1),
        save_strategy="no",
        report_to="none",
        bf16=False,
        use_cpu=True,
        seed=seed,
        max_length=256,
    )
    trainer = SFTTrainer(model=str(model_dir), args=args, train_dataset=data)
    trainer.train()
    trainer.save_model(str(out))
    trainer.processing_class.save_pretrained(str(out))
    return out


def evaluate(
    model_dir: Path, rows: list[dict], prompts: list[str], reward: TestCaseReward, samples: int
) -> dict:
    """Held-out pass rates: greedy (one program each) and sampled at temperature 1.0 (``samples`` each)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    batch = tok(prompts, return_tensors="pt", padding=True)
    torch.manual_seed(0)
    with torch.no_grad():
        greedy = model.generate(**batch, max_new_tokens=24, do_sample=False)
        sampled = model.generate(
            **batch,
            max_new_tokens=24,
            do_sample=True,
            temperature=1.0,
            top_p=1.0,
            num_return_sequences=samples,
        )
    width = batch["input_ids"].shape[1]
    greedy_text = tok.batch_decode(greedy[:, width:], skip_special_tokens=True)
    sampled_text = tok.batch_decode(sampled[:, width:], skip_special_tokens=True)
    tests = [r["test_cases"] for r in rows]
    greedy_rewards = reward(completions=greedy_text, test_cases=tests)
    sampled_rewards = reward(completions=sampled_text, test_cases=[t for t in tests for _ in range(samples)])
    return {
        "greedy_pass_rate": sum(greedy_rewards) / len(rows),
        "sampled_pass_rate": sum(sampled_rewards) / len(sampled_rewards),
        "example": greedy_text[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/rl_demo"))
    parser.add_argument("--sft-steps", type=int, default=100)
    parser.add_argument("--rl-steps", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    # The engine first, while this process has no model in it; it scores every evaluation.
    reward = TestCaseReward("binary", Limits(timeout=0.5), workers=1)

    import torch

    torch.set_num_threads(1)
    train, held = split_tasks(args.seed)
    corpus = [  # the texts the tokenizer is trained on: prompts as the chat template renders them, answers
        f"<|im_start|>user\n{SAMPLING_TEMPLATE.user_message(r['question'], r['test_cases'])}<|im_end|>\n"
        f"<|im_start|>assistant\n{SAMPLING_TEMPLATE.prefill}{r['answer']}<|im_end|>"
        for r in train + held
    ] * 5
    base = build_model(args.out / "base", corpus, args.seed)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base)
    train_prompts = [render_prompt(SAMPLING_TEMPLATE, tok, r) for r in train]
    held_prompts = [render_prompt(SAMPLING_TEMPLATE, tok, r) for r in held]
    report = {"train_questions": len(train), "held_out_questions": len(held)}
    report["base"] = evaluate(base, held, held_prompts, reward, 8)
    print("base model:", report["base"], flush=True)

    t = time.time()
    tuned = sft(
        base, args.out / "sft", train_prompts, [r["answer"] for r in train], args.sft_steps, args.seed
    )
    report["sft_seconds"] = round(time.time() - t, 1)
    report["sft"] = evaluate(tuned, held, held_prompts, reward, 8)
    print("after SFT:", report["sft"], flush=True)

    rows_file = args.out / "train_rows.jsonl"
    rows_file.write_text(
        "".join(json.dumps({k: r[k] for k in ("id", "question", "test_cases")}) + "\n" for r in train)
    )
    from acecoder.reward.rl_train import train_rl

    config = RLConfig(
        reward="binary",
        test_timeout=0.5,
        reward_workers=1,
        trainer={
            "num_generations": 8,
            "generation_batch_size": 64,  # 8 questions x 8 samples per step
            "per_device_train_batch_size": 64,
            "gradient_accumulation_steps": 1,
            "num_iterations": 1,
            "learning_rate": args.learning_rate,
            "lr_scheduler_type": "constant",
            "beta": 0.01,
            "epsilon": 0.2,
            "scale_rewards": "batch",
            "loss_type": "dapo",
            "temperature": 1.0,
            "top_p": 1.0,
            "max_completion_length": 24,
            "logging_steps": 1,
            "save_steps": 1000,
            "seed": args.seed,
        },
    )
    t = time.time()
    result = train_rl(config, str(tuned), rows_file, args.out / "rl", max_steps=args.rl_steps, resume=False)
    report["rl_seconds"] = round(time.time() - t, 1)
    report["rl"] = evaluate(result.final_model, held, held_prompts, reward, 8)
    print("after RL:", report["rl"], flush=True)
    logs = [json.loads(line) for line in (args.out / "rl" / "rl_log.jsonl").read_text().splitlines()]
    rewards = [log["reward"] for log in logs if "reward" in log]
    report["train_reward_first_5_steps"] = round(sum(rewards[:5]) / max(len(rewards[:5]), 1), 3)
    report["train_reward_last_5_steps"] = round(sum(rewards[-5:]) / max(len(rewards[-5:]), 1), 3)
    report["total_seconds"] = round(time.time() - started, 1)
    reward.close()
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
