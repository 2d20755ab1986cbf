"""The options of the verbs that run programs on an executor (execute, filter-tests): local pool or Ray."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from acecoder.cli.base import fail


class ExecutorKind(str, Enum):
    local = "local"
    ray = "ray"


Executor = Annotated[
    ExecutorKind,
    typer.Option("--executor", help="local (a pool on this machine) or ray (one engine per Ray node)."),
]
RayAddress = Annotated[
    str | None,
    typer.Option(
        help="Ray cluster to use with --executor ray (auto, ray://host:10001); none: a local cluster."
    ),
]


def make_executor(kind: ExecutorKind, ray_address: str | None, **engine_options: Any) -> Any:
    """The executor for a verb; a bad combination or a missing Ray becomes a one-line CLI error."""
    from acecoder.execution.ray_executor import make_executor as build

    try:
        return build(kind.value, ray_address=ray_address, **engine_options)
    except (ValueError, ImportError) as e:
        raise fail(str(e)) from None
