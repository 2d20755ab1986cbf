"""Structured settings files (prompt templates, model lists, price tables): JSON or YAML by extension."""

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
    except UnicodeDecodeError as e:
        line = Path(path).read_bytes()[: e.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line}: the {what} is not valid UTF-8; re-encode it as UTF-8"
        ) from None
