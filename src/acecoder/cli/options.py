"""Options shared by the verbs: one name, one meaning, one help text everywhere (each verb sets its default)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

ROWS_IN = "JSONL, JSONL.gz or Parquet, by extension"
"""What every verb reads; said in each input argument's help."""


class Isolation(str, Enum):
    auto = "auto"
    namespaces = "namespaces"
    none = "none"


# ---- files and runs ------------------------------------------------------------------------------------------
InPlace = Annotated[
    bool,
    typer.Option(
        "--in-place", help="Allow OUTPUT to be INPUT: it is replaced atomically once the run is complete."
    ),
]
DedupeIds = Annotated[
    bool,
    typer.Option(
        "--dedupe-ids",
        help="Rename a row whose id repeats an earlier row's to ID#2, ID#3, ... (the old id kept in original_id) "
        "instead of failing.",
    ),
]
Resume = Annotated[bool, typer.Option(help="Continue an interrupted run of the same command.")]
Progress = Annotated[bool, typer.Option(help="Show progress bars.")]

# ---- execution -----------------------------------------------------------------------------------------------
Workers = Annotated[
    int | None, typer.Option(min=1, show_default=False, help="Sandbox workers. [default: one per core]")
]
Timeout = Annotated[float, typer.Option(help="CPU seconds per test.")]
ProgramTimeout = Annotated[
    float,
    typer.Option(
        min=0,
        help="CPU seconds for a program and all its tests together, over its process tree (re-runs after a "
        "crash or timeout included); tests not reached in time fail as timeouts. 0: no such budget.",
    ),
]
MemoryMb = Annotated[int, typer.Option(min=1, help="Address-space limit per program, MiB.")]
IsolationOption = Annotated[
    Isolation,
    typer.Option(
        help="auto: namespaces when the kernel allows, else none (with a warning); namespaces: required; "
        "none: host network and files (limits still apply)."
    ),
]

# ---- LLM requests --------------------------------------------------------------------------------------------
Backend = Annotated[str, typer.Option(help="openai (also vllm-server, sglang), transformers or vllm.")]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        show_default=False,
        help="OpenAI-compatible server URL(s), comma-separated. [default: $OPENAI_BASE_URL]",
    ),
]
ApiKeyEnv = Annotated[str, typer.Option(help="Environment variable holding the API key.")]
TopP = Annotated[float, typer.Option(help="Nucleus sampling.")]
Seed = Annotated[int | None, typer.Option(help="Sampling seed, where the server supports it.")]
Cache = Annotated[
    Path | None,
    typer.Option(show_default=False, help="LLM request cache. [default: OUTPUT.llm_cache.sqlite]"),
]
Concurrency = Annotated[int, typer.Option(min=1, help="Requests in flight.")]
Rpm = Annotated[float | None, typer.Option(help="Requests per minute limit.")]
Tpm = Annotated[float | None, typer.Option(help="Tokens per minute limit.")]
MaxAttempts = Annotated[int, typer.Option(min=1, help="Tries per request before it is recorded as failed.")]
BatchSize = Annotated[int, typer.Option(min=1, help="Rows per generation batch.")]
