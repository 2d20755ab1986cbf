"""``acecoder push``: the dataset card of a real stage (schema, counts, provenance, input licenses, config) and
the upload through huggingface_hub against a fake Hub on loopback (the real Hub is never contacted)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from acecoder.pipeline.runconfig import load_run_config
from acecoder.pipeline.runner import run_pipeline
from acecoder.publish import CardError, dataset_card, push_stage

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """pairs and hard straight from the sample's released pass rates (no execution needed)."""
    base = tmp_path_factory.mktemp("push")
    config = {
        "run_dir": "run",
        "input": str(SAMPLE),
        "shard_rows": 10,
        "license": "mit",
        "sources": [
            {"name": "bundled sample", "license": "MIT", "url": "https://github.com/microsoft/CodeT"}
        ],
        "stages": {"pairs": {"min_chosen": 0.8}, "hard": {}},
    }
    (base / "c.yaml").write_text(yaml.safe_dump(config))
    run_pipeline(load_run_config(base / "c.yaml"), log=lambda _: None)
    return base / "run"


def test_card_describes_the_data(run_dir):
    card = dataset_card(run_dir / "pairs", "me/pairs")
    front = yaml.safe_load(card.split("---")[1])
    assert front["license"] == "mit"
    assert front["configs"][0]["data_files"][0]["path"] == "data/*.parquet"
    meta = json.loads((run_dir / "pairs" / "stage.json").read_text())
    assert f"| {meta['rows_out']} | 3 |" in card  # rows and shards
    for column in ("`chosen`", "`rejected`", "`chosen_pass_rate`", "`question_id`"):
        assert column in card
    assert "`pairs`: fingerprint `" + meta["fingerprint"] in card
    assert "`input`: fingerprint" in card and "acecode_sample.jsonl" in card
    assert "min_chosen: 0.8" in card
    assert "| bundled sample | MIT |" in card
    assert "## The config that made it" in card and "shard_rows: 10" in card
    hard = dataset_card(run_dir / "hard", "me/hard", license="apache-2.0")
    assert yaml.safe_load(hard.split("---")[1])["license"] == "apache-2.0"
    assert "| qwen_coder_2.5 |" in hard or "| codellama_instruct |" in hard  # inferences per model


def test_card_refuses_what_cannot_be_published(run_dir, tmp_path):
    with pytest.raises(CardError, match=r"no stage\.json"):
        dataset_card(tmp_path, "me/x")
    bad = tmp_path / "run" / "pairs"
    bad.mkdir(parents=True)
    (bad / "stage.json").write_text(json.dumps({"state": "running"}))
    with pytest.raises(CardError, match="the stage is running"):
        dataset_card(bad, "me/x")
    (run_dir / "config.yaml").rename(run_dir / "config.yaml.bak")
    try:
        with pytest.raises(CardError, match="no license"):
            dataset_card(run_dir / "pairs", "me/x")
    finally:
        (run_dir / "config.yaml.bak").rename(run_dir / "config.yaml")
    with pytest.raises(CardError, match="expected a repository id"):
        push_stage(run_dir / "pairs", "no-namespace", dry_run=True)


class FakeHub:
    """The four Hub endpoints a dataset commit uses: create repo, validate the card's YAML, preupload (every file
    "regular", so the content travels in the commit), commit (NDJSON)."""

    def __init__(self):
        self.requests: list[tuple[str, str]] = []
        self.files: dict[str, bytes] = {}
        self.repos: list[dict] = []
        self.auth: set[str] = set()

    def __enter__(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hub.requests.append(("POST", self.path))
                hub.auth.add(self.headers.get("Authorization", ""))
                path = self.path.split("?")[0]
                if path == "/api/repos/create":
                    hub.repos.append(json.loads(body))
                    return self.reply({"url": f"{hub.url}/datasets/me/demo"})
                if path == "/api/validate-yaml":
                    return self.reply({"errors": [], "warnings": []})
                if "/preupload/" in path:
                    files = json.loads(body)["files"]
                    return self.reply({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                 for f in files]})  # fmt: skip
                if "/commit/" in path:
                    for line in body.splitlines():
                        item = json.loads(line)
                        if item["key"] == "file":
                            hub.files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    return self.reply(
                        {"commitUrl": f"{hub.url}/datasets/me/demo/commit/abc", "commitOid": "abc"}
                    )
                self.reply({"error": "unexpected"}, 404)

            def do_GET(self):
                hub.requests.append(("GET", self.path))
                self.reply({"error": "unexpected"}, 404)

            def reply(self, payload, status=200):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_push_uploads_shards_and_card_in_one_commit(run_dir, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with FakeHub() as hub:
        result = push_stage(run_dir / "hard", "me/demo", token="hf_test", endpoint=hub.url, private=True)
    assert result.commit_url.endswith("/commit/abc")
    shards = sorted((run_dir / "hard").glob("shard-*.parquet"))
    assert set(hub.files) == {f"data/{p.name}" for p in shards} | {"README.md"}
    assert all(hub.files[f"data/{p.name}"] == p.read_bytes() for p in shards)
    assert hub.files["README.md"].decode() == dataset_card(run_dir / "hard", "me/demo")
    assert hub.repos == [{"name": "demo", "organization": "me", "visibility": "private", "type": "dataset"}]
    assert hub.auth == {"Bearer hf_test"}
    assert [p for m, p in hub.requests if "/commit/" in p] == ["/api/datasets/me/demo/commit/main"]


def test_push_cli_dry_run_and_offline_guard(run_dir):
    result = subprocess.run(
        [*CLI, "push", str(run_dir / "pairs"), "me/demo", "--dry-run"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "license: mit" in result.stdout and "files: data/shard-00000.parquet" in result.stdout
    env_offline = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([*CLI, "push", str(run_dir / "pairs"), "me/demo"], capture_output=True, text=True,
                            env=env_offline)  # fmt: skip
    assert result.returncode != 0 and "HF_HUB_OFFLINE is set" in result.stderr
    assert "Traceback" not in result.stderr
