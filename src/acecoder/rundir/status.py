"""``acecoder status RUN_DIR``: each stage's state, shards, rows, time and cost so far, from the files a run
wrote (no config needed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from acecoder.rundir.store import StageDir, read_json


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_status(run_dir: str | os.PathLike, *, exclude: str | None = None) -> list[dict[str, Any]]:
    """One entry per stage of the last run (but ``exclude``): name, state (done, running, interrupted, pending,
    stale, skipped), shards done/total, rows in/out, seconds, cost, and the skip reason."""
    run_dir = Path(run_dir)
    run = read_json(run_dir / "run.json")
    if not isinstance(run, dict) or not isinstance(run.get("stages"), list):
        raise ValueError(f"{run_dir}: not a run directory (no run.json): start one with acecoder run CONFIG")
    running = _alive(run.get("pid")) and _locked(run_dir)
    out = []
    for planned in run["stages"]:
        if planned["name"] == exclude:
            continue
        sd = StageDir(run_dir, planned["name"])
        meta = sd.meta() or {}
        markers = list(sd.markers())
        state = meta.get("state") or "pending"
        if planned.get("skip"):
            state = "skipped"
        elif meta and meta.get("fingerprint") != planned["fingerprint"]:
            state = "stale"
        elif state == "running" and not running:
            state = "interrupted"
        entry = {
            "stage": planned["name"],
            "state": state,
            "shards_done": len(markers) if state != "done" else meta.get("shards"),
            "shards": meta.get("shards"),
            "rows_in": meta.get("rows_in", sum(m.get("rows_in") or 0 for m in markers) if markers else None),
            "rows_out": meta.get(
                "rows_out", sum(m.get("rows_out") or 0 for m in markers) if markers else None
            ),
            "seconds": meta.get(
                "seconds", round(sum(m.get("seconds") or 0 for m in markers), 3) if markers else None
            ),
            "cost": meta.get("cost") if state == "done" else _cost(markers),
            "reason": planned.get("skip"),
        }
        out.append(entry)
    return out


def _locked(run_dir: Path) -> bool:
    from acecoder.data.lock import holder

    return holder(run_dir / ".lock") is not None


def progress_rows(folder: Path) -> dict[str, int]:
    """Rows kept in the progress files (``*.partial.jsonl``) of a stage folder, by file name."""
    out = {}
    for path in sorted(folder.glob("*.partial.jsonl")):
        try:
            with open(path, "rb") as f:
                out[path.name] = max(0, sum(1 for _ in f) - 1)  # the first line is the run's fingerprint
        except OSError:
            continue
    return out


def resume_point(sd: StageDir, shards: int | None) -> str:
    """Where an interrupted stage carries on: "2 of 9 shards done; shard 3 continues from its 37 finished rows"
    (``shards``: its shard count, None for a stage that runs once)."""
    partial = progress_rows(sd.path)
    if shards is None:
        kept = sum(partial.values())
        return f"its progress file keeps {kept} finished rows" if kept else "nothing was kept: it starts over"
    done = [i for i in range(shards) if sd.done(i) is not None]
    text = f"{len(done)} of {shards} shards done"
    nxt = next((i for i in range(shards) if i not in done), None)
    if nxt is not None:
        rows = partial.get(sd.shard(nxt).name + ".partial.jsonl", 0)
        text += f"; shard {nxt + 1} continues" + (f" from its {rows} finished rows" if rows else "")
    return text


def kept_after_interrupt(run_dir: str | os.PathLike) -> str:
    """What an interrupted run kept, in one line: the stages done and where the interrupted one stands."""
    try:
        entries = run_status(run_dir)
    except ValueError:
        return "nothing was kept"
    done = [e["stage"] for e in entries if e["state"] == "done"]
    parts = [f"finished stages {', '.join(done)}"] if done else []
    for e in entries:
        if e["state"] in ("running", "interrupted"):
            sd = StageDir(Path(run_dir), e["stage"])
            parts.append(f"{e['stage']}: {resume_point(sd, e['shards'])}")
    return "; ".join(parts) if parts else "nothing was kept"


def _cost(markers: list[dict[str, Any]]) -> float | str | None:
    costs = [m.get("cost") for m in markers if m.get("cost") is not None]
    if not costs:
        return None
    return "?" if "?" in costs else round(sum(costs), 6)


def format_status(entries: list[dict[str, Any]]) -> str:
    """A table, one line per stage, and the totals."""

    def show(value: Any, fmt: str = "{}") -> str:
        return "-" if value is None else fmt.format(value)

    header = ["stage", "state", "shards", "rows in", "rows out", "time", "LLM cost"]
    body = []
    for e in entries:
        shards = "-" if e["shards"] is None else f"{e['shards_done'] or 0}/{e['shards']}"
        cost = "unknown" if e["cost"] == "?" else show(e["cost"], "${:.4f}")
        body.append(
            [
                e["stage"],
                e["state"],
                shards,
                show(e["rows_in"]),
                show(e["rows_out"]),
                show(e["seconds"], "{:.1f}s"),
                cost,
            ]
        )
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *body]]
    for e in entries:
        if e["reason"]:
            lines.append(f"{e['stage']}: skipped: {e['reason']}")
    costs = [e["cost"] for e in entries if e["cost"] is not None]
    seconds = sum(e["seconds"] or 0 for e in entries)
    total = "unknown" if "?" in costs else (f"${sum(costs):.4f}" if costs else "none")
    lines.append(f"total: {seconds:.1f}s of stage time, LLM cost {total}")
    return "\n".join(lines)
