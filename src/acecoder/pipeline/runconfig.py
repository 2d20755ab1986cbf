"""The YAML config of ``acecoder run``: where the run lives, what it reads, and one block per stage.

    run_dir: runs/mine            # relative paths in the file are relative to the file itself
    input: data/rows.jsonl        # what the first stage reads (JSONL, JSONL.gz or Parquet)
    shard_rows: 1000              # rows per Parquet shard
    execution: {executor: local, workers: 0}      # or executor: ray, ray_address: auto
    llm: {base_url: http://localhost:8000/v1}     # defaults of every LLM stage (several URLs: a list)
    stages:
      execute: {timeout: 1.0}
      pairs: {format: pairs}

Stages run in the registry's order (see :mod:`acecoder.pipeline.stages`), whatever order the file lists them in;
a stage's settings are the keyword arguments of the function its command calls, checked by name.
``--set key.sub=value`` overrides any key (the value is parsed as YAML, as if written in the file).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from acecoder.data.settings import apply_override, parse_settings, read_text, take_fields
from acecoder.llm import endpoints

BUNDLED_CONFIGS = ("quickstart",)


@dataclass
class ExecutionSettings:
    """Where programs run, for every stage that runs them (execute, filter-tests, and later evaluate, rewards).
    The executor does not change verdicts, so it is not part of any stage's fingerprint."""

    executor: str = "local"
    """local (a pool of sandbox servers on this machine) or ray (one engine per Ray node)."""
    ray_address: str | None = None
    """An existing Ray cluster (auto, ray://host:10001); none: a local cluster."""
    workers: int = 0
    """Sandbox workers (local: in all; ray: per node); 0: one per core."""
    isolation: str = "auto"
    interpreter: str | None = None


@dataclass
class LLMSettings:
    """Defaults of every LLM stage (synthesize, filter-tests with a model, sample); each stage may override any.
    An LLM stage runs only when it has an endpoint: a ``base_url`` or an in-process backend."""

    base_url: str | list[str] | None = None
    backend: str = endpoints.BACKEND
    api_key_env: str = endpoints.API_KEY_ENV
    concurrency: int = endpoints.CONCURRENCY
    rpm: float | None = None
    tpm: float | None = None
    max_attempts: int = endpoints.MAX_ATTEMPTS
    prices: str | None = None
    """Price table {model: {input, output}} in $/1M tokens (YAML or JSON), for the cost figures."""


@dataclass
class RunConfig:
    run_dir: Path
    input: Path | None = None
    shard_rows: int = 1000
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    license: str | None = None
    """The license of the data this run produces (the Hub card's ``license``)."""
    sources: list[dict[str, Any]] = field(default_factory=list)
    """Where the inputs come from: [{name, license, url}], shown on dataset cards."""
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def resolve(self, value: str | os.PathLike) -> Path:
        """A path setting: absolute as given, else relative to the config file."""
        p = Path(os.path.expanduser(str(value)))
        base = self.path.parent if self.path is not None else Path.cwd()
        return p if p.is_absolute() else (base / p).resolve()


_TOP_KEYS = {f.name for f in fields(RunConfig)} - {"path", "raw"}


def bundled_config(name: str) -> Path | None:
    """The file of a config shipped with acecoder (``quickstart``), or None. A bundled config names no run
    directory: it runs in ``runs/NAME`` under the current directory unless ``--run-dir`` says otherwise."""
    if name not in BUNDLED_CONFIGS:
        return None
    return Path(str(resources.files("acecoder").joinpath("resources", "configs", f"{name}.yaml")))


def load_run_config(
    path: str | os.PathLike, *, overrides: list[str] = (), run_dir: str | os.PathLike | None = None
) -> RunConfig:
    """Read and check a run config (a file or a bundled config's name); ``run_dir`` (relative to the current
    directory) replaces the file's. Errors are ValueError naming the file and the key."""
    source = Path(path)
    if not source.is_file() and (bundled := bundled_config(str(path))) is not None:
        source = bundled
    data = parse_settings(read_text(source, "run config"), source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"{source}: expected a mapping of settings")
    data = copy.deepcopy(data)
    for assignment in overrides:
        apply_override(data, assignment)
    where = str(source)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(_TOP_KEYS)}")
    config = RunConfig(run_dir=Path("."), path=source.resolve(), raw=data)
    if run_dir is not None:
        config.run_dir = Path(run_dir).resolve()
    elif data.get("run_dir"):
        config.run_dir = config.resolve(data["run_dir"])
    elif source == bundled_config(str(path)):  # a bundled config runs in the current directory
        config.run_dir = (Path("runs") / str(path)).resolve()
    else:
        raise ValueError(f"{where}: no run_dir: set run_dir in the file or pass --run-dir")
    if data.get("input") is not None:
        config.input = config.resolve(data["input"])
    shard_rows = data.get("shard_rows", config.shard_rows)
    if not isinstance(shard_rows, int) or isinstance(shard_rows, bool) or shard_rows < 1:
        raise ValueError(f"{where}: shard_rows: expected a positive integer, got {shard_rows!r}")
    config.shard_rows = shard_rows
    config.execution = _dataclass_from(ExecutionSettings, data.get("execution"), f"{where}: execution")
    config.llm = _dataclass_from(LLMSettings, data.get("llm"), f"{where}: llm")
    if config.execution.executor not in ("local", "ray"):
        raise ValueError(
            f"{where}: execution.executor: expected local or ray, got {config.execution.executor!r}"
        )
    config.license = data.get("license")
    sources = data.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise ValueError(f"{where}: sources: expected a list of mappings (name, license, url)")
    config.sources = sources
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        raise ValueError(f"{where}: stages: expected a mapping of stage name to settings")
    for name, settings in stages.items():
        if settings is not None and not isinstance(settings, dict):
            raise ValueError(f"{where}: stages.{name}: expected a mapping of settings")
    config.stages = {str(k): dict(v or {}) for k, v in stages.items()}
    return config


def _dataclass_from(cls: type, data: Any, where: str) -> Any:
    """A block of the run config (``execution``, ``llm``) as its dataclass: keys and types checked."""
    return cls(**take_fields(cls, {} if data is None else data, where))
