"""The paper's synthesis prompt (Table 7) as an editable template.

A template file is YAML (or JSON) with ``with_instruction``, ``program_only`` and optionally ``system`` (``null``
for none), or a plain text file used for both variants. ``{program}`` and ``{instruction}`` are substituted in one
pass, so a program that itself contains ``{instruction}`` is left alone; every other brace stays as written.
The default is ``acecoder/resources/prompts/synthesis_table7.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from acecoder.data import DataError
from acecoder.data.settings import parse_settings, read_text

DEFAULT_TEMPLATE_RESOURCE = ("prompts", "synthesis_table7.yaml")
_PLACEHOLDER = re.compile(r"\{(program|instruction)\}")


@dataclass(frozen=True)
class SynthesisPrompt:
    """The synthesis prompt: one user template for seeds with an instruction, one for bare programs."""

    with_instruction: str
    program_only: str
    system: str | None = None

    def messages(self, program: str, instruction: str | None = None) -> list[dict[str, str]]:
        """The chat messages for one seed."""
        template = self.with_instruction if instruction and instruction.strip() else self.program_only
        values = {"program": program.strip("\n"), "instruction": (instruction or "").strip()}
        user = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
        out = [{"role": "system", "content": self.system}] if self.system else []
        out.append({"role": "user", "content": user})
        return out

    @property
    def fingerprint(self) -> str:
        blob = json.dumps([self.system, self.with_instruction, self.program_only])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_template() -> SynthesisPrompt:
    """The paper's prompt, from the bundled template file."""
    ref = resources.files("acecoder").joinpath("resources", *DEFAULT_TEMPLATE_RESOURCE)
    return _from_mapping(parse_settings(ref.read_text(encoding="utf-8"), "template.yaml"), str(ref))


def load_template(path: str | os.PathLike | None = None) -> SynthesisPrompt:
    """The template in ``path`` (YAML/JSON mapping or plain text), or the default when ``path`` is None."""
    if path is None:
        return default_template()
    p = Path(path)
    if not p.is_file():
        raise DataError("no such template file", path=str(p))
    try:
        text = read_text(p, "template")
    except ValueError as e:
        raise DataError(str(e).split(": ", 1)[1], path=str(p)) from None
    if p.suffix.lower() in (".yaml", ".yml", ".json"):
        try:
            data = parse_settings(text, p)
        except ValueError as e:
            raise DataError(str(e).split(": ", 1)[1], path=str(p)) from None
        return _from_mapping(data, str(p))
    if "{program}" not in text:
        raise DataError("the template has no {program} placeholder", path=str(p))
    return SynthesisPrompt(with_instruction=text, program_only=text, system=default_template().system)


def _from_mapping(data: Any, where: str) -> SynthesisPrompt:
    if not isinstance(data, dict):
        raise DataError("expected a mapping with with_instruction, program_only and system", path=where)
    unknown = set(data) - {"with_instruction", "program_only", "system"}
    if unknown:
        raise DataError(f"unknown keys {sorted(unknown)}", path=where)
    for key in ("with_instruction", "program_only"):
        if not isinstance(data.get(key), str):
            raise DataError("missing or not a string", path=where, field=key)
        if "{program}" not in data[key]:
            raise DataError("no {program} placeholder", path=where, field=key)
    system = data.get("system")
    if system is not None and not isinstance(system, str):
        raise DataError("expected a string or null", path=where, field="system")
    return SynthesisPrompt(data["with_instruction"], data["program_only"], system)
