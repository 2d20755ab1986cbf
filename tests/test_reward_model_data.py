"""Reward-model inputs without a model: the pair shapes, the held-out split, prompt templates and the config."""

from __future__ import annotations

import json

import pytest

from acecoder.data import DataError, write_rows
from acecoder.data.settings import config_from
from acecoder.pairs import make_pairs
from acecoder.reward_model.config import RewardModelConfig, load_config
from acecoder.reward_model.dataset import read_pairs, split_by_question
from acecoder.reward_model.render import detect_template, resolve_template
from acecoder.sampling.prompt import ACECODEPAIR_TEMPLATE, PREFILL_SENTENCE, SAMPLING_TEMPLATE

GOOD = "def inc(x):\n    return x + 1\n"
BAD = "def inc(x):\n    return x + 2\n"
HALF = "def inc(x):\n    return x + 1 if x < 2 else x\n"


def acecode_rows(n=6):
    return [
        {
            "id": f"q{i}",
            "question": f"Question {i}: add one to x.",
            "test_cases": [f"assert inc({k}) == {k + 1}" for k in range(4)],
            "inferences": [
                {
                    "model_name": "m",
                    "completion_id": 0,
                    "completion": f"```python\n{GOOD}```",
                    "pass_rate": 1.0,
                },
                {"model_name": "m", "completion_id": 1, "completion": HALF, "pass_rate": 0.75},
                {"model_name": "m", "completion_id": 2, "completion": BAD, "pass_rate": 0.25},
            ],
        }
        for i in range(n)
    ]


@pytest.fixture
def rows_file(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_rows(path, acecode_rows())
    return path


@pytest.mark.parametrize(
    ("fmt", "template", "shape"),
    [("pairs", None, "pairs"), ("trl", "sampling", "trl"), ("acecodepair", None, "acecodepair")],
)
def test_every_pair_shape_reads_to_the_same_programs(tmp_path, rows_file, fmt, template, shape):
    out = tmp_path / f"{fmt}.jsonl"
    make_pairs(rows_file, out, format=fmt, template=template, progress=False)
    data = read_pairs(out)
    assert data.shape == shape
    assert len(data.pairs) == 6 and data.identical == 0
    assert {(p.chosen, p.rejected) for p in data.pairs} == {(GOOD.strip(), BAD.strip())}
    assert len(data.groups()) == 6  # one group per question
    if shape == "pairs":
        assert data.pairs[0].question == "Question 0: add one to x." and data.pairs[0].prompt is None
        assert data.pairs[0].gap == pytest.approx(0.75)
    else:
        preset = SAMPLING_TEMPLATE if shape == "trl" else ACECODEPAIR_TEMPLATE
        row = acecode_rows(1)[0]
        assert data.pairs[0].prompt == preset.user_message(row["question"], row["test_cases"])
        assert detect_template(p.prompt for p in data.pairs) == preset


def test_published_acecodepair_rows_and_trl_string_rows(tmp_path):
    answer = f"{PREFILL_SENTENCE}\n```python\n{GOOD}\n```"
    published = tmp_path / "acecodepair.jsonl"
    rows = [{"instruction": "Q", "input": "more", "chosen": answer, "rejected": BAD, "id": 0}]
    write_rows(published, rows)
    pair = read_pairs(published).pairs[0]
    assert pair.prompt == "Q\nmore" and pair.chosen == GOOD.strip() and pair.rejected == BAD.strip()

    text = tmp_path / "trl_text.jsonl"
    write_rows(text, [{"prompt": "P", "chosen": GOOD, "rejected": BAD}])
    assert read_pairs(text).pairs[0].prompt == "P"

    implicit = tmp_path / "trl_implicit.jsonl"
    user = {"role": "user", "content": "U"}
    write_rows(
        implicit,
        [
            {
                "chosen": [user, {"role": "assistant", "content": GOOD}],
                "rejected": [user, {"role": "assistant", "content": BAD}],
            }
        ],
    )
    assert read_pairs(implicit).pairs[0].prompt == "U"


def test_pairs_presenting_one_program_twice_are_left_out_and_counted(tmp_path):
    path = tmp_path / "p.jsonl"
    write_rows(
        path,
        [
            {"question": "Q", "chosen": f"```python\n{GOOD}```", "rejected": GOOD + "\n\n"},
            {"question": "Q", "chosen": GOOD, "rejected": BAD},
        ],
    )
    data = read_pairs(path)
    assert data.identical == 1 and len(data.pairs) == 1


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"question": "Q", "chosen": GOOD}], "row 1: field 'rejected': missing"),
        ([{"prompt": "P", "rejected": BAD}], "row 1: field 'chosen': missing"),
        ([{"instruction": "I", "chosen": 3, "rejected": BAD}], "row 1: field 'chosen': expected a string, got int"),
        ([{"question": "Q", "chosen": GOOD, "rejected": BAD}, {"prompt": "P", "chosen": GOOD, "rejected": BAD}],
         "row 2: a trl row in a file of pairs rows"),
        ([{"text": "hello"}], "row 1: not a preference pair"),
        ([{"prompt": [{"role": "system", "content": "s"}], "chosen": GOOD, "rejected": BAD}],
         "row 1: field 'prompt': expected a string or one user message"),
        ([{"question": "Q", "chosen": GOOD, "rejected": BAD, "chosen_pass_rate": "1"}],
         "field 'chosen_pass_rate'"),
    ],
)  # fmt: skip
def test_bad_pair_rows_name_file_row_and_field(tmp_path, rows, message):
    path = tmp_path / "bad.jsonl"
    write_rows(path, rows)
    with pytest.raises(DataError) as error:
        read_pairs(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_empty_pair_file_is_an_error(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    with pytest.raises(DataError, match=r"empty\.jsonl: no pairs: the file is empty"):
        read_pairs(path)


def test_split_holds_out_whole_questions_deterministically(tmp_path):
    path = tmp_path / "p.jsonl"
    rows = [
        {"question_id": f"q{q}", "question": f"Q{q}", "chosen": GOOD, "rejected": f"{BAD}# {k}"}
        for q in range(40)
        for k in range(q % 4 + 1)
    ]
    write_rows(path, rows)
    pairs = read_pairs(path).pairs
    train, held = split_by_question(pairs, 0.25, seed=3)
    assert len(train) + len(held) == len(pairs)
    assert not {p.group for p in train} & {p.group for p in held}
    assert len({p.group for p in held}) == 10
    assert split_by_question(pairs, 0.25, seed=3) == (train, held)
    assert {p.group for p in split_by_question(pairs, 0.25, seed=4)[1]} != {p.group for p in held}
    assert split_by_question(pairs, 0.0) == (pairs, [])
    with pytest.raises(ValueError, match="cover 1 question"):
        split_by_question([p for p in pairs if p.group == "q0"], 0.5)


def test_template_follows_the_pairs():
    # Questions: the sampling prompt, showing tests only when the pairs carry them.
    assert resolve_template(None, rendered_prompts=None, has_tests=True) == SAMPLING_TEMPLATE
    assert resolve_template(None, rendered_prompts=None, has_tests=False).num_tests == 0
    assert resolve_template("acecodepair", rendered_prompts=None, has_tests=True) == ACECODEPAIR_TEMPLATE
    # Rendered prompts: the preset that rendered them, or a clear error.
    tests = ["assert f(1) == 2", "assert f(2) == 3"]
    pair_prompts = [ACECODEPAIR_TEMPLATE.user_message("Q {x}\n\nmore", tests)]
    assert resolve_template(None, rendered_prompts=pair_prompts, has_tests=False) == ACECODEPAIR_TEMPLATE
    sampling_prompts = [SAMPLING_TEMPLATE.user_message("Q", tests)]
    assert resolve_template(None, rendered_prompts=sampling_prompts, has_tests=False) == SAMPLING_TEMPLATE
    with pytest.raises(ValueError, match="not the sampling or AceCodePair prompt"):
        resolve_template(None, rendered_prompts=["Write f."], has_tests=False)
    with pytest.raises(ValueError, match="not rendered by the template 'acecodepair'"):
        resolve_template("acecodepair", rendered_prompts=sampling_prompts, has_tests=False)


def test_config_file_then_options_then_sets(tmp_path):
    path = tmp_path / "rm.yaml"
    path.write_text("model: base\nlearning_rate: 2.0e-5\nbatch_size: 8\ntrl: {optim: adamw_torch}\n")
    config = load_config(
        path, {"batch_size": 16, "epochs": None}, ["eval_steps=0", "lora=true", "trl.max_grad_norm=0.5"]
    )
    assert (config.model, config.learning_rate, config.batch_size, config.epochs) == ("base", 2e-5, 16, 1.0)
    assert config.eval_steps == 0 and config.lora
    assert config.trl == {"optim": "adamw_torch", "max_grad_norm": 0.5}
    assert load_config(None, None, ["learning_rate=1e-5"]).learning_rate == 1e-5  # YAML 1.1 reads a string
    assert config.accumulation() == 128 // 16
    # An explicit --grad-accum wins over the file's global batch.
    assert load_config(path, {"grad_accum": 3}).accumulation() == 3
    with pytest.raises(ValueError, match="not a multiple"):
        load_config(path, {"batch_size": 48}).accumulation()


def test_bundled_paper_recipe():
    config = load_config("paper")
    assert config.model == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert (config.learning_rate, config.epochs, config.lr_scheduler_type, config.warmup_ratio) == (
        1e-5,
        1.0,
        "cosine",
        0.1,
    )
    assert (config.global_batch_size, config.max_length, config.bf16, config.margin_scale) == (
        128,
        2048,
        None,
        0,
    )
    assert config.batch_size * config.accumulation(world_size=8) * 8 == 128


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lerning_rate: 1.0\n", r"bad.yaml: unknown key\(s\) \['lerning_rate'\]"),
        ("batch_size: four\n", "'batch_size' must be int"),
        ("lora: 1\n", "'lora' must be bool"),
        ("- a\n", "expected a mapping"),
        ("warmup_ratio: 1.5\n", "warmup_ratio must be in"),
    ],
)
def test_bad_config_names_the_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_config_from_reads_json_and_rejects_bad_sets(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"max_length": None, "lora_target_modules": ["q_proj", "v_proj"]}))
    config = config_from(RewardModelConfig, path)
    assert config.max_length is None and config.lora_target_modules == ["q_proj", "v_proj"]
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        load_config(None, None, ["lr"])
    with pytest.raises(ValueError, match=r"--set epochs=x: 'epochs' must be float"):
        load_config(None, None, ["epochs=x"])


@pytest.mark.shared_data
def test_released_row_pairs_read_back_to_the_text_they_were_written_as(shared_data, tmp_path):
    """Pairs of the released AceCode-87K row in the AceCodePair shape: detected as the AceCodePair prompt, and
    re-rendering each program gives back exactly the chosen/rejected text, so nothing is lost in training."""
    from acecoder.data import read_rows

    out = tmp_path / "pairs.jsonl"
    make_pairs(shared_data / "acecode" / "acecode87k_sample_open_instruct.jsonl", out, format="acecodepair")
    rows, data = read_rows(out), read_pairs(out)
    assert data.shape == "acecodepair" and len(data.pairs) + data.identical == len(rows) > 10
    template = resolve_template(None, rendered_prompts=[p.prompt for p in data.pairs], has_tests=False)
    assert template == ACECODEPAIR_TEMPLATE
    written = [(r["chosen"], r["rejected"]) for r in rows if r["chosen"] != r["rejected"]]
    assert [(template.answer_text(p.chosen), template.answer_text(p.rejected)) for p in data.pairs] == written
