"""Test-case rewards for TRL, verl and OpenRLHF: exact scores, None only for engine failures, hacks get 0."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import select
import sys
import threading
import time
import types
from typing import ClassVar

import numpy as np
import pytest

from acecoder.data import DataError
from acecoder.execution import JobResult, Limits
from acecoder.reward import (
    AsyncTestCaseReward,
    EngineDispatcher,
    RewardModelReward,
    TestCaseReward,
    WeightedReward,
    response_from_query,
)
from acecoder.reward import shared as shared_module
from acecoder.reward.scoring import make_job
from acecoder.sampling import PREFILL_SENTENCE

LIMITS = Limits(timeout=0.5, setup_timeout=1.0, wall_factor=2.0, wall_extra=0.5)
TESTS = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0", "assert add(2, 2) == 4", "assert add(0, 5) == 5"]
RIGHT = "def add(a, b):\n    return a + b\n"
HALF = "def add(a, b):\n    return a + b if a > 0 else 7\n"  # passes tests 0 and 2 only


@pytest.fixture(scope="module")
def dispatcher():
    with EngineDispatcher(workers=2, limits=LIMITS) as d:
        yield d


@pytest.fixture(scope="module")
def binary(dispatcher):
    return TestCaseReward("binary", dispatcher=dispatcher)


@pytest.fixture(scope="module")
def pass_rate(dispatcher):
    return TestCaseReward("pass_rate", dispatcher=dispatcher)


def test_binary_and_pass_rate_score_exactly(binary, pass_rate):
    completions = [RIGHT, HALF, "def add(a, b):\n    return None\n", "this is not python ("]
    assert binary(prompts=["p"] * 4, completions=completions, test_cases=[TESTS] * 4) == [1.0, 0.0, 0.0, 0.0]
    assert pass_rate(prompts=["p"] * 4, completions=completions, test_cases=[TESTS] * 4) == [
        1.0,
        0.5,
        0.0,
        0.0,
    ]


def test_answers_are_read_as_acecoder_sample_reads_them(binary):
    fenced = f"Here you go:\n```python\n{RIGHT}```\nIt adds numbers."
    prefill_continuation = f"{RIGHT}```\n\nThis function returns the sum."  # the prompt opened the fence
    with_trailing_tests = RIGHT + "\nassert add(1, 1) == 3\nprint(add(2, 2))\n"  # stripped, as sample does
    conversational = [{"role": "assistant", "content": fenced}]
    blocks = [{"role": "assistant", "content": [{"type": "text", "text": fenced}]}]
    completions = [fenced, prefill_continuation, with_trailing_tests, conversational, blocks]
    assert binary(completions=completions, test_cases=[TESTS] * 5) == [1.0] * 5


def test_extra_columns_are_ignored_json_tests_accepted_and_metrics_logged(binary):
    logged: dict[str, float] = {}
    rewards = binary(
        prompts=[[{"role": "user", "content": "q"}]] * 3,
        completions=[RIGHT, HALF, "while True:\n    pass\n"],
        test_cases=[TESTS, json.dumps(TESTS), TESTS],
        question=["q"] * 3,
        id=["a", "b", "c"],
        completion_ids=[[1], [2], [3]],
        trainer_state=object(),
        log_metric=logged.__setitem__,
    )
    assert rewards == [1.0, 0.0, 0.0]
    assert logged[binary.metric_prefix + "all_pass_rate"] == pytest.approx(1 / 3)
    assert logged[binary.metric_prefix + "timeout_rate"] == pytest.approx(1 / 3)  # the endless top level
    assert logged[binary.metric_prefix + "infra_errors"] == 0.0


def test_bad_inputs_fail_clearly(binary):
    with pytest.raises(KeyError, match="no 'test_cases' column"):
        binary(completions=[RIGHT], question=["q"])
    with pytest.raises(ValueError, match=r"test_cases\[0\]: no tests"):
        binary(completions=[RIGHT], test_cases=[[]])
    with pytest.raises(ValueError, match=r"test_cases\[1\]: not a JSON list"):
        binary(completions=[RIGHT, RIGHT], test_cases=[TESTS, "assert add(1, 2) == 3"])
    with pytest.raises(ValueError, match="2 completions but 1"):
        binary(completions=[RIGHT, RIGHT], test_cases=[TESTS])
    with pytest.raises(ValueError, match="reward mode"):
        TestCaseReward("partial", start=False)


HACKS = {
    "always-equal object": (
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "def add(a, b):\n    return Anything()\n"
    ),
    "always-equal int subclass": (
        "class Int(int):\n    def __eq__(self, other):\n        return True\n"
        "def add(a, b):\n    return Int(99)\n"
    ),
    "sys.exit(0) before the asserts": "import sys\ndef add(a, b):\n    return 0\nsys.exit(0)\n",
    "os._exit(0) inside the function": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "raise SystemExit in a test": "def add(a, b):\n    raise SystemExit(0)\n",
    "printing PASS": (
        "import sys\ndef add(a, b):\n    print('PASS')\n    sys.stdout.write('All tests passed\\n')\n    return -1\n"
        "print('PASS')\n"
    ),
}


@pytest.mark.parametrize("mode", ["binary", "pass_rate"])
def test_classic_reward_hacks_get_zero_in_both_modes(dispatcher, mode):
    reward = TestCaseReward(mode, dispatcher=dispatcher)
    completions = [f"```python\n{program}```" for program in HACKS.values()]
    assert reward(completions=completions, test_cases=[TESTS] * len(HACKS)) == [0.0] * len(HACKS)


class _BrokenEngine:
    """An engine whose sandbox always fails on programs marked ``# infra`` and fails once on those marked
    ``# flaky`` (the cases that are not the program's fault)."""

    workers, isolation = 1, {}

    def __init__(self):
        self.seen: list[str] = []

    def start(self):
        return self

    def close(self):
        pass

    def stream(self, jobs, wakeup):
        index = 0
        for job in jobs:
            if job is None:  # nothing queued: wait for the dispatcher's wake-up, as the engine does
                select.select([wakeup], [], [])
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup, 8)
                continue
            self.seen.append(job.program)
            first_flaky = "# flaky" in job.program and self.seen.count(job.program) == 1
            if "# infra" in job.program or first_flaky:
                yield index, JobResult([0] * len(job.tests), ["infra"] * len(job.tests), infra_error="died")
            else:
                yield index, JobResult([1] * len(job.tests), [None] * len(job.tests))
            index += 1


def test_engine_failures_are_retried_then_excluded_never_zero():
    engine = _BrokenEngine()
    with TestCaseReward(engine=engine) as reward:
        logged: dict[str, float] = {}
        completions = [RIGHT, RIGHT + "# infra\n", RIGHT + "# flaky\n"]
        rewards = reward(completions=completions, test_cases=[TESTS] * 3, log_metric=logged.__setitem__)
        assert rewards == [1.0, None, 1.0]  # the flaky one passed on its retry
        assert engine.seen.count(RIGHT + "# infra\n") == 3  # tried, then retried twice
        assert logged[f"{reward.__name__}/infra_errors"] == 1.0
        assert logged[f"{reward.__name__}/infra_retries"] == 3.0  # 2 failures, then 1 more


def test_engine_failures_get_neutral_rewards_or_raise_as_chosen():
    from acecoder.reward.failures import RewardInfraError

    completions, tests = [RIGHT, RIGHT + "# infra\n"], [TESTS] * 2
    with TestCaseReward(engine=_BrokenEngine(), on_infra_error="neutral", neutral_reward=0.25) as neutral:
        rewards, stats = neutral.evaluate(completions, tests)
        assert rewards == [1.0, 0.25] and stats.failed == [False, True] and stats.neutral == 1
    with (
        TestCaseReward(engine=_BrokenEngine(), on_infra_error="raise", retries=0) as strict,
        pytest.raises(RewardInfraError, match="failed on 1 sample"),
    ):
        strict(completions=completions, test_cases=tests)
    with pytest.raises(ValueError, match="on_infra_error must be one of"):
        TestCaseReward(on_infra_error="ignore", start=False)


def test_an_engine_that_keeps_failing_stops_the_run_even_with_neutral_rewards():
    from acecoder.reward.failures import RewardInfraError

    with TestCaseReward(engine=_BrokenEngine(), on_infra_error="neutral", retries=0) as reward:
        for _ in range(7):
            reward.evaluate([RIGHT + "# infra\n"] * 8, [TESTS] * 8)  # 56 in a row
        with pytest.raises(RewardInfraError, match="64 samples in a row"):
            reward.evaluate([RIGHT + "# infra\n"] * 8, [TESTS] * 8)


class _RaisingEngine(_BrokenEngine):
    """An engine that raises (rather than reporting a failed job) on its first run."""

    def stream(self, jobs, wakeup):
        if not self.seen:
            self.seen.append("raised")
            next(jobs)
            raise OSError("sandbox server could not be restarted")
        yield from super().stream(jobs, wakeup)


def test_an_engine_that_raises_is_an_engine_failure_and_is_retried():
    with TestCaseReward(engine=_RaisingEngine()) as reward:
        rewards, stats = reward.evaluate([RIGHT], [TESTS])
        assert rewards == [1.0] and stats.retried == 1


_NAMES = """
import gc
from acecoder.reward import AsyncTestCaseReward, TestCaseReward
first = TestCaseReward("binary", start=False)
others = [AsyncTestCaseReward("binary", start=False), TestCaseReward("pass_rate", start=False),
          TestCaseReward("binary", start=False, tests_key="hidden"), TestCaseReward("binary", start=False)]
named = TestCaseReward("binary", start=False, name="unit_tests")
print([first.__name__] + [r.__name__ for r in others] + [named.__name__, named.metric_prefix])
del first
gc.collect()
print(TestCaseReward("binary", start=False).__name__)
"""


def test_every_reward_has_its_own_name_for_trl(dispatcher):
    """TRL names a reward's columns and metrics by ``__name__`` and merges rewards that share one."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", _NAMES], capture_output=True, text=True, check=True)
    names, again = done.stdout.splitlines()
    assert eval(names) == [
        "tests_binary",
        "tests_binary_async",
        "tests_pass_rate",
        "tests_binary_hidden",
        "tests_binary_2",  # a second live reward of the same kind
        "unit_tests",
        "unit_tests/",
    ]
    assert again == "tests_binary"  # a dropped reward frees its name
    named = TestCaseReward("binary", dispatcher=dispatcher, name="my_tests")
    logged: dict[str, float] = {}
    named(completions=[RIGHT], test_cases=[TESTS], log_metric=logged.__setitem__)
    assert logged["my_tests/all_pass_rate"] == 1.0
    with pytest.raises(ValueError, match="must not be empty"):
        TestCaseReward(dispatcher=dispatcher, name="")


def test_async_reward_runs_concurrent_batches_on_one_engine(dispatcher):
    reward = AsyncTestCaseReward("pass_rate", dispatcher=dispatcher)

    async def many():
        return await asyncio.gather(
            *[reward(completions=[RIGHT, HALF], test_cases=[TESTS, TESTS]) for _ in range(20)]
        )

    assert asyncio.run(many()) == [[1.0, 0.5]] * 20


def test_a_looping_sample_holds_back_no_other_callers_reward(dispatcher):
    """Concurrent one-sample callers (OpenRLHF's requests, verl's workers) each get their reward as soon as
    their own program finishes, not when a looping neighbour submitted before them does."""
    finished: list[str] = []
    [slow] = dispatcher.submit([make_job("while True:\n    pass  # holds back\n", TESTS, "binary")])
    slow.add_done_callback(lambda _: finished.append("slow"))
    time.sleep(0.1)
    quick = dispatcher.submit([make_job(f"{RIGHT}# {i}\n", TESTS, "binary") for i in range(6)])  # 6 runs
    for future in quick:
        future.add_done_callback(lambda _: finished.append("quick"))
    assert [f.result(timeout=10).passed_all for f in quick] == [True] * 6
    assert "timeout" in slow.result(timeout=10).errors[0]
    # at most one quick job waits behind the loop (queued on its worker); the rest come back before it
    assert finished.index("slow") >= 5, finished


def test_threads_share_the_dispatcher_and_back_pressure_bounds_pending():
    results: list = [None] * 8
    seen_pending: list[int] = []
    bounded = EngineDispatcher(workers=1, limits=LIMITS, max_pending=3)
    reward = TestCaseReward(dispatcher=bounded)

    def call(i):
        results[i] = reward(completions=[RIGHT, HALF], test_cases=[TESTS, TESTS])
        seen_pending.append(bounded.pending)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bounded.close()
    assert results == [[1.0, 0.0]] * 8
    assert max(seen_pending) <= 3


def test_cancelled_callers_do_not_hold_slots():
    quick = Limits(timeout=0.2, setup_timeout=0.2, wall_factor=2.0, wall_extra=0.2)
    with EngineDispatcher(workers=1, limits=quick, max_pending=2) as small:

        async def give_up():
            slow = [make_job("while True:\n    pass\n", TESTS, "binary")] * 3
            task = asyncio.ensure_future(small.arun(slow))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(give_up())
        results = small.run([make_job(RIGHT, TESTS, "binary")] * 4)  # would block if the slots had leaked
        assert [r.passed_all for r in results] == [True] * 4
        assert small.pending == 0


# ---- verl -----------------------------------------------------------------------------------------------------


@pytest.fixture
def shared_env(monkeypatch, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"id": "oss_7", "question": "Add.", "test_cases": TESTS}) + "\n")
    monkeypatch.setenv("ACECODER_REWARD_WORKERS", "2")
    monkeypatch.setenv("ACECODER_REWARD_TIMEOUT", "0.5")
    monkeypatch.setenv("ACECODER_REWARD_DATASET", str(rows))
    shared_module.reset()
    yield
    shared_module.reset()


def test_verl_compute_score_sync_from_many_threads(shared_env):
    from acecoder.reward.verl import compute_score

    answers = [RIGHT, HALF] * 8
    scores: list = [None] * len(answers)

    def one(i):
        truth = json.dumps(TESTS) if i % 2 else np.array(TESTS, dtype=object)  # JSON or a Parquet list column
        scores[i] = compute_score("acecode", answers[i], truth, {"index": i}, reward_router_address=None)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(answers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert scores[0] == {"score": 1.0, "pass_rate": 1.0, "timeout": 0.0, "infra_error": 0.0}
    assert [s["score"] for s in scores] == [1.0, 0.0] * 8
    exact = compute_score("acecode", HALF, TESTS, mode="pass_rate")
    assert exact == {"score": 0.5, "pass_rate": 0.5, "timeout": 0.0, "infra_error": 0.0}
    assert compute_score("acecode", HALF, TESTS, stop_on_failure=False)["pass_rate"] == 0.5


def test_verl_compute_score_async_micro_batches(shared_env):
    from acecoder.reward.verl import compute_score_async

    assert asyncio.iscoroutinefunction(compute_score_async)

    async def rollout():
        return await asyncio.gather(
            *[compute_score_async("acecode", a, json.dumps(TESTS), None) for a in [RIGHT, HALF] * 16]
        )

    scores = asyncio.run(rollout())
    assert [s["score"] for s in scores] == [1.0, 0.0] * 16
    with pytest.raises(ValueError, match="ground_truth: no tests"):
        asyncio.run(compute_score_async("acecode", RIGHT, "[]"))


def _load_like_verl(path: str) -> types.ModuleType:
    """What verl 0.9.1's ``load_module`` does with a file path: a module named after a hash, not importable."""
    spec = importlib.util.spec_from_file_location(f"custom_module_{hash(path)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verl_functions_loaded_by_path_pickle_and_floats_suit_the_prime_manager(shared_env):
    """verl's PrimeRewardManager runs compute_score in a process pool (so pickles it) and reads
    ``float(result[0])``: the float variant works, the dict refuses loudly instead of scoring 0."""
    import pickle

    import acecoder.reward.verl as importable
    from acecoder.reward.verl import PrimeManagerError

    loaded = _load_like_verl(importable.__file__)
    for name in ("compute_score", "compute_score_async", "compute_score_float"):
        assert pickle.loads(pickle.dumps(getattr(loaded, name))) is getattr(importable, name)
    assert loaded.compute_score_float("acecode", RIGHT, TESTS) == 1.0
    assert loaded.compute_score("acecode", HALF, TESTS, return_dict=False) == 0.0
    result = loaded.compute_score("acecode", RIGHT, TESTS)
    assert result["score"] == 1.0 and dict(result) == {
        "score": 1.0,
        "pass_rate": 1.0,
        "timeout": 0.0,
        "infra_error": 0.0,
    }
    with pytest.raises(PrimeManagerError, match="compute_score_float"):
        float(result[0])
    assert not isinstance(PrimeManagerError("x"), Exception)  # verl's manager catches every Exception


def test_a_forked_process_gets_its_own_engine_and_leaves_the_parents_alone(shared_env):
    """PRIME's pool forks the trainer after its engine started: the child must not wait on the parent's
    dispatcher thread (which it does not have) nor release the parent's uid lock."""
    import multiprocessing

    from acecoder.reward.verl import compute_score_float

    assert compute_score_float("acecode", RIGHT, TESTS) == 1.0  # the parent's engine is running
    parent = shared_module._dispatcher
    with multiprocessing.get_context("fork").Pool(2) as pool:
        scores = pool.starmap(compute_score_float, [("acecode", a, TESTS) for a in [RIGHT, HALF] * 3])
    assert scores == [1.0, 0.0] * 3
    assert shared_module._dispatcher is parent
    assert os.path.exists(parent.engine.uids._path)  # the parent still holds its lock file
    assert compute_score_float("acecode", HALF, TESTS, mode="pass_rate") == 0.5


def test_verl_gets_a_flagged_neutral_score_or_an_error_when_the_engine_fails(shared_env, monkeypatch):
    from acecoder.reward.failures import RewardInfraError
    from acecoder.reward.verl import compute_score

    monkeypatch.setenv("ACECODER_REWARD_NEUTRAL", "0.5")
    broken = TestCaseReward(engine=_BrokenEngine(), on_infra_error="neutral", neutral_reward=0.5)
    monkeypatch.setitem(shared_module._rewards, ("binary", None), broken)
    assert compute_score("acecode", RIGHT + "# infra\n", TESTS) == {
        "score": 0.5,
        "pass_rate": 0.0,
        "timeout": 0.0,
        "infra_error": 1.0,
    }
    shared_module.reset()
    monkeypatch.setenv("ACECODER_REWARD_ON_ERROR", "raise")
    assert shared_module.shared_reward().failures.on_infra_error == "raise"
    monkeypatch.setenv("ACECODER_REWARD_ON_ERROR", "exclude")
    shared_module.reset()
    with pytest.raises(ValueError, match="need a reward"):
        shared_module.shared_reward()
    with (
        TestCaseReward(engine=_BrokenEngine(), on_infra_error="raise") as strict,
        pytest.raises(RewardInfraError),
    ):
        strict.evaluate([RIGHT + "# infra\n"], [TESTS])
    broken.close()


# ---- OpenRLHF -------------------------------------------------------------------------------------------------

CHATML_PROMPT = (
    "<|im_start|>user\nWrite add.<|im_end|>\n<|im_start|>assistant\n" + PREFILL_SENTENCE + "\n```python"
)


def test_response_is_the_query_without_its_prompt():
    response = "\n" + RIGHT + "```<|im_end|><|endoftext|><|endoftext|>"
    assert response_from_query(CHATML_PROMPT + response, CHATML_PROMPT) == "\n" + RIGHT + "```"
    assert response_from_query("<s>" + CHATML_PROMPT + response, CHATML_PROMPT).startswith("\n" + RIGHT)
    changed = CHATML_PROMPT.replace("Write add.", "Write  add.")  # a decode round trip changed the prompt
    assert response_from_query(changed + response, CHATML_PROMPT).startswith(PREFILL_SENTENCE)


def test_openrlhf_reward_func_loaded_from_its_file(shared_env):
    import torch

    import acecoder.reward.openrlhf as module

    spec = importlib.util.spec_from_file_location("reward_func", module.__file__)  # what OpenRLHF does
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    good = CHATML_PROMPT + "\n" + RIGHT + "```<|im_end|>"
    bad = CHATML_PROMPT + "\n" + HALF + "```<|im_end|>"
    out = loaded.reward_func([good], [CHATML_PROMPT], ["oss_7"])
    assert torch.equal(out["rewards"], torch.tensor([1.0])) and torch.equal(
        out["scores"], torch.tensor([1.0])
    )
    out = loaded.reward_func([bad, good], [CHATML_PROMPT] * 2, [json.dumps(TESTS), TESTS])
    assert out["rewards"].tolist() == [0.0, 1.0]
    assert set(out["extra_logs"]) == {"pass_rate", "timeout", "infra_error"}
    with pytest.raises(KeyError, match="no row with this id"):
        loaded.reward_func([good], [CHATML_PROMPT], ["oss_8"])


def test_openrlhf_gets_a_flagged_neutral_reward_when_the_engine_fails(shared_env, monkeypatch):
    """OpenRLHF 0.11.2 turns an exception from reward_func into a None reward and then crashes: an engine
    failure gets the neutral reward, flagged in extra_logs, instead."""
    from acecoder.reward.openrlhf import reward_func

    broken = TestCaseReward(engine=_BrokenEngine(), on_infra_error="neutral")
    monkeypatch.setitem(shared_module._rewards, ("binary", None), broken)
    good = CHATML_PROMPT + "\n" + RIGHT + "```<|im_end|>"
    failing = CHATML_PROMPT + "\n" + RIGHT + "# infra\n```<|im_end|>"
    out = reward_func([good, failing], [CHATML_PROMPT] * 2, ["oss_7", "oss_7"])
    assert out["rewards"].tolist() == [1.0, 0.0]
    assert out["extra_logs"]["infra_error"].tolist() == [0.0, 1.0]
    broken.close()


def test_openrlhf_label_errors_are_logged_and_bad_datasets_fail_at_load(shared_env, tmp_path, caplog):
    import acecoder.reward.openrlhf as module

    loaded = _load_like_verl(module.__file__)
    query = CHATML_PROMPT + "\n" + RIGHT + "```"
    with pytest.raises(KeyError, match="no row with this id"):
        loaded.reward_func([query], [CHATML_PROMPT], ["oss_8"])
    assert "label 'oss_8'" in caplog.text and "--data.label_key" in caplog.text
    with pytest.raises(KeyError, match=r"empty: .*--data.label_key id"):
        loaded.reward_func([query], [CHATML_PROMPT], [""])  # OpenRLHF's label without --data.label_key
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "a", "question": "q", "test_cases": "assert f()"}) + "\n")
    os.environ["ACECODER_REWARD_DATASET"] = str(bad)
    shared_module.reset()
    with pytest.raises(DataError, match=r"bad.jsonl: row 1: field 'test_cases'"):
        _load_like_verl(module.__file__)  # what OpenRLHF's loader does at start-up


# ---- reward models and combinations ---------------------------------------------------------------------------


class _LengthModel:
    """A stand-in for acecoder.reward_model.RewardModel (the rm branch): longer programs score higher."""

    calls: ClassVar[list] = []

    def __init__(self, path):
        self.path = path

    def score(self, question, programs):
        self.calls.append((question, len(programs)))
        return [len(p) / 100 for p in programs]


def test_reward_model_reward_scores_programs_per_question(monkeypatch, binary):
    module = types.ModuleType("acecoder.reward_model")
    module.RewardModel = _LengthModel
    monkeypatch.setitem(sys.modules, "acecoder.reward_model", module)
    _LengthModel.calls = []
    rm = RewardModelReward("path/to/rm")
    completions = [f"```python\n{RIGHT}```", HALF, f"```python\n{HALF}```"]
    questions = ["q1", "q2", "q1"]
    scores = rm(completions=completions, question=questions, test_cases=[TESTS] * 3)
    assert scores == [len(RIGHT) / 100, len(HALF) / 100, len(HALF) / 100]
    assert sorted(_LengthModel.calls) == [("q1", 2), ("q2", 1)]
    combined = WeightedReward([binary, rm], [1.0, 0.5])
    assert combined(completions=completions, question=questions, test_cases=[TESTS] * 3) == pytest.approx(
        [1.0 + 0.5 * len(RIGHT) / 100, 0.5 * len(HALF) / 100, 0.5 * len(HALF) / 100]
    )


def test_weighted_reward_keeps_none():
    with TestCaseReward(engine=_BrokenEngine()) as broken:
        combined = WeightedReward([broken, lambda completions, **_: [1.0] * len(completions)], [2.0, 1.0])
        completions = [RIGHT, RIGHT + "# infra\n"]
        assert combined(completions=completions, test_cases=[TESTS] * 2) == [3.0, None]


@pytest.mark.slow
def test_reward_model_reward_gives_the_reward_models_own_scores():
    """With a real (tiny, untrained) reward model: the rewards are exactly what ``RewardModel.score`` gives for
    the question, its tests and each completion's program."""
    from acecoder.reward_model import RewardModel
    from tiny_models import tiny_chat_model

    path = tiny_chat_model(sequence_classification=True)
    rm = RewardModelReward(path)
    completions = [f"```python\n{RIGHT}```", HALF]
    rewards = rm(completions=completions, question=["q1", "q1"], test_cases=[TESTS] * 2)
    direct = RewardModel(path).score("q1", [RIGHT.strip(), HALF.strip()], tests=list(TESTS))
    assert rewards == pytest.approx(direct) and len(set(rewards)) == 2
