"""What a pipeline stage is: a small adapter around the function its CLI verb calls.

A stage declares what it reads and writes; the runner gives it a :class:`StageContext` and calls
:meth:`Stage.run_shard` once per input shard (``kind = "map"``) or :meth:`Stage.run_all` once (``kind =
"global"``). Settings are the keyword arguments of the wrapped function (checked by name, defaults taken from
its signature) plus the adapter's own :attr:`Stage.extra` keys, so the pipeline never re-declares a default.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from acecoder.pipeline.runconfig import RunConfig
from acecoder.rundir.store import StageDir

# Endings that make a setting a file name (which must then exist), not a preset or model name.
_FILE_ENDINGS = (".yaml", ".yml", ".json", ".jsonl", ".gz", ".parquet", ".txt", ".jinja", ".j2", ".md")


def _resolve_path_setting(config: RunConfig, value: str, where: str) -> str:
    """A file named relative to the config file; a name that is not a file there (a bundled template such as
    ``sampling``, a Hub model id) stays as written. A file name (``./x``, ``x.yaml``...) that does not exist is
    an error naming the setting, before the run starts."""
    resolved = config.resolve(value)
    if resolved.exists():
        return str(resolved)
    if value.startswith(("./", "../", "~", "/")) or value.lower().endswith(_FILE_ENDINGS):
        raise ValueError(f"{where}: {resolved}: no such file")
    return value


def signature_defaults(func: Callable[..., Any], *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The keyword parameters of ``func`` and their defaults (required ones map to ``inspect.Parameter.empty``)."""
    skipped = set(skip)
    out = {}
    for name, p in inspect.signature(func).parameters.items():
        if name in skipped or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = p.default
    return out


def dataclass_defaults(cls: type) -> dict[str, Any]:
    import dataclasses

    return {
        f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        for f in dataclasses.fields(cls)
    }


def pick(settings: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {k: settings[k] for k in names if k in settings}


def _check_type(where: str, value: Any, default: Any) -> None:
    """A setting whose default is a bool, number or string must be one too (None stays allowed for strings)."""
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        want = "true or false"
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and (isinstance(default, float) or isinstance(value, int))
        want = "a number" if isinstance(default, float) else "an integer"
    elif isinstance(default, str):
        ok = value is None or isinstance(value, str)
        want = "a string"
    else:
        return
    if not ok:
        raise ValueError(f"{where}: expected {want}, got {value!r}")


class StageSkipped(Exception):
    """Raised by :meth:`Stage.check` when the stage cannot run as configured and should be skipped."""


@dataclass
class StageContext:
    """What a stage gets from the runner."""

    name: str
    settings: dict[str, Any]
    config: RunConfig
    dir: StageDir
    inputs: list[Path]
    """The dataset it reads: the run input, or the shards of the stage named by :attr:`Stage.reads`."""
    upstream: dict[str, list[Path]] = field(default_factory=dict)
    """The datasets of the stages in :attr:`Stage.uses` that are part of the run."""
    log: Callable[[str], None] = print
    enter: Callable[[AbstractContextManager], Any] = lambda cm: cm.__enter__()
    """Register a resource (engine, LLM client) to close when the stage ends; returns what it enters."""

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir

    def cache_path(self) -> Path:
        path = self.run_dir / "cache" / f"{self.name}.llm_cache.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def executor(self, limits: Any) -> Any:
        """The configured executor (local pool or Ray) with ``limits``, started, closed with the stage."""
        from acecoder.execution.ray_executor import make_executor

        ex = self.config.execution
        executor = make_executor(
            ex.executor,
            ray_address=ex.ray_address,
            workers=ex.workers or None,
            limits=limits,
            interpreter=ex.interpreter,
            isolation=ex.isolation,
        )
        return self.enter(executor)


class Stage:
    """Base class of the pipeline stages; subclasses set the class attributes and one of the run methods.
    The runner makes one instance per run, so :meth:`open` may keep what it starts on ``self``."""

    name: ClassVar[str]
    help: ClassVar[str] = ""
    kind: ClassVar[str] = "map"
    """map: one call per input shard, output shard i from input shard i; global: one call for the whole input."""
    output: ClassVar[str | None] = "rows"
    """rows: AceCode rows that later stages read; dataset: a side dataset (pairs); None: files only."""
    reads: ClassVar[str | None] = "rows"
    """rows: the latest rows of the run (the input when no earlier stage wrote rows); a stage name; None."""
    uses: ClassVar[tuple[str, ...]] = ()
    """Other stages whose outputs it uses when they are part of the run (their fingerprints are its inputs)."""
    llm: ClassVar[bool] = False
    always: ClassVar[bool] = False
    """Run every time (cheap stages that summarise others, e.g. the report)."""
    path_settings: ClassVar[tuple[str, ...]] = ()
    """Settings holding file paths, resolved relative to the config file."""
    volatile: ClassVar[tuple[str, ...]] = ()
    """Settings that change how fast the stage runs, not what it writes: left out of its fingerprint."""

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        """Every setting the stage accepts, with its default (``inspect.Parameter.empty``: required)."""
        raise NotImplementedError

    def settings(self, given: dict[str, Any], config: RunConfig) -> dict[str, Any]:
        """The effective settings: ``given`` checked by name over the defaults; paths resolved."""
        defaults = self.defaults(config)
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            raise ValueError(
                f"stages.{self.name}: unknown setting(s) {unknown}; expected some of {sorted(defaults)}"
            )
        for key, value in given.items():
            _check_type(f"stages.{self.name}.{key}", value, defaults[key])
        out = {**defaults, **given}
        missing = sorted(k for k, v in out.items() if v is inspect.Parameter.empty)
        if missing:
            raise ValueError(f"stages.{self.name}: missing required setting(s) {missing}")
        for key in self.path_settings:
            value, where = out.get(key), f"stages.{self.name}.{key}"
            if isinstance(value, str):
                out[key] = _resolve_path_setting(config, value, where)
            elif isinstance(value, list):
                out[key] = [
                    _resolve_path_setting(config, v, where) if isinstance(v, str) else v for v in value
                ]
        return out

    def check(self, ctx: StageContext) -> None:
        """Raise :class:`StageSkipped` (with how to enable the stage) when it cannot run as configured."""

    def open(self, ctx: StageContext) -> None:
        """Start what the stage's shards share (an engine, LLM clients) through ``ctx.enter``."""

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        """Process one input shard into ``output``; return marker information (``rows_out``, ``summary``...)."""
        raise NotImplementedError

    def run_all(self, ctx: StageContext, output: Path) -> dict[str, Any]:
        """Process the whole input; a stage with an output dataset writes it to ``output`` (one Parquet file,
        cut into shards by the runner)."""
        raise NotImplementedError
