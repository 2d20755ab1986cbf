"""The README's commands, as written (issue 22): every `acecoder` command in it names a real verb and real options;
the stage-settings table lists exactly each stage's settings; its run config is a valid config; the cheap commands
run and print what it says (execute with --program, pairs, --keys, a curl per serve-reward endpoint); and (slow)
`acecoder run quickstart` works as written and its page's counts agree."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer.main

from acecoder.cli import COMMANDS, app
from acecoder.data import read_rows

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
SAMPLE = REPO / "data" / "samples" / "acecode_sample.jsonl"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def blocks(language: str = "bash") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def shell_lines(block: str) -> list[str]:
    """The commands of a shell block: continuation lines joined, comments dropped."""
    lines = block.replace("\\\n", " ").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def readme_commands() -> list[list[str]]:
    """Every `acecoder ...` command of the README: in shell blocks and in inline code."""
    found = []
    for block in blocks():
        for line in shell_lines(block):
            if line.split()[0].endswith("acecoder"):
                found.append(shlex.split(line, comments=True))
    for span in re.findall(r"`((?:\.venv/bin/)?acecoder [^`]+)`", README):
        try:
            found.append(shlex.split(span))
        except ValueError:
            found.append(span.split())
    return found


def test_every_readme_command_names_a_real_verb_and_real_options():
    group = typer.main.get_command(app)
    commands = readme_commands()
    assert len(commands) > 40
    checked = 0
    for words in commands:
        verb = words[1] if len(words) > 1 else None
        if (
            verb is None or verb.isupper() or verb.startswith("-")
        ):  # `acecoder VERB --help`, `acecoder --version`
            continue
        assert verb in COMMANDS, f"README: `{' '.join(words)}`: no verb {verb!r}"
        params = group.commands[verb].params
        names = {o for p in params for o in (*p.opts, *p.secondary_opts)}
        for word in words[2:]:
            option = word.strip("[]").split("=")[0]
            if option.startswith("-") and option not in ("-", "--"):
                assert option in names, f"README: `{' '.join(words)}`: {verb} has no option {option}"
        checked += 1
    assert checked > 30


def _settings_table() -> dict[str, set[str]]:
    section = README.split("### Stage settings", 1)[1].split("\n###", 1)[0].split("\n## ", 1)[0]
    groups = {}
    for name in ("LLM keys", "Engine limits"):
        sentence = re.search(rf"\*{name}\*: (.*?)(?:, defaulting|\(the fields)", section, re.S).group(1)
        groups[name.lower()] = set(re.findall(r"`(\w+)`", sentence))
    table = {}
    for row in re.findall(r"^\| `([\w-]+)` \|[^|]*\| (.*) \|$", section, re.M):
        stage, cell = row
        keys = set()
        text = cell
        while re.search(r"\([^()]*\)", text):
            text = re.sub(r"\([^()]*\)", "", text)  # values and notes, not keys
        keys |= set(re.findall(r"`(\w+)`", text))
        for name, members in groups.items():
            if name in text.lower():
                keys |= members
        table[stage] = keys
    return table


def test_the_stage_settings_table_lists_every_stage_and_exactly_its_keys():
    from acecoder.pipeline.runconfig import RunConfig
    from acecoder.pipeline.stages import STAGES

    table = _settings_table()
    assert list(table) == list(STAGES)
    for name, cls in STAGES.items():
        expected = set(cls().defaults(RunConfig(run_dir=Path("."))))
        assert table[name] == expected, (name, sorted(table[name] ^ expected))


def test_run_help_lists_the_stages_and_points_to_their_settings():
    result = subprocess.run([str(BIN / "acecoder"), "run", "--help"], capture_output=True, text=True, env=ENV)
    from acecoder.pipeline.stages import STAGES

    text = " ".join(result.stdout.split())
    assert ", ".join(STAGES) in text, text  # the help's list is written out: a new stage must be added there
    assert "acecoder run --keys STAGE" in text and "Stage settings" in text
    keys = subprocess.run([str(BIN / "acecoder"), "run", "--keys", "execute"], capture_output=True, text=True)
    assert keys.returncode == 0 and "program: null" in keys.stdout and "program_timeout: 0.25" in keys.stdout


def test_the_readme_run_config_is_a_valid_config(tmp_path):
    from acecoder.pipeline.runconfig import load_run_config
    from acecoder.pipeline.runner import plan

    config = next(b for b in blocks("yaml") if "stages:" in b and "run_dir: runs/mine" in b)
    (tmp_path / "c.yaml").write_text(config)
    (tmp_path / "seeds.jsonl").write_text(
        json.dumps({"id": "s0", "program": "def f():\n    return 1\n"}) + "\n"
    )
    (tmp_path / "prices.yaml").write_text("gpt-4o-mini: {input: 0.15, output: 0.6}\n")
    planned = plan(load_run_config(tmp_path / "c.yaml"))
    assert [p.name for p in planned if p.skip is None] == [
        "synthesize", "filter-tests", "sample", "execute", "pairs", "hard", "stats", "train-rm", "score", "report"
    ]  # fmt: skip


def _readme_line(start: str) -> str:
    for block in blocks():
        for line in shell_lines(block):
            if line.startswith(start):
                return line
    span = re.search(rf"`({re.escape(start)}[^`]*)`", README)
    assert span, f"README has no command starting {start!r}"
    return span.group(1)


def test_execute_and_pairs_as_written(tmp_path):
    rows = SAMPLE.read_text().splitlines(keepends=True)
    (tmp_path / "codet.jsonl").write_text("".join(rows[1:4]))  # CodeT rows: completions continue the prompt
    execute = _readme_line("acecoder execute codet.jsonl out.jsonl --program")
    done = subprocess.run(
        execute, shell=True, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    rates = [i["pass_rate"] for r in read_rows(tmp_path / "out.jsonl") for i in r["inferences"]]
    assert len(rates) == 48 and 0 < sum(rates) < 48  # bodies with their prompts: some pass, some fail

    shutil.copy(tmp_path / "out.jsonl", tmp_path / "executed.jsonl")
    pairs = _readme_line("acecoder pairs executed.jsonl pairs.jsonl")
    done = subprocess.run(
        pairs, shell=True, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    made = read_rows(tmp_path / "pairs.jsonl")
    assert made and {"prompt", "chosen", "rejected"} <= set(made[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_curl_for_every_serve_reward_endpoint_as_written():
    serve = re.search(r"\(`(acecoder serve-reward --dataset [^`]+)` serves the bundled", README).group(1)
    block = next(b for b in blocks() if "curl" in b and "/get_reward" in b)
    port = _free_port()
    server = subprocess.Popen(f"{serve} --port {port}", shell=True, cwd=REPO, env=ENV, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.2)
        commands, expected = [], []
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("curl"):
                commands.append(line.replace("localhost:5000", f"localhost:{port}"))
                expected.append(line.split("#", 1)[1].strip() if "#" in line.split("'")[-1] else None)
            elif line.startswith("# ->"):
                expected[-1] = line[len("# ->") :].strip()
            elif line.startswith(" ") and commands:  # a quoted body that goes on past a newline
                commands[-1] += "\n" + line
        assert (
            len(commands) == 5
            and [c.split()[-1] if "-d" not in c else "post" for c in commands].count("post") == 3
        )
        for command, promise in zip(commands, expected, strict=True):
            done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, (command, done.stderr)
            answer = json.loads(done.stdout)
            if promise.startswith("{") and "..." not in promise:
                assert answer == json.loads(promise), (command, answer)
            else:  # a shortened answer: the fields it names are there
                assert set(re.findall(r'"(\w+)":', promise)) <= set(answer) | {
                    k for v in answer.values() if isinstance(v, dict) for k in v
                }, (command, answer)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


@pytest.mark.slow
def test_quickstart_as_written(tmp_path):
    from test_report import check_section_counts

    command = _readme_line(".venv/bin/acecoder run quickstart").replace(".venv/bin/", "")
    status = _readme_line(".venv/bin/acecoder status runs/quickstart").replace(".venv/bin/", "")
    done = subprocess.run(
        command, shell=True, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stderr
    err = done.stderr
    # train-rm: one summary line; the trainer's metric dicts and the libraries' bars are in its log file.
    summary = re.search(
        r"train-rm: held-out pair accuracy [\d.]+ \(chance 0\.500\) on \d+ pairs of \d+ questions", err
    )
    assert summary, err
    for noise in (
        "{'loss'",
        "{'eval_loss'",
        "{'train_runtime'",
        "\x1b[A",
        "Writing model shards",
        "Loading weights",
    ):
        assert noise not in err, noise
    run = tmp_path / "runs" / "quickstart"
    assert "'train_runtime'" in (run / "train-rm" / "train.log").read_text()
    # The evaluation ranks only questions the reward model never trained on.
    heldout = set(json.loads((run / "train-rm" / "heldout_questions.json").read_text())["questions"])
    evaluated = {r["id"] for r in read_rows(run / "evaluate" / "samples.jsonl")}
    assert evaluated and evaluated <= heldout
    assert str(run / "evaluate" / "samples.jsonl") in (run / "evaluate" / "evaluated.summary.md").read_text()
    page = (run / "report.html").read_text()
    found = check_section_counts(run, page)
    assert "never trained on" in found["Best-of-N evaluation: humaneval+"]["scope"]
    assert "chance" in page and "heldout_pairs" not in page and "dropped_for_length" not in page

    shown = subprocess.run(status, shell=True, cwd=tmp_path, env=ENV, capture_output=True, text=True)
    assert shown.returncode == 0 and re.search(r"evaluate\s+done", shown.stdout), shown.stdout
    again = subprocess.run(
        command, shell=True, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0 and again.stderr.count("nothing to redo") == 9, again.stderr
