"""Structured settings files (prompt templates, model lists, price tables, config dataclasses): JSON or YAML by
extension."""

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
            raise ValueError(f"{path}: invalid JSON ({e.msg} at line {e.lineno})") from None
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


# ---- config dataclasses: a YAML/JSON file, then overrides ---------------------------------------------------


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as YAML (``lr=1e-5``, ``lora=true``, ``eval_steps=null``)."""
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {text!r}: expected key=value")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return key.strip(), parsed


def _accepts(annotation: Any, value: Any) -> Any:
    """``value`` converted to ``annotation`` (str, int, float, bool, dict, list and their ``| None``), or raise
    TypeError."""
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
    if origin is typing.Literal:
        if value in typing.get_args(annotation):
            return value
        raise TypeError
    base = origin or annotation
    if base is bool:
        if isinstance(value, bool):
            return value
        raise TypeError
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
    sets: list[str] | None = None,
    *,
    base: Any = None,
) -> Any:
    """A config dataclass: ``base`` (default: the class defaults), then the keys of the settings file at
    ``path``, then ``options`` (command-line options; ``None`` means not given and is skipped), then ``sets``
    (``key=value`` strings, values read as YAML, ``null`` included). Unknown keys and values of the wrong type
    raise ValueError naming the file (or option) and the key."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}

    def take(data: dict[str, Any], where: str) -> None:
        for key, value in data.items():
            if key not in names:
                raise ValueError(f"{where}: unknown key {key!r}; known keys: {', '.join(sorted(names))}")
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
    for text in sets or []:
        key, value = parse_override(text)
        take({key: value}, f"--set {text}")
    start = base if base is not None else cls()
    return dataclasses.replace(start, **values)
