"""Re-measure the figures README.md and benchmarks/RESULTS.md quote, and print each beside its documented value.

The figures live in a small registry (``benchmarks/figures.yaml``): each names the command (a "run") that
produces it, how to read it from that run's output (a JSON path into a file the run writes, or a regular
expression over its printed output), the documented value, a tolerance, whether it depends on the machine
(throughput), the commit that produced it, and where the prose quotes it (a snippet of README.md or RESULTS.md
that must contain the value). Before running anything the script checks that every snippet is still in its
file with the registry's value in it, so prose and registry cannot drift apart silently.

Statuses: ``ok`` (within tolerance), ``STALE`` (outside it), ``differs (machine)`` (a machine-dependent figure
outside its tolerance: reported, not a failure unless ``--strict``), ``MISSING`` (the run failed or its output
does not hold the figure).

Exit status: 0 every figure checked is fresh; 1 some figure is stale or missing, or the prose no longer quotes
the registry's value; 2 bad usage or an invalid registry (nothing run); 130 interrupted.

    .venv/bin/python scripts/check_figures.py              # the default runs (what `make figures` does)
    .venv/bin/python scripts/check_figures.py --list       # runs and figures, nothing run
    .venv/bin/python scripts/check_figures.py --docs-only  # only check that the prose quotes the registry
    .venv/bin/python scripts/check_figures.py --only rewards,execution [--reuse]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "benchmarks" / "figures.yaml"
LOGS = Path("runs") / "figures"  # relative to the repository root: each run's output, for --reuse

OK, STALE, DIFFERS, MISSING = "ok", "STALE", "differs (machine)", "MISSING"
RUN_KEYS = {"command", "output", "default", "minutes", "note"}
FIGURE_KEYS = {
    "id",
    "run",
    "json",
    "regex",
    "value",
    "tolerance",
    "machine_dependent",
    "commit",
    "where",
    "note",
}
NUMBER = re.compile(r"(?:(?<=[\s(])-)?\d[\d,]*(?:\.\d+)?")


class RegistryError(ValueError):
    """The registry cannot be used; the message names the file, the entry and the field."""


@dataclass
class Run:
    id: str
    command: str
    output: str | None = None  # a JSON file the command writes (relative to the repository root)
    default: bool = True
    minutes: float = 0.0
    note: str = ""


@dataclass
class Figure:
    id: str
    run: str
    value: float
    tolerance: float
    relative: bool
    machine_dependent: bool
    commit: str
    where: list[dict[str, str]]
    json: str | None = None
    regex: str | None = None
    note: str = ""


@dataclass
class Check:
    figure: Figure
    measured: float | None
    status: str
    detail: str = ""


@dataclass
class Registry:
    path: Path
    runs: dict[str, Run]
    figures: list[Figure] = field(default_factory=list)


def parse_tolerance(raw: Any, where: str) -> tuple[float, bool]:
    """``0.02`` (absolute) or ``"15%"`` (relative to the documented value) -> (amount, relative)."""
    relative = isinstance(raw, str) and raw.strip().endswith("%")
    try:
        amount = float(raw.strip()[:-1]) / 100 if relative else float(raw)
    except (TypeError, ValueError):
        raise RegistryError(
            f"{where}: tolerance must be a number or a percentage like '15%', got {raw!r}"
        ) from None
    if amount < 0 or math.isnan(amount):
        raise RegistryError(f"{where}: tolerance must not be negative, got {raw!r}")
    return amount, relative


def load_registry(path: Path) -> Registry:
    """Read and check the registry; every problem is a RegistryError naming the file, entry and field."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegistryError(f"{path}: cannot read the registry: {error}") from None
    except yaml.YAMLError as error:
        raise RegistryError(f"{path}: invalid YAML: {error}") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("runs"), dict)
        or not isinstance(data.get("figures"), list)
    ):
        raise RegistryError(f"{path}: expected a mapping with 'runs' (a mapping) and 'figures' (a list)")
    runs = {}
    for run_id, entry in data["runs"].items():
        where = f"{path}: run {run_id!r}"
        if not isinstance(entry, dict) or not isinstance(entry.get("command"), str):
            raise RegistryError(f"{where}: needs a 'command' string")
        unknown = sorted(set(entry) - RUN_KEYS)
        if unknown:
            raise RegistryError(f"{where}: unknown field(s) {unknown}")
        for key, kind in (("output", str), ("default", bool), ("minutes", int | float), ("note", str)):
            if key in entry and (
                not isinstance(entry[key], kind) or (kind is not bool and entry[key] is True)
            ):
                raise RegistryError(f"{where}: field {key!r} has the wrong type ({entry[key]!r})")
        runs[run_id] = Run(id=str(run_id), **entry)
    registry = Registry(path, runs)
    seen: set[str] = set()
    for index, entry in enumerate(data["figures"]):
        registry.figures.append(_figure(entry, f"{path}: figure #{index + 1}", runs, seen))
    return registry


def _figure(entry: Any, where: str, runs: dict[str, Run], seen: set[str]) -> Figure:
    if not isinstance(entry, dict):
        raise RegistryError(f"{where}: expected a mapping")
    if "id" in entry:
        where = f"{where} ({entry['id']})"
    unknown = sorted(set(entry) - FIGURE_KEYS)
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {unknown}")
    for key in ("id", "run", "value", "tolerance", "machine_dependent", "commit", "where"):
        if key not in entry:
            raise RegistryError(f"{where}: missing field {key!r}")
    if entry["id"] in seen:
        raise RegistryError(f"{where}: id used twice")
    seen.add(entry["id"])
    if entry["run"] not in runs:
        raise RegistryError(f"{where}: run {entry['run']!r} is not among the runs ({', '.join(runs)})")
    if ("json" in entry) == ("regex" in entry):
        raise RegistryError(
            f"{where}: give exactly one of 'json' (a path into the run's output file) or 'regex'"
        )
    if "json" in entry and not runs[entry["run"]].output:
        raise RegistryError(f"{where}: field 'json' needs the run to name its 'output' file")
    if "regex" in entry:
        try:
            if re.compile(entry["regex"]).groups != 1:
                raise RegistryError(f"{where}: field 'regex' needs exactly one capture group")
        except re.error as error:
            raise RegistryError(f"{where}: field 'regex' is not a regular expression: {error}") from None
    if isinstance(entry["value"], bool) or not isinstance(entry["value"], int | float):
        raise RegistryError(f"{where}: field 'value' must be a number, got {entry['value']!r}")
    if not isinstance(entry["machine_dependent"], bool):
        raise RegistryError(f"{where}: field 'machine_dependent' must be true or false")
    places = entry["where"]
    if (
        not isinstance(places, list)
        or not places
        or not all(
            isinstance(p, dict) and set(p) == {"file", "text"} and all(isinstance(v, str) for v in p.values())
            for p in places
        )
    ):
        raise RegistryError(f"{where}: field 'where' must be a non-empty list of {{file, text}} snippets")
    tolerance, relative = parse_tolerance(entry["tolerance"], where)
    return Figure(
        id=str(entry["id"]),
        run=entry["run"],
        value=float(entry["value"]),
        tolerance=tolerance,
        relative=relative,
        machine_dependent=entry["machine_dependent"],
        commit=str(entry["commit"]),
        where=places,
        json=entry.get("json"),
        regex=entry.get("regex"),
        note=str(entry.get("note", "")),
    )


# -- comparison (pure) --


def compare(figure: Figure, measured: float | None, *, strict: bool = False) -> Check:
    """The status of one re-measured figure against its documented value."""
    if measured is None or (isinstance(measured, float) and math.isnan(measured)):
        return Check(figure, None, MISSING, "the run's output does not hold this figure")
    allowed = figure.tolerance * abs(figure.value) if figure.relative else figure.tolerance
    if abs(measured - figure.value) <= allowed + 1e-9:
        return Check(figure, measured, OK)
    status = DIFFERS if figure.machine_dependent and not strict else STALE
    return Check(figure, measured, status, f"off by {measured - figure.value:+.4g} (allowed ±{allowed:.4g})")


def failed(checks: list[Check]) -> bool:
    return any(c.status in (STALE, MISSING) for c in checks)


def extract(figure: Figure, text: str | None, data: Any) -> float | None:
    """The figure's value from its run's printed output (regex) or output file (JSON path), else None."""
    if figure.regex is not None:
        match = re.search(figure.regex, text or "", re.DOTALL)
        return _number(match.group(1)) if match else None
    node = data
    for key in (figure.json or "").split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.lstrip("-").isdigit() and -len(node) <= int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return _number(node)


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    try:
        return float(str(raw).replace(",", "").strip().rstrip("%x"))
    except ValueError:
        return None


def doc_problems(registry: Registry, repo: Path) -> list[str]:
    """Snippets the prose no longer holds, or that no longer quote the registry's value."""
    problems, texts = [], {}
    for figure in registry.figures:
        for place in figure.where:
            path = repo / place["file"]
            if path not in texts:
                try:
                    texts[path] = " ".join(path.read_text(encoding="utf-8").split())
                except OSError as error:
                    problems.append(f"{figure.id}: cannot read {place['file']}: {error}")
                    texts[path] = None
            snippet = " ".join(place["text"].split())
            if texts[path] is None:
                continue
            if snippet not in texts[path]:
                problems.append(f"{figure.id}: {place['file']} no longer contains {snippet!r}")
            elif not any(_number(n) == figure.value for n in NUMBER.findall(snippet)):
                problems.append(
                    f"{figure.id}: the snippet {snippet!r} does not quote the value {figure.value:g}"
                )
    return problems


# -- running --


def git_commit(repo: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+uncommitted changes" if dirty else "")


def execute(run: Run, repo: Path, *, reuse: bool) -> tuple[str | None, Any, str]:
    """Run one command from the repository root (or reuse its saved output). Returns (printed text, the JSON of
    its output file or None, a note on how it went)."""
    log = repo / LOGS / f"{run.id}.log"
    meta = log.with_suffix(".meta.json")  # the command, how it went, when and at which commit
    output = repo / run.output if run.output else None
    if reuse:
        if not log.is_file():
            return None, None, f"no saved output in {log.relative_to(repo)} (run it without --reuse)"
        try:
            saved = json.loads(meta.read_text())
        except (OSError, ValueError):
            saved = {}
        if saved.get("command", run.command) != run.command:
            return None, None, f"the saved output is of another command ({saved['command']}); run it again"
        note = "saved output" + (
            f" of {saved['finished']} at commit {saved['commit']}: {saved['note']}" if saved else ""
        )
    else:
        log.parent.mkdir(parents=True, exist_ok=True)
        if output is not None and output.exists():
            output.unlink()  # a file left by an earlier run must not pass for this run's result
        print(f"running {run.id} (about {run.minutes:g} min): {run.command}", flush=True)
        started, load, commit = time.time(), os.getloadavg(), git_commit(repo)
        with log.open("w") as sink:
            process = subprocess.Popen(
                run.command,
                shell=True,
                cwd=repo,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                status = process.wait()
            except KeyboardInterrupt:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait()
                raise
        note = (
            f"exit {status}, {time.time() - started:.0f} s, load average {load[0]:.1f} before / "
            f"{os.getloadavg()[0]:.1f} after"
        )
        if status != 0:
            note += f"; see {log.relative_to(repo)}"
        record = {"command": run.command, "note": note, "commit": commit}
        meta.write_text(json.dumps(record | {"finished": time.strftime("%Y-%m-%d %H:%M")}) + "\n")
    text = log.read_text(errors="replace")
    data = None
    if output is not None:
        try:
            data = json.loads(output.read_text())
        except (OSError, ValueError):
            note += f"; no readable {run.output}"
    return text, data, note


def report(checks: list[Check], notes: dict[str, str], problems: list[str], commit: str) -> str:
    """The Markdown that goes into RESULTS.md: one row per figure, then the runs and any prose problems."""
    lines = [
        f"checked at commit {commit} on {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "| figure | documented | measured | tolerance | status | documented at commit | quoted in |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for c in checks:
        f = c.figure
        tolerance = f"{f.tolerance * 100:g}%" if f.relative else f"±{f.tolerance:g}"
        tolerance += " (machine)" if f.machine_dependent else ""
        measured = "–" if c.measured is None else f"{c.measured:g}"
        status = c.status + (f": {c.detail}" if c.status != OK and c.detail else "")
        places = ", ".join(dict.fromkeys(Path(p["file"]).name for p in f.where))
        lines.append(
            f"| {f.id} | {f.value:g} | {measured} | {tolerance} | {status} | {f.commit} | {places} |"
        )
    lines += ["", *(f"- run `{run}`: {note}" for run, note in notes.items())]
    lines += [f"- prose: {p}" for p in problems]
    counts = {s: sum(c.status == s for c in checks) for s in (OK, STALE, DIFFERS, MISSING)}
    lines.append(
        f"\n{len(checks)} figures: {counts[OK]} ok, {counts[STALE]} stale, {counts[DIFFERS]} differ on this "
        f"machine (machine-dependent), {counts[MISSING]} missing; {len(problems)} prose problem(s)"
    )
    return "\n".join(lines)


def select(registry: Registry, only: str | None, everything: bool) -> list[Run]:
    if not only:
        return [r for r in registry.runs.values() if everything or r.default]
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in registry.runs]
    if unknown:
        raise RegistryError(f"--only: unknown run(s) {unknown}; runs: {', '.join(registry.runs)}")
    return [registry.runs[w] for w in wanted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--registry", type=Path, default=REGISTRY)
    parser.add_argument("--repo", type=Path, default=REPO, help="where commands run and prose files are read")
    parser.add_argument("--only", help="comma-separated run ids (default: the runs marked default)")
    parser.add_argument("--all", action="store_true", help="every run, also the slow ones")
    parser.add_argument("--reuse", action="store_true", help="compare the saved output of the last runs")
    parser.add_argument("--strict", action="store_true", help="machine-dependent differences count as stale")
    parser.add_argument("--list", action="store_true", help="print the runs and figures; run nothing")
    parser.add_argument(
        "--docs-only", action="store_true", help="only check that the prose quotes the registry"
    )
    args = parser.parse_args(argv)
    try:
        registry = load_registry(args.registry)
        runs = select(registry, args.only, args.all)
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.list:
        for run in registry.runs.values():
            figures = [f.id for f in registry.figures if f.run == run.id]
            flag = "default" if run.default else "--all"
            print(f"{run.id} ({flag}, ~{run.minutes:g} min): {run.command}\n  " + "\n  ".join(figures))
        return 0
    problems = doc_problems(registry, args.repo)
    for problem in problems:
        print(f"prose: {problem}", file=sys.stderr)
    if args.docs_only:
        print(f"{len(registry.figures)} figures, {len(problems)} prose problem(s)")
        return 1 if problems else 0
    checks, notes = [], {}
    try:
        for run in runs:
            text, data, notes[run.id] = execute(run, args.repo, reuse=args.reuse)
            for figure in (f for f in registry.figures if f.run == run.id):
                checks.append(compare(figure, extract(figure, text, data), strict=args.strict))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(report(checks, notes, problems, git_commit(args.repo)))
    return 1 if failed(checks) or problems else 0


if __name__ == "__main__":
    sys.exit(main())
