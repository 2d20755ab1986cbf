"""Reward models with a tiny local Qwen2: TRL training on a learnable preference, the saved folder, scoring
(batched, bucketed, padding-independent), the AceCodeRM layout, ``acecoder score`` and its kill -9 resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from acecoder.cli import app
from acecoder.data import read_rows, write_rows
from acecoder.execution.program import extract_program
from acecoder.reward_model.config import RewardModelConfig
from tiny_models import tiny_chat_model

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from acecoder.reward_model import RewardModel, train_reward_model  # noqa: E402

runner = CliRunner()

# A learnable preference: the right expression over an off-by-one version of it.
EXPRESSIONS = ["a + b", "a - b", "a * b", "max(a, b)", "min(a, b)", "a % b", "(a + b) // 2", "abs(a - b)"]
NAMES = ["add", "sub", "mul", "big", "small", "mod", "mid", "gap", "calc", "f", "solve", "go"]


def question(q: int) -> tuple[str, str, str, list[str]]:
    name, expr = f"{NAMES[q % len(NAMES)]}{q}", EXPRESSIONS[q % len(EXPRESSIONS)]
    text = f"Write a function {name}(a, b) that returns {expr}."
    good = f"def {name}(a, b):\n    return {expr}\n"
    bad = f"def {name}(a, b):\n    return {expr} {'+' if q % 2 else '-'} 1\n"
    return text, good, bad, [f"assert {name}(3, 2) == {eval(expr, {'a': 3, 'b': 2})}"]


def write_pairs(path: Path, questions: range, per_question: int = 3) -> Path:
    rows = []
    for q in questions:
        text, good, bad, tests = question(q)
        for k in range(per_question):  # the same programs, worded as answers in different ways
            rows.append(
                {
                    "id": f"q{q}/{k}",
                    "question_id": f"q{q}",
                    "model_name": "m",
                    "question": text,
                    "test_cases": tests,
                    "chosen": f"```python\n{good}```" if k else good,
                    "rejected": f"Here it is:\n```python\n{bad}{'#' * k}\n```",
                    "chosen_pass_rate": 1.0,
                    "rejected_pass_rate": 0.0,
                }
            )
    write_rows(path, rows)
    return path


def quick_config(**changes) -> RewardModelConfig:
    settings = {
        "model": str(tiny_chat_model()),
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "epochs": 4.0,
        "batch_size": 8,
        "grad_accum": 1,
        "eval_split": 0.25,
        "logging_steps": 50,
        "max_length": 512,
        "seed": 0,
    }
    settings.update(changes)
    return RewardModelConfig(**settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("rm")
    pairs = write_pairs(root / "pairs.jsonl", range(48))
    metrics = train_reward_model(pairs, root / "rm", quick_config())
    return root / "rm", metrics


def acecode_rows(questions: range, extra: int = 2) -> list[dict]:
    rows = []
    for q in questions:
        text, good, bad, tests = question(q)
        completions = [good, f"```python\n{bad}```", "I do not know."] + [
            good + "#" * k for k in range(extra)
        ]
        rows.append(
            {
                "id": f"r{q}",
                "source": "toy",
                "question": text,
                "test_cases": tests,
                "inferences": [
                    {"model_name": "m", "completion_id": i, "completion": c, "pass_rate": None, "keep": i}
                    for i, c in enumerate(completions)
                ],
                "context_messages": [{"role": "user", "content": text}],
            }
        )
    return rows


# ---- training ---------------------------------------------------------------------------------------------------


def test_training_ranks_held_out_questions_and_writes_metrics(trained):
    folder, metrics = trained
    on_disk = json.loads((folder / "metrics.json").read_text())
    assert on_disk == json.loads(json.dumps(metrics))
    assert metrics["heldout"]["accuracy"] >= 0.9
    assert metrics["heldout"]["pairs"] == metrics["pair_counts"]["eval"] == 36  # 12 questions x 3 pairs
    assert metrics["questions"] == {"train": 36, "eval": 12}
    assert metrics["pair_counts"]["dropped_for_length"] == {"train": 0, "eval": 0}
    assert metrics["training"]["eval_history"], "no evaluation during training"
    assert metrics["config"]["learning_rate"] == 1e-3
    assert metrics["template"]["num_tests"] == 2  # the pairs carry tests: the sampling prompt shows two
    assert not (folder / "trainer").exists()


def test_saved_folder_loads_with_transformers_and_scores_the_same(trained):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder, _ = trained
    rm = RewardModel(folder, device="cpu")
    assert rm.layout == "sequence_classification" and rm.max_length == 512
    text, good, bad, tests = question(100)  # a question no pair mentioned
    scores = rm.score(text, [good, bad], tests)
    assert scores[0] > scores[1]

    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    chat = [
        {"role": "user", "content": rm.template.user_message(text, tests)},
        {"role": "assistant", "content": rm.template.answer_text(good.strip())},
    ]
    ids = tokenizer.apply_chat_template(chat, tokenize=True, return_dict=True, return_tensors="pt")
    with torch.no_grad():
        direct = model(**ids).logits[0, 0].item()
    assert scores[0] == pytest.approx(direct, abs=1e-4)
    assert rm.score_pairs([(text, good, tests), (text, bad, tests)]) == pytest.approx(scores, abs=1e-5)


def test_training_and_scoring_render_the_same_tokens(trained, tmp_path):
    from acecoder.reward_model.dataset import read_pairs
    from acecoder.reward_model.train import _encode_pairs

    folder, _ = trained
    rm = RewardModel(folder, device="cpu")
    pairs = read_pairs(write_pairs(tmp_path / "p.jsonl", range(3))).pairs
    chosen, rejected = _encode_pairs(rm.renderer, pairs, {})
    for pair, c, r in zip(pairs, chosen, rejected, strict=True):
        user = rm.renderer.user_message(pair.question, pair.tests)
        assert rm.renderer.encode([(user, pair.chosen), (user, pair.rejected)]) == [c, r]
    text = rm.tokenizer.decode(chosen[0])
    assert text.startswith("<|im_start|>user\nPlease provide a self-contained Python script")
    assert "```python\ndef add0(a, b):\n    return a + b\n```<|im_end|>" in text


def test_scores_do_not_depend_on_padding_batch_size_or_bucketing(trained):
    folder, _ = trained
    items = [(question(q)[0], program, question(q)[3]) for q in range(60, 66) for program in question(q)[1:3]]
    items.append(("short", "x", None))
    reference = RewardModel(folder, device="cpu", batch_size=1).score_pairs(items)
    for options in (
        {"padding_side": "left"},
        {"bucketing": False},
        {"batch_size": 5, "padding_side": "left"},
    ):
        scores = RewardModel(folder, device="cpu", batch_size=options.pop("batch_size", 4), **options)
        assert scores.score_pairs(items) == pytest.approx(reference, abs=1e-4), options


def test_long_inputs_are_cut_to_max_length_and_counted(trained):
    folder, _ = trained
    rm = RewardModel(folder, device="cpu", max_length=40)
    scores = rm.score("Q", ["x = 1\n" * 50, "y = 2"])
    assert len(scores) == 2 and rm.truncated == 2  # the chat text alone is longer than 40 tokens


def test_pairs_over_max_length_are_dropped_and_counted_with_margin_and_centering(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl", range(12), per_question=1)
    rows = read_rows(pairs)
    for row in rows[::3]:  # a long rejected program in every third pair
        row["rejected"] = extract_program(row["rejected"]) + "# padding line\n" * 40
        row["rejected_pass_rate"] = 0.5
    write_rows(pairs, rows)
    config = quick_config(max_length=200, max_steps=2, margin_scale=1.0, center_rewards_coefficient=0.01)
    metrics = train_reward_model(pairs, tmp_path / "rm", config)
    dropped = metrics["pair_counts"]["dropped_for_length"]
    assert dropped["train"] + dropped["eval"] == 4
    assert metrics["pair_counts"]["trained_on"] == metrics["pair_counts"]["train"] - dropped["train"]
    assert metrics["heldout"]["pairs"] == metrics["pair_counts"]["eval"] - dropped["eval"]
    assert metrics["training"]["steps_done"] == 2


@pytest.mark.slow
def test_lora_training_saves_a_merged_model(tmp_path):
    from transformers import AutoModelForSequenceClassification

    pairs = write_pairs(tmp_path / "pairs.jsonl", range(8), per_question=1)
    config = quick_config(lora=True, lora_r=4, max_steps=3, eval_split=0.0)
    metrics = train_reward_model(pairs, tmp_path / "rm", config)
    assert metrics["heldout"]["pairs"] == 0 and metrics["training"]["steps_done"] == 3
    assert not (tmp_path / "rm" / "adapter_config.json").exists()
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "rm")
    assert not any("lora" in name for name in model.state_dict())
    assert len(RewardModel(tmp_path / "rm", device="cpu").score("Q", ["a", "b"])) == 2


# ---- AceCodeRM checkpoints ------------------------------------------------------------------------------------


def save_acecoderm(folder: Path) -> Path:
    """A tiny model saved as AceCodeRM is: Qwen2ForCausalLM weights plus v_head.summary (Linear with bias)."""
    from transformers import AutoTokenizer, Qwen2ForCausalLM

    class ValueHead(torch.nn.Module):
        def __init__(self, hidden: int):
            super().__init__()
            self.dropout = torch.nn.Dropout(0.1)
            self.summary = torch.nn.Linear(hidden, 1)

    class AceCoderRM(Qwen2ForCausalLM):
        def __init__(self, config):
            super().__init__(config)
            self.v_head = ValueHead(config.hidden_size)

    base = tiny_chat_model()
    model = AceCoderRM.from_pretrained(base)
    torch.manual_seed(1)
    with torch.no_grad():
        model.v_head.summary.weight.normal_(0, 0.5)
        model.v_head.summary.bias.fill_(0.7)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return folder


def test_acecoderm_layout_scores_equal_a_direct_computation(tmp_path):
    from safetensors import safe_open
    from transformers import Qwen2ForCausalLM

    folder = save_acecoderm(tmp_path / "acecoderm")
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        assert {"v_head.summary.weight", "v_head.summary.bias"} <= set(f.keys())
    rm = RewardModel(folder, device="cpu", batch_size=3)
    assert rm.layout == "acecoderm"
    assert rm.template.num_tests == 1  # AceCodeRM was trained on AceCodePair prompts
    items = [(question(q)[0], p, question(q)[3]) for q in range(4) for p in question(q)[1:3]]
    items.append(("Q", "x = 1", None))
    scores = rm.score_pairs(items)

    # The release's forward: the causal LM's last hidden states, v_head, read at attention_mask.sum(-1) - 1
    # on a right-padded batch.
    lm = Qwen2ForCausalLM.from_pretrained(folder).eval()
    head = torch.nn.Linear(lm.config.hidden_size, 1)
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        head.load_state_dict(
            {"weight": f.get_tensor("v_head.summary.weight"), "bias": f.get_tensor("v_head.summary.bias")}
        )
    texts = [rm.renderer.text(rm.renderer.user_message(q, t), p) for q, p, t in items]
    batch = rm.tokenizer(
        texts, add_special_tokens=False, padding=True, padding_side="right", return_tensors="pt"
    )
    with torch.no_grad():
        hidden = lm(**batch, output_hidden_states=True).hidden_states[-1]
        values = head(hidden).squeeze(-1)
    direct = values.gather(-1, batch["attention_mask"].sum(-1, keepdim=True) - 1).squeeze(-1).tolist()
    assert scores == pytest.approx(direct, abs=1e-4)
    assert len(set(round(s, 3) for s in scores)) > 3  # real, distinct values
    left = RewardModel(folder, device="cpu", batch_size=4, padding_side="left", bucketing=False)
    assert left.score_pairs(items) == pytest.approx(direct, abs=1e-4)


def test_model_folders_without_a_reward_head_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match=r"no reward head: the weights hold neither 'score\.weight'"):
        RewardModel(tiny_chat_model(), device="cpu")
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text("{}")
    with pytest.raises(ValueError, match="a LoRA adapter folder"):
        RewardModel(tmp_path / "adapter")
    with pytest.raises(ValueError, match="no such model folder"):
        RewardModel(tmp_path / "missing")
    rows = tmp_path / "rows.jsonl"
    write_rows(rows, acecode_rows(range(1)))
    result = runner.invoke(
        app, ["score", str(rows), str(tmp_path / "o.jsonl"), "--model", str(tiny_chat_model())]
    )
    assert result.exit_code == 2 and "no reward head" in result.output
    assert "Traceback" not in result.output


# ---- the command line -----------------------------------------------------------------------------------------


def test_score_cli_adds_rm_score_and_keeps_every_field(trained, tmp_path):
    folder, _ = trained
    rows = acecode_rows(range(70, 76))
    rows.insert(2, {"id": "empty", "question": "Q", "inferences": []})
    source, output = tmp_path / "rows.jsonl", tmp_path / "scored.jsonl"
    write_rows(source, rows)
    result = runner.invoke(
        app, ["score", str(source), str(output), "--model", str(folder), "--batch-size", "3", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "programs scored: 30" in result.output
    scored = read_rows(output)
    rm = RewardModel(folder, device="cpu")
    for before, after in zip(rows, scored, strict=True):
        assert after.keys() == before.keys()
        for inf_before, inf_after in zip(before["inferences"], after["inferences"], strict=True):
            assert {k: v for k, v in inf_after.items() if k != "rm_score"} == inf_before
        programs = [extract_program(inf["completion"]) for inf in before["inferences"]]
        expected = rm.score(before["question"], programs, before.get("test_cases"))
        assert [inf["rm_score"] for inf in after["inferences"]] == pytest.approx(expected, abs=1e-4)
    good, bad = (scored[0]["inferences"][i]["rm_score"] for i in (0, 1))
    assert good > bad


def test_score_cli_bad_rows_name_the_row_and_field(trained, tmp_path):
    folder, _ = trained
    source = tmp_path / "rows.jsonl"
    rows = acecode_rows(range(2))
    del rows[1]["question"]
    write_rows(source, rows)
    result = runner.invoke(app, ["score", str(source), str(tmp_path / "o.jsonl"), "--model", str(folder)])
    assert result.exit_code == 2
    assert f"{source}: row 2: field 'question': missing" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"question": "Q", "chosen": "a"}\n', "pairs.jsonl: row 1: field 'rejected': missing"),
        ('{"prompt": "P", "rejected": "a"}\n', "pairs.jsonl: row 1: field 'chosen': missing"),
        ("", "pairs.jsonl: no pairs: the file is empty"),
    ],
)
def test_train_rm_cli_bad_pairs_fail_with_one_clear_line(tmp_path, content, message):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(content)
    result = runner.invoke(
        app, ["train-rm", str(pairs), str(tmp_path / "rm"), "--model", str(tiny_chat_model())]
    )
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_train_rm_cli_trains_and_prints_a_summary(tmp_path):
    pairs = write_pairs(tmp_path / "pairs.jsonl", range(8), per_question=1)
    args = [
        "train-rm",
        str(pairs),
        str(tmp_path / "rm"),
        "--model",
        str(tiny_chat_model()),
        "--max-steps",
        "2",
    ]
    args += [
        "--batch-size",
        "2",
        "--grad-accum",
        "1",
        "--eval-split",
        "0.25",
        "--lr",
        "1e-4",
        "--threads",
        "1",
    ]
    result = runner.invoke(app, [*args, "--set", "logging_steps=1"])
    assert result.exit_code == 0, result.output
    assert "train: 6 pairs, 6 questions   held out: 2 pairs, 2 questions" in result.output
    assert "held-out pair accuracy:" in result.output
    metrics = json.loads((tmp_path / "rm" / "metrics.json").read_text())
    assert metrics["config"]["batch_size"] == 2 and metrics["training"]["steps_done"] == 2
    missing = runner.invoke(app, ["train-rm", str(pairs), str(tmp_path / "rm2")])
    assert missing.exit_code == 2 and "no base model" in missing.output


@pytest.mark.slow
def test_score_kill_9_then_rerun_finishes_without_rescoring(trained, tmp_path):
    folder, _ = trained
    n_rows = 150
    rows = acecode_rows(range(n_rows), extra=1)
    random.Random(0).shuffle(rows)
    source, output = tmp_path / "rows.jsonl", tmp_path / "scored.jsonl"
    partial = tmp_path / "scored.jsonl.partial.jsonl"
    write_rows(source, rows)
    cmd = [sys.executable, "-c", "from acecoder.cli import main; main()", "score", str(source), str(output)]
    cmd += ["--model", str(folder)]
    cmd += ["--batch-size", "1", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while not (partial.exists() and len(partial.read_text().splitlines()) > 8):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no rows scored in time"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not output.exists()
    done = len(partial.read_text().splitlines()) - 1
    assert 8 <= done < n_rows

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming: {done} rows already done" in rerun.stderr
    assert f"rows: {n_rows} ({done} resumed)   programs scored: {4 * (n_rows - done)}" in rerun.stdout
    scored = read_rows(output)
    assert [r["id"] for r in scored] == [r["id"] for r in rows]
    rm = RewardModel(folder, device="cpu", batch_size=16)
    for row in scored[done - 2 : done + 2]:  # around the kill: nothing lost, nothing doubled
        programs = [extract_program(inf["completion"]) for inf in row["inferences"]]
        expected = rm.score(row["question"], programs, row["test_cases"])
        assert [inf["rm_score"] for inf in row["inferences"]] == pytest.approx(expected, abs=1e-4)


@pytest.mark.slow
def test_pipeline_run_trains_then_scores_and_keeps_both_on_a_rerun(tmp_path):
    import yaml

    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import run_pipeline

    rows = acecode_rows(range(24), extra=0)
    for row in rows:  # pass rates as execute would give them: the right program passes, the others fail
        for inf in row["inferences"]:
            inf["pass_rate"] = 1.0 if inf["completion_id"] == 0 else 0.25
    write_rows(tmp_path / "rows.jsonl", rows)
    train = {"model": str(tiny_chat_model()), "learning_rate": 1e-3, "warmup_ratio": 0.0, "max_steps": 30}
    train |= {"batch_size": 8, "grad_accum": 1, "eval_split": 0.25, "logging_steps": 100}
    config = {
        "run_dir": "run",
        "input": "rows.jsonl",
        "shard_rows": 10,
        "stages": {"pairs": {"format": "trl"}, "train-rm": train, "score": {}},
    }
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(config))
    log: list[str] = []
    run_pipeline(load_run_config(tmp_path / "run.yaml"), log=log.append)
    run_dir = tmp_path / "run"
    metrics = json.loads((run_dir / "train-rm" / "metrics.json").read_text())
    assert metrics["accuracy"] >= 0.9 and metrics["pairs"] == 36  # 18 train questions x 2 pairs
    scored = [r for shard in sorted((run_dir / "score").glob("shard-*.parquet")) for r in read_rows(shard)]
    assert [r["id"] for r in scored] == [r["id"] for r in rows]
    assert all(isinstance(inf["rm_score"], float) for r in scored for inf in r["inferences"])
    assert sum(r["inferences"][0]["rm_score"] > r["inferences"][1]["rm_score"] for r in scored) >= 22
    again: list[str] = []
    run_pipeline(load_run_config(tmp_path / "run.yaml"), log=again.append)
    assert any(line.startswith("train-rm: done") and "nothing to redo" in line for line in again)
    assert any(line.startswith("score: done") and "nothing to redo" in line for line in again)
