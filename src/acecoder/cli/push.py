"""``acecoder push STAGE_DIR REPO_ID``: publish a stage's dataset to the Hugging Face Hub with a dataset card."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli.base import app, fail


@app.command("push", short_help="Publish a stage's dataset to the Hugging Face Hub with a dataset card.")
def push_command(
    stage_dir: Annotated[
        Path, typer.Argument(help="A finished stage folder of a run, e.g. runs/demo/pairs.")
    ],
    repo_id: Annotated[
        str, typer.Argument(help="The Hub dataset repository, user/name (created if missing).")
    ],
    private: Annotated[bool, typer.Option(help="Create the repository private.")] = False,
    license: Annotated[
        str | None, typer.Option(help="License id for the card (default: license in the run config).")
    ] = None,
    revision: Annotated[str | None, typer.Option(help="Branch to commit to (default: main).")] = None,
    token_env: Annotated[str, typer.Option(help="Environment variable holding the Hub token.")] = "HF_TOKEN",
    endpoint: Annotated[
        str | None, typer.Option(help="Hub endpoint (default: HF_ENDPOINT or the Hub).")
    ] = None,
    message: Annotated[str | None, typer.Option(help="Commit message.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the card and the files; upload nothing.")] = False,
) -> None:
    """Upload the stage's Parquet shards (data/) and a generated README.md card in one commit.
    Reads STAGE_DIR (a stage of acecoder run: Parquet shards, markers, the run's config)."""
    from acecoder.publish import CardError, push_stage

    try:
        result = push_stage(
            stage_dir, repo_id, token=os.environ.get(token_env) or None, private=private or None,
            revision=revision, endpoint=endpoint, license=license, message=message, dry_run=dry_run,
        )  # fmt: skip
    except (CardError, ImportError) as e:
        raise fail(str(e)) from None
    except Exception as e:  # huggingface_hub's HTTP errors: one line, not a traceback
        raise fail(f"push failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    if dry_run:
        typer.echo(result.card)
        typer.echo("files: " + ", ".join(result.files))
        return
    typer.echo(f"pushed {len(result.files)} files to {repo_id}: {result.commit_url}")
