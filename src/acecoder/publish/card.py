"""The dataset card of a pipeline stage's dataset: YAML metadata the Hub reads (license, data files), then what
the data is, its schema and counts, where it came from, the licenses of its inputs, and the config that made it."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from acecoder.rundir.store import StageDir, read_json


class CardError(ValueError):
    """The folder cannot be published as it is (not a finished stage, no data, no license)."""


def stage_info(stage_dir: str | os.PathLike) -> tuple[StageDir, dict[str, Any], list[Path]]:
    """The stage folder, its stage.json and its shards; CardError when it is not a finished stage with data."""
    path = Path(stage_dir).resolve()
    sd = StageDir(path.parent, path.name)
    meta = sd.meta()
    if meta is None:
        raise CardError(f"{path}: not a stage folder of an acecoder run (no stage.json)")
    if meta.get("state") != "done":
        raise CardError(
            f"{path}: the stage is {meta.get('state', 'unfinished')}: finish it with acecoder run first"
        )
    shards = sd.shards()
    if not shards:
        raise CardError(f"{path}: the stage wrote no dataset (no shard-*.parquet)")
    return sd, meta, shards


def _schema_rows(shards: list[Path]) -> list[tuple[str, str]]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(shards[0])
    return [(f.name, str(f.type)) for f in schema]


def _counts(shards: list[Path]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in shards)
    sources: Counter = Counter()
    models: Counter = Counter()
    names = pq.read_schema(shards[0]).names
    columns = [c for c in ("source", "inferences", "model_name") if c in names]
    for path in shards:
        if not columns:
            break
        for batch in pq.ParquetFile(path).iter_batches(columns=columns, batch_size=2048):
            for row in batch.to_pylist():
                if "source" in row:
                    sources[str(row["source"])] += 1
                if "model_name" in row:
                    models[str(row["model_name"])] += 1
                for inference in row.get("inferences") or []:
                    models[str(inference.get("model_name"))] += 1
    return {
        "rows": rows,
        "shards": len(shards),
        "bytes": sum(p.stat().st_size for p in shards),
        "sources": sources,
        "models": models,
    }


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _lineage(run_dir: Path, name: str) -> list[dict[str, Any]]:
    """The stage and the stages it read from, back to the run input, each with its settings."""
    chain, seen = [], set()
    while name and name not in seen:
        seen.add(name)
        meta = StageDir(run_dir, name).meta() or {}
        chain.append({"stage": name, **meta})
        name = meta.get("source")
        if name == "input":
            chain.append({"stage": "input", **(StageDir(run_dir, "input").meta() or {})})
            break
    return chain


def dataset_card(stage_dir: str | os.PathLike, repo_id: str, *, license: str | None = None) -> str:
    """The README.md for ``repo_id`` holding the stage's shards under ``data/``."""
    import yaml

    import acecoder

    sd, meta, shards = stage_info(stage_dir)
    run_dir = sd.path.parent
    run = read_json(run_dir / "run.json") or {}
    config_text = (
        (run_dir / "config.yaml").read_text(encoding="utf-8") if (run_dir / "config.yaml").is_file() else ""
    )
    config = yaml.safe_load(config_text) or {} if config_text else {}
    license = license or config.get("license")
    if not license:
        raise CardError("no license for the data: set license in the run config or pass --license (e.g. mit)")
    counts = _counts(shards)
    front = {
        "license": license,
        "pretty_name": f"{repo_id.split('/')[-1]} ({sd.name} stage of an acecoder run)",
        "tags": ["code", "acecoder", "reinforcement-learning", sd.name],
        "size_categories": [_size_category(counts["rows"])],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": "data/*.parquet"}]}],
    }
    parts = [
        "---\n" + yaml.safe_dump(front, sort_keys=False).strip() + "\n---",
        f"# {repo_id}",
        f"The `{sd.name}` stage of an acecoder run: "
        f"{meta.get('help') or _stage_help(sd.name)}. Produced with acecoder {acecoder.__version__}.",
        "## Counts",
        _table(
            ["rows", "shards", "Parquet bytes"],
            [[f"{counts['rows']:,}", counts["shards"], f"{counts['bytes']:,}"]],
        ),
    ]
    if counts["sources"]:
        parts.append(_table(["source", "rows"], [[k, f"{v:,}"] for k, v in counts["sources"].most_common()]))
    if counts["models"]:
        parts.append(
            _table(["model_name", "samples"], [[k, f"{v:,}"] for k, v in counts["models"].most_common()])
        )
    parts += [
        "## Schema",
        _table(["column", "type"], [[f"`{n}`", f"`{t}`"] for n, t in _schema_rows(shards)]),
    ]
    lineage = []
    for step in _lineage(run_dir, sd.name):
        settings = step.get("settings")
        line = f"- `{step['stage']}`: fingerprint `{step.get('fingerprint', '?')}`"
        if step["stage"] == "input":
            line += f", from `{Path(str(step.get('source') or run.get('input') or '?')).name}`"
        if step.get("rows_out") is not None:
            line += f", {step['rows_out']:,} rows out"
        lineage.append(line)
        if settings:
            lineage.append(
                "  - settings: `"
                + yaml.safe_dump(settings, default_flow_style=True, width=10**6).strip()
                + "`"
            )
    parts += ["## Provenance", "\n".join(lineage)]
    sources = config.get("sources") or []
    source_rows = [
        [s.get("name", "?"), s.get("license", "not stated"), s.get("url", "")]
        for s in sources
        if isinstance(s, dict)
    ]
    parts += [
        "## Inputs and their licenses",
        _table(["input", "license", "where"], source_rows)
        if source_rows
        else "Not declared in the run config (`sources:`): check the inputs' licenses before reuse.",
        f"This dataset is published under `{license}`; the model outputs it holds may carry their models' terms.",
    ]
    if config_text:
        parts += [
            "## The config that made it",
            "The config of the last `acecoder run` in the run directory (each stage's exact settings are under "
            "Provenance above).",
            "```yaml\n" + config_text.strip() + "\n```",
        ]
    return "\n\n".join(parts) + "\n"


def _stage_help(name: str) -> str:
    from acecoder.pipeline.stages import STAGES

    cls = STAGES.get(name)
    return cls.help if cls is not None else "a dataset"


def _size_category(rows: int) -> str:
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if rows < limit:
            return label
    return "1M<n<10M" if rows < 10_000_000 else "n>10M"
