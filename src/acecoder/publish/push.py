"""``acecoder push STAGE_DIR REPO_ID``: a stage's Parquet shards and a generated card to a Hub dataset repository,
in one commit through ``huggingface_hub``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from acecoder.publish.card import CardError, dataset_card, stage_info

INSTALL_HINT = "pushing needs huggingface_hub: pip install 'acecoder[hub]'"


@dataclass
class PushResult:
    repo_id: str
    files: list[str]
    card: str
    commit_url: str | None = None


def push_stage(
    stage_dir: str | os.PathLike,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool | None = None,
    revision: str | None = None,
    endpoint: str | None = None,
    license: str | None = None,
    message: str | None = None,
    dry_run: bool = False,
) -> PushResult:
    """Create the dataset repository if needed and commit ``data/shard-*.parquet`` and ``README.md``.
    ``dry_run``: build the card and the file list, send nothing."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise CardError(f"{repo_id!r}: expected a repository id like user/name")
    sd, _, shards = stage_info(stage_dir)
    card = dataset_card(stage_dir, repo_id, license=license)
    files = [f"data/{p.name}" for p in shards] + ["README.md"]
    result = PushResult(repo_id, files, card)
    if dry_run:
        return result
    try:
        from huggingface_hub import CommitOperationAdd, HfApi, constants
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    if constants.HF_HUB_OFFLINE:
        raise CardError("HF_HUB_OFFLINE is set: unset it (or HF_HUB_OFFLINE=0) to push")
    api: Any = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    operations = [CommitOperationAdd(f"data/{p.name}", str(p)) for p in shards]
    operations.append(CommitOperationAdd("README.md", card.encode("utf-8")))
    info = api.create_commit(
        repo_id,
        operations,
        commit_message=message or f"acecoder push: {sd.name} ({len(shards)} shard(s))",
        repo_type="dataset",
        revision=revision,
    )
    result.commit_url = str(getattr(info, "commit_url", info))
    return result
