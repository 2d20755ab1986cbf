"""Run acecoder's rewards through the real RL libraries' own loaders and reward paths, on the released AceCode row.

    .venv/bin/python scripts/check_trainers.py [--venvs DIR] [--only verl,openrlhf,trl] [--skip-install]

Installs verl, OpenRLHF (without its GPU-only dependencies: flash-attn and deepspeed do not build on CPU; only
what its reward client imports) and TRL into throwaway venvs (``--venvs``, default a temporary folder, kept with
``--keep``), each with ``torch==2.13.0`` pinned in the same pip command and this checkout installed, then drives
each library's code with the row's 80 released completions:

* verl: the config composed by Hydra from verl's own ``ppo_trainer.yaml`` with
  ``reward.custom_reward_function.path=<acecoder/reward/verl.py>`` (and a ``+reward_kwargs`` key), loaded by
  verl's ``load_reward_manager`` into the ``naive``, ``dapo`` and ``rate_limited`` managers (``run_single`` per
  sample, concurrently), the Ray ``RewardLoopManager`` (8 reward workers, one engine each, killed at the end),
  and the legacy ``PrimeRewardManager`` (a process pool) with ``compute_score_float``;
* OpenRLHF: ``SingleTurnAgentExecutor.execute`` (a stand-in for vLLM returns the completion's tokens) with the
  ``.py`` remote reward, and with the HTTP client against ``acecoder serve-reward``;
* TRL: ``GRPOTrainer._calculate_rewards`` (its reward call path, sync and async) with ``TestCaseReward`` and
  ``AsyncTestCaseReward`` side by side.

Every path must give 1.0 to exactly the completions whose released pass rate is 1.0 (64 of 80) and 0.0 to the
others. Prints one line per path and a JSON summary; exit status 0 when all agree, 1 otherwise. Took 49 min on 2
busy cores (load ~20), 36 of them installing (``--skip-install`` reuses ``--venvs``). CI does not run it; run it
before a release. Results: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_SHARED = [REPO.parent / "shared" / "data", REPO.parents[1] / "shared" / "data"]  # a checkout or a worktree
SHARED = Path(os.environ.get("ACECODER_SHARED_DATA") or next((p for p in _SHARED if p.is_dir()), _SHARED[0]))
ROW = SHARED / "acecode" / "acecode87k_sample_open_instruct.jsonl"
TORCH = "torch==2.13.0"
# What each venv gets (one pip command each, torch pinned in it); OpenRLHF's own package goes in with --no-deps.
INSTALLS = {
    "verl": [[TORCH, "verl==0.9.1", "-e", str(REPO)]],
    "openrlhf": [
        ["--no-deps", "openrlhf==0.11.2"],
        [TORCH, "transformers==5.15.0", "aiohttp", "sympy", "pylatexenc", "-e", f"{REPO}[serve]"],
    ],
    "trl": [
        [
            TORCH,
            "trl==1.16.0",
            "transformers==5.23.0",
            "accelerate==1.15.0",
            "datasets==5.2.0",
            "-e",
            str(REPO),
        ]
    ],
}
VERSIONS = {
    "verl": ["verl", "ray", "torch"],
    "openrlhf": ["openrlhf", "transformers", "torch"],
    "trl": ["trl", "transformers", "torch"],
}
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


# ---- the parent: venvs, drivers, verdicts ---------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--venvs", type=Path, help="folder for the throwaway venvs (default: a temporary one)"
    )
    parser.add_argument("--only", default="verl,openrlhf,trl", help="comma-separated: verl, openrlhf, trl")
    parser.add_argument("--skip-install", action="store_true", help="reuse the venvs in --venvs as they are")
    parser.add_argument("--keep", action="store_true", help="keep the temporary venvs")
    parser.add_argument("--row", type=Path, default=ROW, help="an AceCode row with released pass rates")
    parser.add_argument("--driver", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.driver:
        return _drive(args.driver, args.row, args.out)
    if not args.row.is_file():
        parser.error(f"{args.row}: no such file (set ACECODER_SHARED_DATA or pass --row)")
    row = json.loads(args.row.read_text().splitlines()[0])
    expected = [1.0 if i["pass_rate"] == 1.0 else 0.0 for i in row["inferences"]]
    venvs = args.venvs or Path(tempfile.mkdtemp(prefix="acecoder-trainers-"))
    libraries = [name.strip() for name in args.only.split(",") if name.strip()]
    print(f"row {row['id']}: {len(expected)} completions, {int(sum(expected))} with released pass rate 1.0")
    print(f"venvs in {venvs}; load {os.getloadavg()[0]:.1f}")
    report, ok = {}, True
    try:
        for library in libraries:
            python = venvs / library / "bin" / "python"
            if not args.skip_install or not python.exists():
                seconds = _install(library, venvs / library)
                print(f"{library}: installed in {seconds:.0f} s")
            out = venvs / f"{library}.json"
            started = time.monotonic()
            done = subprocess.run(
                [str(python), __file__, "--driver", library, "--row", str(args.row), "--out", str(out)],
                env={
                    **os.environ,
                    "RAY_AUTH_MODE": "disabled",
                    "OMP_NUM_THREADS": "1",
                    "HF_HUB_OFFLINE": "1",
                },
                capture_output=True,
                text=True,
            )
            if done.returncode != 0 or not out.exists():
                print(f"{library}: driver failed ({done.returncode})\n{done.stderr[-4000:]}")
                ok = False
                continue
            result = json.loads(out.read_text())
            report[library] = result
            print(
                f"{library} ({', '.join(f'{k} {v}' for k, v in result['versions'].items())}), "
                f"{time.monotonic() - started:.0f} s:"
            )
            for path, outcome in result["paths"].items():
                agree = outcome["rewards"] == expected
                ok &= agree
                ones = sum(r == 1.0 for r in outcome["rewards"])
                print(
                    f"  {'OK  ' if agree else 'FAIL'} {path}: {ones} of {len(outcome['rewards'])} rewards 1.0"
                    f" ({outcome['seconds']:.1f} s){'; ' + outcome['note'] if outcome.get('note') else ''}"
                )
            for check, value in result.get("checks", {}).items():
                passed = value is True or (isinstance(value, str) and not value.startswith("FAIL"))
                ok &= passed
                print(f"  {'OK  ' if passed else 'FAIL'} {check}: {value}")
    finally:
        if args.venvs is None and not args.keep:
            shutil.rmtree(venvs, ignore_errors=True)
    summary = {
        lib: {p: sum(x == 1.0 for x in o["rewards"]) for p, o in r["paths"].items()}
        for lib, r in report.items()
    }
    print(json.dumps({"all_agree": ok, "ones_per_path": summary}))
    return 0 if ok else 1


def _install(library: str, folder: Path) -> float:
    started = time.monotonic()
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--clear", str(folder)], check=True)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    for packages in INSTALLS[library]:
        done = subprocess.run([*pip, *packages], capture_output=True, text=True)
        (folder / "pip.log").open("a").write(done.stdout + done.stderr)
        if done.returncode != 0:
            raise SystemExit(f"{library}: pip install {' '.join(packages)} failed:\n{done.stderr[-3000:]}")
    return time.monotonic() - started


def _attempt(paths: dict, name: str, run) -> None:
    """Record one path's outcome; a path that raises is recorded as failed and the others still run."""
    try:
        paths[name] = run()
    except Exception as e:
        paths[name] = {"rewards": [], "seconds": 0.0, "note": f"raised {type(e).__name__}: {str(e)[:300]}"}


def _outcome(rewards, started: float, note: str = "") -> dict:
    """One path's rewards (None where the library got no reward) and how long it took."""
    values = [None if r is None else float(r) for r in rewards]
    return {"rewards": values, "seconds": time.monotonic() - started, "note": note}


# ---- shared by the drivers (run inside a library's venv) ------------------------------------------------------


def _drive(library: str, row_path: Path, out: Path) -> int:
    from importlib.metadata import version

    row = json.loads(row_path.read_text().splitlines()[0])
    work = Path(tempfile.mkdtemp(prefix=f"acecoder-{library}-"))
    try:
        paths, checks = {"verl": _verl, "openrlhf": _openrlhf, "trl": _trl}[library](row, row_path, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    versions = {name: version(name) for name in VERSIONS[library]}
    out.write_text(json.dumps({"versions": versions, "paths": paths, "checks": checks}))
    return 0


def _prompt(row: dict) -> str:
    """The row's question as acecoder samples it, in a ChatML conversation left open after the prefill."""
    from acecoder.sampling import SAMPLING_TEMPLATE

    messages = SAMPLING_TEMPLATE.messages(row["question"], row["test_cases"], with_prefill=True)
    turns = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages[:-1]]
    return "".join(turns) + f"<|im_start|>assistant\n{messages[-1]['content']}"


def _tokenizer(row: dict, folder: Path):
    """A byte-level BPE tokenizer trained on the row (decoding gives back every text exactly), saved to
    ``folder`` as a Hugging Face tokenizer (verl's workers load it by path)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    texts = [_prompt(row)] + [i["completion"] for i in row["inferences"]]
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=1500, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
        clean_up_tokenization_spaces=False,
    ).save_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    for text in texts:
        assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text
    return tokenizer


def _row_file(row: dict, folder: Path) -> Path:
    path = folder / "row.jsonl"
    path.write_text(json.dumps(row) + "\n")
    return path


# ---- verl -----------------------------------------------------------------------------------------------------


def _verl(row: dict, row_path: Path, work: Path):
    import numpy as np
    import torch
    import verl
    from hydra import compose, initialize_config_dir
    from omegaconf import open_dict
    from verl import DataProto
    from verl.trainer.ppo.reward import get_custom_reward_fn, load_reward_manager

    import acecoder.reward.verl as acecoder_verl

    tokenizer = _tokenizer(row, work / "tokenizer")
    completions = [i["completion"] for i in row["inferences"]]
    prompt_ids = tokenizer.encode(_prompt(row), add_special_tokens=False)
    responses = [
        [*tokenizer.encode(c, add_special_tokens=False), tokenizer.eos_token_id] for c in completions
    ]
    width = max(map(len, responses))
    pad = tokenizer.pad_token_id
    prompts = torch.tensor([prompt_ids] * len(responses))
    response_ids = torch.tensor([r + [pad] * (width - len(r)) for r in responses])
    mask = torch.tensor([[1] * len(prompt_ids) + [1] * len(r) + [0] * (width - len(r)) for r in responses])
    data = DataProto.from_dict(
        tensors={
            "prompts": prompts,
            "responses": response_ids,
            "input_ids": torch.cat([prompts, response_ids], dim=1),
            "attention_mask": mask,
        },
        non_tensors={
            "data_source": np.array(["acecode"] * len(responses), dtype=object),
            "reward_model": np.array(
                [{"ground_truth": json.dumps(row["test_cases"])}] * len(responses), dtype=object
            ),
            "extra_info": np.array([{"index": i} for i in range(len(responses))], dtype=object),
        },
    )
    config_dir = str(Path(verl.__file__).parent / "trainer" / "config")
    reward_file = acecoder_verl.__file__
    overrides = [
        f"reward.custom_reward_function.path={reward_file}",
        "reward.custom_reward_function.name=compute_score",
        "+reward.custom_reward_function.reward_kwargs.mode=binary",
        f"actor_rollout_ref.model.path={work / 'tokenizer'}",
    ]
    paths, checks = {}, {}
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        try:
            compose("ppo_trainer", overrides=[o.lstrip("+") for o in overrides])
            checks["reward_kwargs without '+' rejected by verl's config"] = "FAIL: accepted"
        except Exception as e:
            checks["reward_kwargs without '+' rejected by verl's config"] = f"yes ({type(e).__name__})"
        config = compose("ppo_trainer", overrides=overrides)

    last = mask[:, len(prompt_ids) :].sum(-1) - 1  # where verl puts a sample's reward

    def with_manager(manager: str):
        with open_dict(config):
            config.reward.reward_manager.name = manager
        started = time.monotonic()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        reward_manager = load_reward_manager(config, tokenizer)

        async def every_sample():
            return await asyncio.gather(
                *[reward_manager.run_single(data[i : i + 1]) for i in range(len(data))]
            )

        try:
            outputs = loop.run_until_complete(every_sample())
        finally:
            loop.close()
        keys = sorted(outputs[0]["reward_extra_info"])
        return _outcome([o["reward_score"] for o in outputs], started, f"extra info keys {keys}")

    for manager in ("naive", "dapo", "rate_limited"):
        _attempt(
            paths,
            f"reward manager {manager} (load_reward_manager, run_single)",
            lambda m=manager: with_manager(m),
        )

    # The legacy PRIME manager: a process pool that pickles the function and reads float(result[0]).
    from verl.workers.reward_manager import PrimeRewardManager

    def prime_manager(name: str, rows):
        with open_dict(config):
            config.reward.custom_reward_function.name = name
        started = time.monotonic()
        tensor = PrimeRewardManager(tokenizer, num_examine=0, compute_score=get_custom_reward_fn(config))(
            rows
        )
        return _outcome(tensor[torch.arange(len(rows)), last[: len(rows)]].tolist(), started)

    _attempt(
        paths,
        "PrimeRewardManager (legacy, process pool) with compute_score_float",
        lambda: prime_manager("compute_score_float", data),
    )
    try:
        prime_manager("compute_score", data[:2])
        checks["PrimeRewardManager with the dict compute_score stops loudly"] = "FAIL: it scored silently"
    except BaseException as e:
        checks["PrimeRewardManager with the dict compute_score stops loudly"] = f"yes ({type(e).__name__})"
    with open_dict(config):
        config.reward.custom_reward_function.name = "compute_score"

    # The Ray reward loop: 8 RewardLoopWorker actors, each loading the function and starting its own engine.
    import ray
    from verl.experimental.reward_loop import RewardLoopManager

    with open_dict(config):
        config.reward.reward_manager.name = "naive"

    def under_ray():
        started = time.monotonic()
        for attempt in range(3):  # its raylet must register within 30 s, which a loaded machine can miss
            try:
                ray.init(
                    num_cpus=4,
                    include_dashboard=False,
                    log_to_driver=False,
                    runtime_env={"env_vars": {"ACECODER_REWARD_WORKERS": "1"}},
                )
                break
            except Exception:
                ray.shutdown()
                if attempt == 2:
                    raise
        try:
            manager = RewardLoopManager(config)
            scored = manager.compute_rm_score(data)
            rewards = scored.batch["rm_scores"][torch.arange(len(data)), last].tolist()
            note = f"{config.reward.num_workers} workers; extra keys {scored.meta_info['reward_extra_keys']}"
            return _outcome(rewards, started, note)
        finally:
            ray.shutdown()  # kills the workers: their engines' cgroups stay behind

    _attempt(paths, "RewardLoopManager under Ray", under_ray)
    checks["killed reward workers' cgroups removed by the next engine"] = _stale_groups_swept()
    return paths, checks


def _stale_groups_swept() -> str:
    """Start an engine after Ray killed the reward workers: no group of a dead engine may be left."""
    import glob

    from acecoder.execution import ExecutionEngine
    from acecoder.execution.stale import engine_base
    from acecoder.execution.uids import UidRange

    time.sleep(2.0)  # the dead workers' sandbox servers die with them (parent-death signal)
    with ExecutionEngine(workers=1) as engine:
        roots = {os.path.dirname(os.path.dirname(d)) for d in engine._cgroup_dirs}
        if not roots:
            return "skipped (no cgroups here)"
        left = [
            path
            for root in roots
            for path in glob.glob(os.path.join(root, "acecoder-e*"))
            if (base := engine_base(os.path.basename(path))) is not None
            and base != engine.uids.base
            and not UidRange.in_use(base)
        ]
    return "yes" if not left else f"FAIL: {len(left)} stale groups left"


# ---- OpenRLHF -------------------------------------------------------------------------------------------------


class _Output:
    def __init__(self, token_ids, text):
        self.token_ids, self.text, self.finish_reason, self.logprobs = token_ids, text, "stop", None


class _FakeVLLM:
    """Stands in for OpenRLHF's vLLM actor: "generates" the next released completion's tokens."""

    def __init__(self, tokenizer, completions):
        self.tokenizer, self.queue = tokenizer, list(completions)

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        completion = self.queue.pop(0)
        ids = [*self.tokenizer.encode(completion, add_special_tokens=False), self.tokenizer.eos_token_id]
        return type("RequestOutput", (), {"outputs": [_Output(ids, completion)]})()


def _openrlhf(row: dict, row_path: Path, work: Path):
    import openrlhf
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    import acecoder.reward.openrlhf as acecoder_openrlhf

    tokenizer = _tokenizer(row, work / "tokenizer")
    completions = [i["completion"] for i in row["inferences"]]
    prompt = _prompt(row)
    params = type("SamplingParams", (), {"max_tokens": 1024, "logprobs": None})()

    async def rollout(executor):
        engine = _FakeVLLM(tokenizer, completions)
        outputs = await asyncio.gather(
            *[executor.execute(prompt, row["id"], params, 4096, tokenizer, engine) for _ in completions]
        )
        return [_scalar(o["reward"]) for o in outputs], outputs[0]["extra_logs"]

    paths, checks = {}, {}
    os.environ["ACECODER_REWARD_DATASET"] = str(row_path)  # labels are row ids (--data.label_key id)

    def python_file():
        started = time.monotonic()
        rewards, extra = asyncio.run(
            rollout(SingleTurnAgentExecutor(remote_rm_url=acecoder_openrlhf.__file__))
        )
        return _outcome(rewards, started, f"extra_logs {sorted(extra)}")

    def over_http():
        port = _free_port()
        cli = Path(sys.executable).with_name("acecoder")
        log = work / "serve-reward.log"
        with log.open("w") as stderr:
            server = subprocess.Popen(
                [str(cli), "serve-reward", "--dataset", str(row_path), "--port", str(port)], stderr=stderr
            )
        try:
            _wait_for(port, server, log)
            started = time.monotonic()
            url = f"http://127.0.0.1:{port}/get_reward"
            rewards, extra = asyncio.run(rollout(SingleTurnAgentExecutor(remote_rm_url=[url])))
            return _outcome(rewards, started, f"extra_logs {sorted(extra)}")
        finally:
            server.terminate()
            server.wait(30)

    _attempt(paths, "SingleTurnAgentExecutor, .py remote reward (reward_func)", python_file)
    _attempt(paths, "SingleTurnAgentExecutor, HTTP client -> acecoder serve-reward", over_http)
    cli_source = (Path(openrlhf.__file__).parent / "cli" / "train_ppo_ray.py").read_text()
    flags = {
        flag: f'"{flag}"' in cli_source
        for flag in ("--data.label_key", "--reward.remote_url", "--label_key", "--remote_rm_url")
    }
    checks["train_ppo_ray flags (--data.label_key, --reward.remote_url defined; old names gone)"] = (
        "yes"
        if flags
        == {
            "--data.label_key": True,
            "--reward.remote_url": True,
            "--label_key": False,
            "--remote_rm_url": False,
        }
        else f"FAIL: {flags}"
    )
    return paths, checks


def _scalar(reward):
    """A sample's reward as OpenRLHF stores it: a one-element tensor (``.py`` reward) or list (HTTP, as from
    OpenRLHF's own ``serve_rm``); None when it got none."""
    if reward is None:
        return None
    if hasattr(reward, "flatten"):
        reward = reward.flatten().tolist()
    if isinstance(reward, list):
        assert len(reward) == 1, reward
        reward = reward[0]
    return float(reward)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"acecoder serve-reward exited {server.returncode}: {log.read_text()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"acecoder serve-reward did not listen on port {port}")


# ---- TRL ------------------------------------------------------------------------------------------------------


def _trl(row: dict, row_path: Path, work: Path):
    import torch
    from datasets import Dataset
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    from acecoder.reward import AsyncTestCaseReward, TestCaseReward

    torch.set_num_threads(1)
    tokenizer = _tokenizer(row, work / "tokenizer")
    model = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )
    completions = [i["completion"] for i in row["inferences"]]
    prompt = _prompt(row)
    train = Dataset.from_dict(
        {"prompt": [prompt] * 8, "test_cases": [row["test_cases"]] * 8, "id": [row["id"]] * 8}
    )
    args = GRPOConfig(
        output_dir=str(work / "grpo"),
        use_cpu=True,
        bf16=False,
        report_to="none",
        per_device_train_batch_size=8,
        num_generations=8,
        max_completion_length=8,
    )
    rewards = [TestCaseReward(), AsyncTestCaseReward()]
    trainer = GRPOTrainer(
        model=model, reward_funcs=rewards, args=args, train_dataset=train, processing_class=tokenizer
    )
    inputs = [{"prompt": prompt, "test_cases": row["test_cases"], "id": row["id"]} for _ in completions]
    ids = [tokenizer.encode(c, add_special_tokens=False) for c in completions]
    started = time.monotonic()
    per_func = trainer._calculate_rewards(inputs, [prompt] * len(completions), completions, ids)
    seconds = time.monotonic() - started
    paths = {}
    for column, name in enumerate(trainer.reward_func_names):
        paths[f"GRPOTrainer._calculate_rewards, {type(rewards[column]).__name__} ({name})"] = {
            "rewards": per_func[:, column].tolist(),
            "seconds": seconds,
            "note": "",
        }
    names = trainer.reward_func_names
    checks = {
        "distinct reward names in TRL": "yes " + str(names)
        if len(set(names)) == len(names)
        else f"FAIL: {names}"
    }
    for reward in rewards:
        reward.close()
    return paths, checks


if __name__ == "__main__":
    sys.exit(main())
