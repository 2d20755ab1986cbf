"""Structured settings files (prompt templates, model lists, price tables, config dataclasses): JSON or YAML by
extension, and the one ``KEY.SUB=VALUE`` override grammar (``--set``) that every config reads."""

from __future__ import annotations

import json
import os
import re
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


_EXPONENT_FLOAT = re.compile(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+")
"""Numbers such as ``1e-6`` that YAML 1.1 (PyYAML) leaves as strings and YAML 1.2 reads as floats."""


def apply_override(data: dict[str, Any], assignment: str) -> None:
    """``key.sub=value`` into ``data``: the one ``--set`` grammar of every config (run config, train-rm,
    train-rl). The value is YAML (``1e-6`` is a number, as in YAML 1.2); dotted keys reach into mappings,
    creating them. A malformed assignment raises ValueError."""
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
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as e:
        raise ValueError(f"--set {assignment!r}: invalid YAML value ({e})") from None
    if isinstance(value, str) and _EXPONENT_FLOAT.fullmatch(value):
        value = float(value.replace("_", ""))
    node[parts[-1]] = value


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


def take_fields(cls: type, data: Any, where: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The keys of ``data`` checked against the fields of the dataclass ``cls`` (names and types) and added to
    ``values``; a mapping given for a mapping field adds to the one already there. Unknown keys and values of the
    wrong type raise ValueError naming ``where`` and the key."""
    import dataclasses
    import typing

    values = {} if values is None else values
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a mapping of settings")
    hints = typing.get_type_hints(cls)
    names = sorted(f.name for f in dataclasses.fields(cls) if f.init)
    unknown = sorted(str(key) for key in data if key not in names)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {names}")
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            value = {**values[key], **value}  # --set trl.optim=... adds to the file's trl mapping
        try:
            values[key] = _accepts(hints[key], value)
        except TypeError:
            raise ValueError(f"{where}: {key!r} must be {_describe(hints[key])}, got {value!r}") from None
    return values


def config_from(
    cls: type,
    path: str | os.PathLike | None = None,
    options: dict[str, Any] | None = None,
    sets: list[str] | tuple[str, ...] = (),
    *,
    what: str = "config file",
) -> Any:
    """The one loader of config dataclasses (train-rm, train-rl; the run config's blocks check their keys with
    :func:`take_fields`). The dataclass is the one source of the defaults; then come the keys of the settings
    file at ``path`` (YAML or JSON; ``what`` names it in errors), ``options`` (command-line options; ``None``
    means not given and is skipped), and ``sets`` (``key=value``, :func:`apply_override`'s grammar). Unknown keys,
    values of the wrong type and values the dataclass rejects raise ValueError naming where they came from and
    the key."""
    values: dict[str, Any] = {}
    if path is not None:
        data = parse_settings(read_text(path, what), path)
        take_fields(cls, {} if data is None else data, str(path), values)
    take_fields(cls, {k: v for k, v in (options or {}).items() if v is not None}, "options", values)
    for assignment in sets:
        data = {}
        apply_override(data, assignment)
        take_fields(cls, data, f"--set {assignment}", values)
    try:
        return cls(**values)
    except ValueError as e:
        raise ValueError(f"{path}: {e}" if path is not None else str(e)) from None
