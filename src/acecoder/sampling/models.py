"""The policy models a run samples from, as command lines, models files and run configs list them: each model's
name, servers, backend and API key variable (:class:`PolicyModel`)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acecoder.data.settings import parse_settings, read_text
from acecoder.llm import endpoints
from acecoder.llm.endpoints import split_base_urls


@dataclass(frozen=True)
class PolicyModel:
    """A model to sample from: ``model`` (the name its backend serves), ``name`` (the ``model_name`` written in
    the rows; default ``model``), ``base_urls`` (its servers; empty: the backend's default), ``backend``
    (``openai``/``vllm-server``/``sglang``, ``transformers``, ``vllm``) and ``api_key_env``."""

    model: str
    name: str | None = None
    base_urls: tuple[str, ...] = ()
    backend: str = endpoints.BACKEND
    api_key_env: str = endpoints.API_KEY_ENV

    @property
    def label(self) -> str:
        return self.name or self.model


_MODEL_KEYS = ("model", "name", "base_url", "base_urls", "backend", "api_key_env")


def load_models_file(path: str | os.PathLike, *, defaults: PolicyModel | None = None) -> list[PolicyModel]:
    """Models from a YAML or JSON file: a list (or ``{"models": [...]}``) whose items are a model name or a
    mapping with ``model`` and optionally ``name``, ``base_url`` (a URL, comma-separated URLs or a list),
    ``backend`` and ``api_key_env``. Missing fields come from ``defaults``."""
    path = Path(path)
    data = parse_settings(read_text(path, "models file"), path)
    if isinstance(data, dict) and set(data) == {"models"}:
        data = data["models"]
    return models_from_list(data, where=str(path), defaults=defaults)


def models_from_list(data: Any, *, where: str, defaults: PolicyModel | None = None) -> list[PolicyModel]:
    """Models from a list as in a models file (see :func:`load_models_file`); errors name ``where``."""
    if not isinstance(data, list) or not data:
        raise ValueError(f"{where}: expected a non-empty list of models")
    base = defaults or PolicyModel(model="")
    out = []
    for i, item in enumerate(data):
        where_item = f"{where}: model {i + 1}"
        if isinstance(item, str):
            item = {"model": item}
        if not isinstance(item, dict):
            raise ValueError(f"{where_item}: expected a model name or a mapping")
        unknown = sorted(set(item) - set(_MODEL_KEYS))
        if unknown:
            raise ValueError(f"{where_item}: unknown key(s) {unknown}; expected some of {list(_MODEL_KEYS)}")
        for key in ("model", "name", "backend", "api_key_env"):
            if key in item and not isinstance(item[key], str):
                raise ValueError(f"{where_item}: '{key}' must be a string")
        if not item.get("model"):
            raise ValueError(f"{where_item}: 'model' is missing")
        urls = item.get("base_urls", item.get("base_url"))
        out.append(
            PolicyModel(
                model=item["model"],
                name=item.get("name"),
                base_urls=split_base_urls(urls, where_item) if urls is not None else base.base_urls,
                backend=item.get("backend", base.backend),
                api_key_env=item.get("api_key_env", base.api_key_env),
            )
        )
    return out


def policy_models(
    models: Sequence[str] = (),
    *,
    names: Sequence[str] = (),
    base_urls: Sequence[str] = (),
    models_file: str | os.PathLike | None = None,
    backend: str = endpoints.BACKEND,
    api_key_env: str = endpoints.API_KEY_ENV,
) -> list[PolicyModel]:
    """The models of a command line: ``--model`` (repeatable), ``--model-name`` (none, or one per model),
    ``--base-url`` (none, one for every model, or one per model; each may list several servers, comma-separated)
    and a models file (its entries take the other options as defaults). Labels must be unique."""
    models = list(models)
    if names and len(names) != len(models):
        raise ValueError(f"got {len(names)} --model-name for {len(models)} --model: give one per --model")
    if len(base_urls) > 1 and len(base_urls) != len(models):
        raise ValueError(
            f"got {len(base_urls)} --base-url for {len(models)} --model: give one for all or one per --model"
        )
    shared = split_base_urls(base_urls[0], "--base-url") if len(base_urls) == 1 else ()
    out = [
        PolicyModel(
            model=m,
            name=names[i] if names else None,
            base_urls=split_base_urls(base_urls[i], "--base-url") if len(base_urls) > 1 else shared,
            backend=backend,
            api_key_env=api_key_env,
        )
        for i, m in enumerate(models)
    ]
    if models_file is not None:
        defaults = PolicyModel("", base_urls=shared, backend=backend, api_key_env=api_key_env)
        out += load_models_file(models_file, defaults=defaults)
    if not out:
        raise ValueError("no model to sample from: give --model NAME (repeatable) or --models FILE")
    labels = Counter(m.label for m in out)
    dupes = sorted(label for label, count in labels.items() if count > 1)
    if dupes:
        raise ValueError(f"model name(s) {dupes} given twice: set a distinct name for each")
    return out
