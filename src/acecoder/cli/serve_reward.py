"""``acecoder serve-reward``: the test-case reward over HTTP (OpenRLHF's remote reward protocol and TRL JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from acecoder.cli import options
from acecoder.cli.base import app, fail
from acecoder.execution.limits import SAMPLED


@app.command("serve-reward", short_help="Serve test-case rewards over HTTP.")
def serve_reward_command(
    dataset: Annotated[
        Path | None,
        typer.Option(
            show_default=False,
            help=f"AceCode rows ({options.ROWS_IN}) whose ids labels name. Reads id and test_cases. "
            "[default: none; labels must then be JSON lists of tests]",
        ),
    ] = None,
    label_key: Annotated[
        str,
        typer.Option(
            help="The dataset column the trainer sends as each sample's label (OpenRLHF: --data.label_key); "
            "every row's label is checked at start-up."
        ),
    ] = "id",
    reward: Annotated[
        str,
        typer.Option(
            help="binary (1 when every test passes) or pass_rate (the share passed; also pass-rate)."
        ),
    ] = "binary",
    on_infra_error: Annotated[
        str,
        typer.Option(
            help="After retries, an engine failure gets the neutral reward (flagged in extra_logs.infra_error "
            "and /metrics) or a 503 (raise; OpenRLHF then stops)."
        ),
    ] = "neutral",
    neutral_reward: Annotated[float, typer.Option(help="The neutral reward.")] = 0.0,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    workers: options.Workers = None,
    timeout: options.Timeout = SAMPLED.test,
    program_timeout: options.ProgramTimeout = SAMPLED.program or 0,
    max_pending: Annotated[
        int, typer.Option(min=1, help="Programs queued or running at once; further requests wait for room.")
    ] = 4096,
    max_connections: Annotated[
        int, typer.Option(min=0, help="Open connections before new ones get 503 (0: no limit).")
    ] = 0,
    max_body_mb: Annotated[
        float, typer.Option(min=0.001, help="Largest request body in MB; a larger one gets 413 unread.")
    ] = 64.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve test-case rewards: POST /get_reward (OpenRLHF's remote reward protocol), POST /reward (TRL-style
    JSON), GET /health, GET /metrics.

    Reads each request's label as a row id of --dataset or a JSON list of tests. Rows without tests are
    skipped (and counted); every other row's --label-key value must name tests, or nothing is served."""
    try:
        import uvicorn

        from acecoder.execution import SandboxError
        from acecoder.reward.labels import TestLookup
        from acecoder.reward.server import create_app
        from acecoder.reward.test_case import TestCaseReward
    except ImportError as e:
        raise fail(f"{e.name} is not installed: pip install 'acecoder[serve]'") from None
    from acecoder.data import DataError

    if on_infra_error not in ("neutral", "raise"):
        raise fail(f"--on-infra-error must be neutral or raise, got {on_infra_error!r}")
    try:
        lookup = TestLookup.from_file(dataset) if dataset is not None else TestLookup()
        checked = lookup.check_labels(dataset, label_key) if dataset is not None else 0
        limits = SAMPLED.limits(timeout=timeout, program_timeout=program_timeout)
        scorer = TestCaseReward(
            reward,
            limits,
            workers,
            max_pending=max_pending,
            on_infra_error=on_infra_error,
            neutral_reward=neutral_reward,
        )
    except (DataError, ValueError, SandboxError) as e:
        raise fail(str(e)) from None
    if lookup.without_tests:
        typer.echo(
            f"{dataset}: {len(lookup.without_tests):,} rows without tests skipped (a label naming one gets a "
            "422: leave them out of the trainer's prompts)",
            err=True,
        )
    if dataset is not None:
        typer.echo(
            f"{dataset}: the '{label_key}' labels of all {checked:,} rows with tests resolve", err=True
        )
    engine = scorer.dispatcher.engine
    typer.echo(
        f"serving {scorer.mode} rewards for {len(lookup)} rows on http://{host}:{port} "
        f"({engine.workers} workers; sandbox: {'no' if engine.isolation.get('network') == 'none' else 'host'} network)",
        err=True,
    )
    uvicorn.run(
        create_app(scorer, lookup, max_body_bytes=int(max_body_mb * 1024 * 1024)),
        host=host,
        port=port,
        log_level=log_level,
        limit_concurrency=max_connections or None,
        timeout_keep_alive=75,  # clients waiting on slow programs reuse idle connections; 5 s races with them
    )
