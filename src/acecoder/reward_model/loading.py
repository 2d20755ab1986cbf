"""Loading a reward model's transformer and scalar head, whichever of the two layouts it is saved in.

* Sequence classification (what ``acecoder train-rm`` and TRL save): ``*ForSequenceClassification`` with one
  label, the head ``score`` (Linear(hidden, 1), no bias).
* AceCodeRM (TIGER-Lab/AceCodeRM-7B/32B): a Qwen2 causal LM whose weights also hold ``v_head.summary``
  (Linear(hidden, 1) with bias); the LM head is not needed and not loaded.

Either way the reward is the head applied to the last hidden state at the last attended token.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACECODERM_HEAD = "v_head.summary"
SEQCLS_HEAD = "score"
METADATA_FILE = "acecoder_reward_model.json"


@dataclass
class LoadedRewardModel:
    backbone: Any  # the transformer: input ids -> last hidden states
    head: Any  # torch.nn.Linear(hidden, 1)
    layout: str  # "sequence_classification" or "acecoderm"
    path: Path


def local_folder(name_or_path: str | os.PathLike) -> Path:
    """A local model folder: the path itself, or a hub snapshot (downloaded unless offline)."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if path.exists():
        raise ValueError(f"{path}: expected a model folder, got a file")
    if str(name_or_path).count("/") != 1 or str(name_or_path).startswith((".", "/")):
        raise ValueError(f"{path}: no such model folder")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(str(name_or_path)))
    except Exception as e:
        raise ValueError(f"{name_or_path}: not a local folder and not downloadable ({e})") from None


def weight_names(folder: Path) -> set[str]:
    """Parameter names stored in a model folder (safetensors headers or index, else a torch .bin)."""
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (folder / index).is_file():
            return set(json.loads((folder / index).read_text())["weight_map"])
    names: set[str] = set()
    files = sorted(folder.glob("*.safetensors"))
    if files:
        from safetensors import safe_open

        for file in files:
            with safe_open(str(file), "pt") as f:
                names.update(f.keys())
        return names
    if (folder / "pytorch_model.bin").is_file():
        import torch

        return set(torch.load(folder / "pytorch_model.bin", map_location="meta", weights_only=True))
    return names


def read_tensors(folder: Path, names: list[str]) -> dict[str, Any]:
    """Some tensors of a folder's safetensors weights, without loading the rest."""
    from safetensors import safe_open

    wanted, found = set(names), {}
    index = folder / "model.safetensors.index.json"
    files = (
        sorted({folder / f for n, f in json.loads(index.read_text())["weight_map"].items() if n in wanted})
        if index.is_file()
        else sorted(folder.glob("*.safetensors"))
    )
    for file in files:
        with safe_open(str(file), "pt") as f:
            for name in wanted & set(f.keys()):
                found[name] = f.get_tensor(name)
    missing = wanted - set(found)
    if missing:
        raise ValueError(f"{folder}: weights {sorted(missing)} not found in safetensors files")
    return found


def load_reward_model(name_or_path: str | os.PathLike, *, dtype: Any = None) -> LoadedRewardModel:
    """The backbone and head of a reward model folder (or hub id); a folder without a reward head is an
    error naming what was looked for."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    folder = local_folder(name_or_path)
    if not (folder / "config.json").is_file():
        if (folder / "adapter_config.json").is_file():
            raise ValueError(f"{folder}: a LoRA adapter folder; merge it into its base model first")
        raise ValueError(f"{folder}: not a model folder (no config.json)")
    names = weight_names(folder)
    if not names:
        raise ValueError(f"{folder}: no weights (*.safetensors or pytorch_model.bin)")
    dtype = dtype or torch.float32
    hf_logging.disable_progress_bar()
    if f"{ACECODERM_HEAD}.weight" in names:
        backbone, info = AutoModel.from_pretrained(folder, dtype=dtype, output_loading_info=True)
        _check_loaded(folder, info)
        tensors = read_tensors(folder, [f"{ACECODERM_HEAD}.weight", f"{ACECODERM_HEAD}.bias"])
        weight = tensors[f"{ACECODERM_HEAD}.weight"]
        head = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=True)
        head.load_state_dict({"weight": weight, "bias": tensors[f"{ACECODERM_HEAD}.bias"]})
        if weight.shape[0] != 1:
            raise ValueError(f"{folder}: {ACECODERM_HEAD} has {weight.shape[0]} outputs, expected 1")
        return LoadedRewardModel(backbone.eval(), head.to(dtype).eval(), "acecoderm", folder)
    if f"{SEQCLS_HEAD}.weight" in names:
        config = AutoConfig.from_pretrained(folder)
        if getattr(config, "num_labels", 1) != 1:
            raise ValueError(f"{folder}: the head has {config.num_labels} labels; a reward model has 1")
        model, info = AutoModelForSequenceClassification.from_pretrained(
            folder, dtype=dtype, output_loading_info=True
        )
        _check_loaded(folder, info)
        backbone = getattr(model, model.base_model_prefix)
        return LoadedRewardModel(backbone.eval(), model.score.eval(), "sequence_classification", folder)
    raise ValueError(
        f"{folder}: no reward head: the weights hold neither '{SEQCLS_HEAD}.weight' (a sequence-classification "
        f"reward model, as acecoder train-rm saves) nor '{ACECODERM_HEAD}.weight' (the AceCodeRM layout); "
        "a plain language model is not a reward model"
    )


def _check_loaded(folder: Path, info: dict[str, Any]) -> None:
    missing = sorted(info.get("missing_keys") or [])
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(f"{folder}: weights missing from the checkpoint: {shown}")


def read_metadata(folder: Path) -> dict[str, Any]:
    """What ``acecoder train-rm`` recorded about rendering (template, max length); {} for other folders."""
    file = folder / METADATA_FILE
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{file}: invalid JSON ({e.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a JSON object")
    return data
