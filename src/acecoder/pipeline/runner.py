"""``acecoder run``: the stages of a config, in registry order, each resumable and fingerprinted.

A stage's fingerprint hashes its settings (those that change what it writes), the fingerprint of the dataset it
reads and those of the stages it uses. A finished stage whose fingerprint is unchanged is kept; a changed one is
redone, and so is every stage downstream of it (their fingerprints change with it), nothing else. Within a stage,
finished shards have markers and are not redone; an unfinished shard continues from its own progress file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acecoder.data.checkpoint import file_identity, fingerprint
from acecoder.data.io import write_atomic, write_json
from acecoder.data.lock import LockedError, WriteLock
from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, StageSkipped
from acecoder.rundir.status import resume_point
from acecoder.rundir.store import StageDir, reshard, split_rows

INPUT = "input"
Log = Callable[[str], None]


class PipelineError(RuntimeError):
    """A run cannot start or go on (bad config, a missing input, a stage before --from not finished)."""


@dataclass
class PlannedStage:
    stage: Stage
    settings: dict[str, Any]
    source: str | None
    """The dataset it reads: ``input``, a stage name, or None."""
    uses: list[str]
    fingerprint: str
    skip: str | None = None

    @property
    def name(self) -> str:
        return self.stage.name


def _stage_classes(config: RunConfig) -> list[type[Stage]]:
    from acecoder.pipeline.stages import PLANNED, STAGES

    for name in config.stages:
        if name not in STAGES:
            if name in PLANNED:
                raise PipelineError(
                    f"stage {name!r} ({PLANNED[name]}) is not part of this version of acecoder yet"
                )
            raise PipelineError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
    return [cls for name, cls in STAGES.items() if name in config.stages]


def plan(config: RunConfig) -> list[PlannedStage]:
    """Check every stage's settings and work out what each reads and its fingerprint (no work is done)."""
    fps: dict[str, str] = {}
    if config.input is not None:
        if not config.input.is_file():
            raise PipelineError(f"{config.input}: no such input file")
        fps[INPUT] = fingerprint(input=file_identity(config.input), shard_rows=config.shard_rows)
        _check_input(config, fps[INPUT])
    rows, out, produced = INPUT, [], set(fps)
    for cls in _stage_classes(config):
        stage = cls()  # one instance per run: check() may keep what it builds for open()
        given = dict(config.stages.get(stage.name, {}))
        enabled = given.pop("enabled", True)
        try:
            settings = stage.settings(given, config)
        except (ValueError, TypeError) as e:
            raise PipelineError(str(e)) from None
        source = rows if stage.reads == "rows" else stage.reads
        if source == INPUT and INPUT not in produced and enabled is not False:
            raise PipelineError(f"stage {stage.name} reads the run input: set input in {config.path}")
        uses = [u for u in stage.uses if u in produced]
        skip = None
        if enabled is False:
            skip = "disabled in the config (enabled: false)"
        elif source is not None and source not in produced:
            skip = f"it reads {source!r}, which is not part of this run"
        else:
            try:
                sd = StageDir(config.run_dir, stage.name)
                # ``upstream`` says which of the stages it uses are in the run (their data does not exist yet)
                stage.check(StageContext(stage.name, settings, config, sd, [], {u: [] for u in uses}))
            except StageSkipped as e:
                skip = str(e)
            except (ValueError, TypeError) as e:
                raise PipelineError(f"stages.{stage.name}: {e}") from None
        kept = {k: v for k, v in settings.items() if k not in stage.volatile}
        fp = fingerprint(
            stage=stage.name,
            settings=kept,
            source=fps.get(source) if source else None,
            uses={u: fps[u] for u in uses},
            shard_rows=config.shard_rows,
        )
        out.append(PlannedStage(stage, settings, source, uses, fp, skip))
        if skip is None:
            fps[stage.name] = fp
            produced.add(stage.name)
            if stage.output == "rows":
                rows = stage.name
    return out


def _check_input(config: RunConfig, input_fingerprint: str) -> None:
    """Read the whole run input (its format by extension, every line parses) before the run directory is
    touched, so that bad input leaves nothing behind; skipped when the run has already split this same input."""
    from acecoder.data.io import iter_rows

    meta = StageDir(config.run_dir, INPUT).meta() or {}
    if meta.get("state") == "done" and meta.get("fingerprint") == input_fingerprint:
        return
    assert config.input is not None
    if config.input.suffix.lower() == ".json":  # a seed array (synthesize reads those too)
        from acecoder.synthesis.seeds import iter_seed_rows as reader
    else:
        reader = iter_rows
    for _ in reader(config.input):
        pass


@contextmanager
def _locked(run_dir: Path) -> Iterator[None]:
    """One ``acecoder run`` per run directory (``RUN_DIR/.lock``, the mechanism every verb's output uses)."""
    try:
        lock = WriteLock(run_dir, path=run_dir / ".lock").acquire()
    except LockedError as e:
        who = e.holder
        kill = f" (kill {who.pid})" if who.pid is not None else ""
        raise PipelineError(
            f"{run_dir}: another acecoder run is using this run directory: {who.describe()}; wait for it to end "
            f"or stop it{kill}, then rerun"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _save_config(config: RunConfig, planned: list[PlannedStage]) -> None:
    import yaml

    header = f"# the config of the last `acecoder run` in this folder (from {config.path})\n"
    text = yaml.safe_dump(config.raw, sort_keys=False, allow_unicode=True)
    write_atomic(config.run_dir / "config.yaml", header + text)
    write_json(
        config.run_dir / "run.json",
        {
            "config": str(config.path),
            "input": str(config.input) if config.input else None,
            "pid": os.getpid(),
            "started": time.time(),
            "executor": config.execution.executor,
            "stages": [
                {
                    "name": p.name,
                    "fingerprint": p.fingerprint,
                    "source": p.source,
                    "uses": p.uses,
                    "output": p.stage.output,
                    "skip": p.skip,
                }
                for p in planned
            ],
        },
    )


def run_pipeline(
    config: RunConfig, *, start: str | None = None, stop: str | None = None, log: Log = print
) -> list[PlannedStage]:
    """Run the config's stages (``start``: redo from this stage on, keeping the finished stages before it;
    ``stop``: stop after this stage). Returns the plan."""
    planned = plan(config)
    names = [p.name for p in planned]
    for flag, value in (("--from", start), ("--until", stop)):
        if value is not None and value not in names:
            raise PipelineError(f"{flag} {value}: not a stage of this run; its stages: {', '.join(names)}")
    first = names.index(start) if start else None
    with _locked(config.run_dir):
        _save_config(config, planned)
        for index, p in enumerate(planned):
            after = first is not None and index >= first
            _run_stage(config, p, forced=after, keep=first is not None and not after, log=log)
            if p.name == stop:
                break
    return planned


def _run_stage(config: RunConfig, p: PlannedStage, *, forced: bool, keep: bool, log: Log) -> None:
    sd = StageDir(config.run_dir, p.name)
    meta = sd.meta() or {}
    done = meta.get("state") == "done" and meta.get("fingerprint") == p.fingerprint
    if p.skip is not None:
        log(f"{p.name}: skipped: {p.skip}")
        sd.path.mkdir(parents=True, exist_ok=True)
        sd.write_meta({"stage": p.name, "state": "skipped", "reason": p.skip, "fingerprint": p.fingerprint})
        return
    if keep:
        if not done:
            raise PipelineError(
                f"{p.name} is not finished (or its settings changed): run without --from first"
            )
        log(f"{p.name}: done, kept ({_counts(meta)})")
        return
    if done and not forced and not p.stage.always:
        log(f"{p.name}: done ({_counts(meta)}), nothing to redo")
        return
    resuming = meta.get("state") == "running" and meta.get("fingerprint") == p.fingerprint and not forced
    if forced or (meta.get("fingerprint") not in (None, p.fingerprint)):
        if meta:
            log(f"{p.name}: {'--from' if forced else 'settings or inputs changed'}: redoing it")
        sd.reset()
    sd.path.mkdir(parents=True, exist_ok=True)
    started = time.time()
    meta = {
        "stage": p.name,
        "state": "running",
        "fingerprint": p.fingerprint,
        "source": p.source,
        "uses": p.uses,
        "settings": p.settings,
        "started": started,
    }
    sd.write_meta(meta)
    inputs = _inputs(config, p, log)
    if p.stage.kind == "map":  # `acecoder status` shows an interrupted stage's shards as done/total
        meta["shards"] = len(inputs)
        sd.write_meta(meta)
    if resuming:
        log(
            f"{p.name}: resuming the interrupted run: {resume_point(sd, len(inputs) if p.stage.kind == 'map' else None)}"
        )
    upstream = {u: StageDir(config.run_dir, u).shards() for u in p.uses}
    ctx = StageContext(p.name, p.settings, config, sd, inputs, upstream, log)
    if p.stage.kind == "map":
        totals = _run_map(p.stage, ctx, log)
    else:
        totals = _run_global(p.stage, ctx, config.shard_rows)
    meta.update(state="done", finished=time.time(), **totals)
    sd.write_meta(meta)
    log(f"{p.name}: done ({_counts(meta)})")


def _inputs(config: RunConfig, p: PlannedStage, log: Log) -> list[Path]:
    if p.source is None:
        return []
    if p.source != INPUT:
        return StageDir(config.run_dir, p.source).shards()
    assert config.input is not None
    if p.stage.kind != "map":
        return [config.input]
    sd = StageDir(config.run_dir, INPUT)
    meta = sd.meta() or {}
    fp = fingerprint(input=file_identity(config.input), shard_rows=config.shard_rows)
    if meta.get("fingerprint") != fp:
        sd.reset()
    if meta.get("state") != "done" or meta.get("fingerprint") != fp:
        sd.write_meta({"stage": INPUT, "state": "running", "fingerprint": fp, "source": str(config.input)})
        markers = split_rows(config.input, sd, config.shard_rows)
        rows = sum(m["rows_out"] for m in markers)
        sd.write_meta(
            {"stage": INPUT, "state": "done", "fingerprint": fp, "source": str(config.input), "rows_out": rows,
             "shards": len(markers)}
        )  # fmt: skip
        log(f"input: {rows} rows from {config.input} in {len(markers)} shard(s)")
    return sd.shards()


def _run_map(stage: Stage, ctx: StageContext, log: Log) -> dict[str, Any]:
    sd, sources = ctx.dir, ctx.inputs
    todo = [i for i in range(len(sources)) if sd.done(i) is None]
    if todo:
        with ExitStack() as stack:
            ctx.enter = stack.enter_context
            stage.open(ctx)
            for index in todo:
                started = time.monotonic()
                info = stage.run_shard(ctx, sources[index], sd.shard(index))
                info["seconds"] = round(time.monotonic() - started, 3)
                info["cost"] = cost_of(info.get("summary"))
                sd.mark(index, info)
                rows, seconds = info.get("rows_out"), info["seconds"]
                log(f"{stage.name}: shard {index + 1}/{len(sources)}: {rows} rows, {seconds:.1f}s")
    return _totals(list(sd.markers()), len(sources))


def _run_global(stage: Stage, ctx: StageContext, shard_rows: int) -> dict[str, Any]:
    single = ctx.dir.path / "_output.parquet"
    started = time.monotonic()
    with ExitStack() as stack:
        ctx.enter = stack.enter_context
        stage.open(ctx)
        info = stage.run_all(ctx, single)
    if stage.output is not None:
        info["rows_out"] = reshard(single, ctx.dir, shard_rows) if single.exists() else 0
    info["seconds"] = round(time.monotonic() - started, 3)
    info["cost"] = cost_of(info.get("summary"))
    totals = _totals([info], None)
    if stage.output is not None:
        totals["shards"] = len(ctx.dir.shards())
    totals["result"] = info
    return totals


def _totals(markers: list[dict[str, Any]], shards: int | None) -> dict[str, Any]:
    """Totals over markers; a figure no marker has stays None (a stage without rows or LLM calls)."""

    def total(key: str) -> Any:
        values = [m[key] for m in markers if m.get(key) is not None]
        if not values:
            return None
        if "?" in values:
            return "?"
        return round(sum(values), 6) if key in ("cost", "seconds") else sum(values)

    return {
        "shards": shards,
        "rows_in": total("rows_in"),
        "rows_out": total("rows_out"),
        "seconds": total("seconds") or 0.0,
        "cost": total("cost"),
    }


def cost_of(summary: Any) -> float | str | None:
    """The LLM cost in a stage function's summary: the sum of every ``llm`` usage's ``cost`` ("$0.1234"); "?"
    when one is unknown; None when there is no LLM usage."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "llm" and isinstance(value, dict) and isinstance(value.get("cost"), str):
                    found.append(value["cost"])
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(summary)
    if not found:
        return None
    if any(c == "$?" for c in found):
        return "?"
    return round(sum(float(c.lstrip("$")) for c in found), 6)


def _counts(meta: dict[str, Any]) -> str:
    parts = []
    if meta.get("rows_out") is not None:
        parts.append(f"{meta['rows_out']} rows")
    if meta.get("shards"):
        parts.append(f"{meta['shards']} shard(s)")
    if meta.get("seconds") is not None:
        parts.append(f"{meta['seconds']:.1f}s")
    if meta.get("cost") not in (None, 0):
        parts.append(f"${meta['cost']}" if meta["cost"] != "?" else "cost unknown")
    return ", ".join(parts) or "no output"
