"""Structured settings files (prompt templates, model lists, price tables, config dataclasses): JSON or YAML by
extension, and the one ``KEY.SUB=VALUE`` override grammar (``--set``) that every config reads."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def parse_settings(text: str, path: str | os.PathLike) -> Any:
    """Parse ``text`` as JSON when ``path`` ends in .json, else as YAML; errors name the file."""
    if Path(path).suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            from acecoder.data.io import json_error_text

            raise ValueError(f"{path}: invalid JSON ({json_error_text(e, lines=True)})") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: invalid YAML ({e})") from None


def read_text(path: str | os.PathLike, what: str) -> str:
    """A settings file's text; a file that cannot be read raises ValueError naming it and what it is."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{path}: cannot read the {what} ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        line = Path(path).read_bytes()[: e.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line}: the {what} is not valid UTF-8; re-encode it as UTF-8"
        ) from None


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """``key.sub=value`` into ``data`` (value parsed as YAML); raises ValueError for a malformed assignment."""
    import yaml

    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {assignment!r}: expected KEY=VALUE, e.g. stages.execute.timeout=2")
    parts = key.strip().split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ValueError(f"--set {assignment!r}: {part!r} is not a mapping")
        node = child
    try:
        node[parts[-1]] = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as e:
        raise ValueError(f"--set {assignment!r}: invalid YAML value ({e})") from None


# ---- config dataclasses: a YAML/JSON file, then overrides ---------------------------------------------------


def _accepts(annotation: Any, value: Any) -> Any:
    """``value`` converted to ``annotation`` (str, int, float, bool, dict, list and their ``| None``), or raise
    TypeError. Floats also come as YAML 1.1 leaves them, as strings (``1e-5``)."""
    import types
    import typing

    if annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _accepts(option, value)
            except TypeError:
                continue
        raise TypeError
    base = origin or annotation
    if base is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
    if base is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise TypeError from None
    if base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if base is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if base in (str, dict, list) and isinstance(value, base):
        return value
    raise TypeError


def _describe(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")


def config_from(
    cls: type,
    path: str | os.PathLike | None = None,
    options: dict[str, Any] | None = None,
    sets: list[str] | tuple[str, ...] = (),
) -> Any:
    """A config dataclass: its defaults, then the keys of the settings file at ``path``, then ``options``
    (command-line options; ``None`` means not given and is skipped), then ``sets`` (``key=value`` as
    ``acecoder run --set`` reads them: values are YAML, dotted keys reach into mappings). Unknown keys and values
    of the wrong type raise ValueError naming where they came from and the key."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}

    def take(data: dict[str, Any], where: str) -> None:
        for key, value in data.items():
            if key not in names:
                raise ValueError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(names))}")
            if isinstance(value, dict) and isinstance(values.get(key), dict):
                value = {**values[key], **value}  # --set trl.optim=... adds to the file's trl mapping
            try:
                values[key] = _accepts(hints[key], value)
            except TypeError:
                raise ValueError(f"{where}: {key!r} must be {_describe(hints[key])}, got {value!r}") from None

    if path is not None:
        data = parse_settings(read_text(path, "config file"), path)
        if data is not None and not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings")
        take(data or {}, str(path))
    take({k: v for k, v in (options or {}).items() if v is not None}, "options")
    for assignment in sets:
        data = {}
        apply_override(data, assignment)
        take(data, f"--set {assignment}")
    return cls(**values)
