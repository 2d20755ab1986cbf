"""``acecoder report``: the page of a real run (the quickstart stages on the bundled sample), the sections that
appear once later stages write their metrics, and (slow) the page in headless Chromium: no console errors, every
figure loaded, a screenshot that shows them."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from acecoder.pipeline.runconfig import load_run_config
from acecoder.pipeline.runner import run_pipeline
from acecoder.report import build_report, write_report

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
CLI = [sys.executable, "-c", "from acecoder.cli import main; main()"]
PNG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)">')


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("report")
    config = {
        "run_dir": "run",
        "input": str(SAMPLE),
        "shard_rows": 10,
        "execution": {"workers": 2},
        "stages": {
            "sample": {"models": ["m"]},
            "execute": {},
            "pairs": {},
            "hard": {},
            "stats": {},
            "report": {},
        },
    }
    (base / "c.yaml").write_text(yaml.safe_dump(config))
    run_pipeline(load_run_config(base / "c.yaml"), log=lambda _: None)
    return base / "run"


def figures(page: str) -> dict[str, bytes]:
    return {alt: base64.b64decode(data) for data, alt in PNG.findall(page)}


SECTION = re.compile(r"<section([^>]*)><h2>(.*?)</h2><p class=\"scope\">(.*?)</p>", re.S)


def sections(page: str) -> dict[str, dict]:
    """Each section's heading -> its data attributes and its scope line (the rows it says it describes)."""
    out = {}
    for attributes, title, scope in SECTION.findall(page):
        data = dict(re.findall(r'data-([a-z]+)="([^"]*)"', attributes))
        out[html.unescape(title)] = {**data, "scope": html.unescape(re.sub(r"<[^>]+>", "", scope))}
    return out


def check_section_counts(run_dir: Path, page: str) -> dict[str, dict]:
    """Every section names the rows it describes and how many; each count is the one its stage wrote, and the
    sections about the same rows agree (questions with questions, pairs with pairs)."""
    found = sections(page)
    assert found and page.count("<section") == len(found), "a section without its scope line"
    run = json.loads((run_dir / "run.json").read_text())

    def rows_out(stage: str) -> int:
        return json.loads((run_dir / stage / "stage.json").read_text())["rows_out"]

    for title, data in found.items():
        rows = int(data["rows"])
        assert f"{rows}" in data["scope"], (title, data)  # the scope line names the count it is about
        if "stage" in data:
            assert rows == rows_out(data["stage"]), (title, data)
    assert int(found["Stages"]["rows"]) == len([s for s in run["stages"] if s["name"] != "report"])
    questions = {t: int(d["rows"]) for t, d in found.items() if d["unit"] == "questions" and "stage" in d
                 and d["stage"] not in ("evaluate", "rewards")}  # fmt: skip
    assert len(set(questions.values())) == 1, questions  # the full executed set, in every data section
    pairs = {t: int(d["rows"]) for t, d in found.items() if d["unit"] == "pairs"}
    assert len(set(pairs.values())) <= 1, pairs
    if pairs and "Table 1: data statistics" in found:  # Table 1's overall #Pairs is the pairs stage's count
        row = re.search(r"<td>#Pairs</td>(?:<td>[^<]*</td>)*?<td>([\d,]+)</td></tr>", page)
        assert row and int(row.group(1).replace(",", "")) == next(iter(pairs.values()))
    return found


def test_report_of_a_real_run(run_dir):
    page = (run_dir / "report.html").read_text()
    for heading in ("Stages", "Table 1", "Tests per question", "Pass rates per model", "Preference pairs",
                    "Hard subset", "Timings and cost"):  # fmt: skip
        assert f"<h2>{heading}" in page, heading
    for absent in ("Reward model", "Best-of-N", "RL rewards"):  # no such stage ran
        assert absent not in page
    images = figures(page)
    assert set(images) == {"tests per question", "pass-rate histograms per model", "pairs per model",
                           "hard-subset selection", "time per stage"}  # fmt: skip
    assert all(data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000 for data in images.values())
    assert "<script" not in page and not re.search(r"(src|href)=\"(?!data:)", page)  # opens offline as is
    # Figures of the real data: the five released models of oss_1 and the CodeT model, each with its pass rates.
    for model in ("qwen_coder_2.5_32b", "mistral_instruct_v3", "codegen-16B-mono"):
        assert model in page
    assert "sample skipped: no LLM endpoint configured" in page
    # Pair counts agree with the pairs stage.
    meta = json.loads((run_dir / "pairs" / "stage.json").read_text())
    assert f"<td>{meta['rows_out']}</td>" in page


def test_every_section_names_its_rows_and_the_counts_agree(run_dir):
    page = (run_dir / "report.html").read_text()
    found = check_section_counts(run_dir, page)
    # The data sections describe all 25 questions executed, not a subset; the scatter shows both kinds.
    for title in ("Tests per question", "Pass rates per model", "Hard subset"):
        assert found[title]["stage"] == "execute" and found[title]["rows"] == "25", found[title]
    assert (
        "the 7 of the hard subset (stage hard) highlighted, the others grey" in found["Hard subset"]["scope"]
    )
    # Every model with samples is in the pass-rate table, and the histogram's axis counts whole questions.
    for model in ("qwen_coder_2.5", "qwen_coder_2.5_32b", "codellama_instruct", "codegen-16B-mono"):
        assert f"<td>{model}" in page
    assert "--before" not in page


def test_sections_of_later_stages_appear_with_their_data(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    plan = json.loads((run / "run.json").read_text())
    for name in ("train-rm", "evaluate", "rewards"):
        plan["stages"].append(
            {"name": name, "fingerprint": name, "source": None, "uses": [], "output": None, "skip": None}
        )
        (run / name).mkdir()
        (run / name / "stage.json").write_text(
            json.dumps({"state": "done", "fingerprint": name, "seconds": 1.5})
        )
    (run / "run.json").write_text(json.dumps(plan))
    (run / "train-rm" / "metrics.json").write_text(
        json.dumps(
            {"accuracy": 0.8125, "pairs": 96, "heldout_pairs": 32, "questions": {"train": 9, "eval": 3}}
        )
    )
    evaluation = {
        "benchmark": "humaneval+",
        "best_of_n": {
            "rm_score": {"1": 0.30, "2": 0.36, "4": 0.41},
            "pass_rate": {"1": 0.30, "2": 0.40, "4": 0.47},
        },
        "rows": [{"method": "Average", "pass@1": 31.25}, {"method": "best-of-4 (rm_score)", "pass@1": 41.0}],
    }
    (run / "evaluate" / "summary.json").write_text(json.dumps(evaluation))
    (run / "rewards" / "summary.json").write_text(
        json.dumps({"mode": "binary", "mean_reward": 0.25, "rows": 7})
    )
    page = build_report(run)
    assert (
        "<h2>Reward model</h2>" in page
        and "<td>held-out pair accuracy (chance: 0.5)</td><td>0.812</td>" in page
    )
    assert "<td>held-out pairs (questions)</td><td>32 (3)</td>" in page
    assert "ranks questions this model was trained on" in page  # rm_score ranked without held-out questions
    assert "Best-of-N evaluation: humaneval+" in page and "best-of-4 (rm_score)" in page
    assert "<td>31.2</td>" in page and "<td>41.0</td>" in page  # one decimal, as summary.md
    assert "best-of-N curves per ranker" in figures(page)
    assert "<h2>RL rewards</h2>" in page and "binary" in page


def test_report_cli_writes_the_page(run_dir, tmp_path):
    out = tmp_path / "page.html"
    result = subprocess.run(
        [*CLI, "report", str(run_dir), "--output", str(out)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.slow
def test_report_renders_in_headless_chromium(run_dir, tmp_path):
    from acecoder.report.browser import find_chromium, render

    if find_chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    import matplotlib.image as mpimg
    import numpy as np

    shot = tmp_path / "report.png"
    result = render(write_report(run_dir), shot)
    assert result.console_errors == []
    assert result.images == 5 and result.broken_images == 0
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[1] == 1200 and pixels.shape[0] >= 2000  # the whole page, not a viewport
    ink = (pixels.mean(axis=2) < 0.9).mean()
    colours = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert ink > 0.03 and colours > 100, (ink, colours)  # figures drawn, not a blank page

    cli = subprocess.run([*CLI, "report", str(run_dir), "--screenshot", str(tmp_path / "cli.png")],
                         capture_output=True, text=True, timeout=180)  # fmt: skip
    assert cli.returncode == 0 and "5 figures, 0 broken" in cli.stdout, cli.stderr

    # The check itself catches what it must: console errors, exceptions and a broken image.
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="data:image/png;base64,AAAA">'
                   '<script>console.error("boom"); throw new Error("bad")</script></body></html>')  # fmt: skip
    result = render(bad)
    assert any("boom" in e for e in result.console_errors)
    assert any("bad" in e and "exception" in e for e in result.console_errors)
    assert result.broken_images == 1 and len(result.problems) == 3
