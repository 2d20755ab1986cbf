"""The reward server behind ``acecoder serve-reward`` (FastAPI; run with uvicorn).

* ``POST /get_reward``: OpenRLHF's remote reward protocol. Body ``{"query": [...], "prompts": [...],
  "labels": [...]}`` (``query`` = prompt + response decoded with special tokens kept); reply
  ``{"rewards": [...], "scores": [...], "extra_logs": {"pass_rate": [...], "timeout": [...]}}``. A label is a
  row id of the served dataset or a JSON list of tests; an unknown label is a 422 naming it (logged here too:
  OpenRLHF shows only the status). An engine failure is retried, then gets the neutral reward flagged with
  ``extra_logs.infra_error`` = 1 and counted in ``/metrics`` (``on_infra_error="raise"``: a 503 instead; see
  :mod:`acecoder.reward.failures`), never a silent 0.
* ``POST /reward``: TRL-style, for any trainer: ``{"completions": [...], "test_cases": [...]}`` where each
  test-case item is a list of tests or a row id; reply ``{"rewards": [...], "pass_rates": [...],
  "timeouts": [...]}`` with ``null`` rewards for engine failures (TRL's "excluded"; a 503 with "raise").
* ``GET /health``, ``GET /metrics``.

Bodies over ``max_body_bytes`` get a 413 and JSON nested deeper than 64 levels a 422, before anything reads
or parses them (:mod:`acecoder.reward.body_limits`).

Requests are served on one event loop and their programs go to one shared engine (:class:`EngineDispatcher`):
many concurrent one-sample requests are micro-batched onto its workers; beyond ``max_pending`` queued programs,
requests wait for room instead of adding work.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict

from acecoder.reward.body_limits import BodyLimits
from acecoder.reward.failures import RewardInfraError
from acecoder.reward.labels import TestLookup, UnknownLabel
from acecoder.reward.metrics import ServerMetrics
from acecoder.reward.queries import openrlhf_reply, response_from_query
from acecoder.reward.test_case import TestCaseReward

log = logging.getLogger("acecoder.reward.server")


def rejected(endpoint: str, status: int, detail: str) -> HTTPException:
    """An HTTP error, logged here: OpenRLHF's client shows only the status of a reply it gives up on."""
    log.warning("%s: %d %s", endpoint, status, detail)
    return HTTPException(status, detail)


class GetRewardRequest(BaseModel):
    """OpenRLHF's body (extra fields ignored)."""

    model_config = ConfigDict(extra="ignore")
    query: list[str] | str
    prompts: list[str] | str | None = None
    labels: list[Any] | Any = None


class RewardRequest(BaseModel):
    """TRL-style body: completions and, per completion, its tests or a row id."""

    model_config = ConfigDict(extra="ignore")
    completions: list[Any]
    test_cases: list[Any]


MAX_BODY_BYTES = 64 * 1024 * 1024
"""A request body larger than this is refused (413): OpenRLHF sends one sample per request (a few KB), a TRL
batch of 1,024 completions a few MB."""
MAX_JSON_DEPTH = 64


def create_app(
    reward: TestCaseReward,
    lookup: TestLookup | None = None,
    *,
    close_on_shutdown: bool = True,
    max_body_bytes: int = MAX_BODY_BYTES,
):
    """The FastAPI application serving ``reward`` for the rows of ``lookup``; bodies over ``max_body_bytes``
    get a 413 and JSON nested deeper than ``MAX_JSON_DEPTH`` a 422, before anything parses them."""
    lookup = lookup or TestLookup()
    metrics = ServerMetrics()

    @asynccontextmanager
    async def lifespan(_app):
        reward.dispatcher.start()
        yield
        if close_on_shutdown:
            reward.close()

    app = FastAPI(title="acecoder reward server", lifespan=lifespan)
    app.state.metrics, app.state.reward, app.state.lookup = metrics, reward, lookup

    def refused(path: str, status: int, detail: str) -> None:
        metrics.begin(path)
        metrics.end(0.0, status=status)
        log.warning("%s: %d %s", path, status, detail)

    app.add_middleware(BodyLimits, max_bytes=max_body_bytes, max_depth=MAX_JSON_DEPTH, on_reject=refused)

    @app.exception_handler(RequestValidationError)
    async def malformed(request, exc: RequestValidationError):
        metrics.begin(request.url.path)
        metrics.end(0.0, status=422)
        log.warning("%s: 422 %s", request.url.path, exc.errors())
        return await request_validation_exception_handler(request, exc)

    def tests_of(endpoint: str, labels: list[Any], field: str) -> list[list[Any]]:
        tests = []
        for index, label in enumerate(labels):
            try:
                tests.append(lookup.tests(label))
            except UnknownLabel as e:
                raise rejected(endpoint, 422, f"{field}[{index}]: {e}") from None
        return tests

    async def evaluate(endpoint: str, answers: list[Any], tests: list[list[Any]]):
        try:
            return await reward.aevaluate(answers, tests)
        except (TypeError, ValueError) as e:
            raise rejected(endpoint, 422, f"{endpoint}: {e}") from None
        except RewardInfraError as e:
            raise rejected(endpoint, 503, str(e)) from None

    @app.post("/get_reward")
    async def get_reward(request: GetRewardRequest) -> dict:
        with metrics.track("/get_reward") as record:
            queries = [request.query] if isinstance(request.query, str) else request.query
            prompts = request.prompts if request.prompts is not None else [None] * len(queries)
            prompts = [prompts] if isinstance(prompts, str) else prompts
            if request.labels is None:
                raise rejected(
                    "/get_reward",
                    422,
                    "labels missing: give each sample's row id or tests (OpenRLHF: --data.label_key)",
                )
            labels = request.labels if isinstance(request.labels, list) else [request.labels]
            if (
                isinstance(request.query, str)
                and isinstance(request.labels, list)
                and len(request.labels) != 1
            ):
                labels = [request.labels]  # one sample whose label is itself a list of tests
            if not len(queries) == len(prompts) == len(labels):
                raise rejected(
                    "/get_reward",
                    422,
                    f"got {len(queries)} queries, {len(prompts)} prompts and {len(labels)} labels",
                )
            tests = tests_of("/get_reward", labels, "labels")
            answers = [response_from_query(q, p) for q, p in zip(queries, prompts, strict=True)]
            _, record.stats = await evaluate("/get_reward", answers, tests)
            return openrlhf_reply(record.stats)

    @app.post("/reward")
    async def reward_endpoint(request: RewardRequest) -> dict:
        with metrics.track("/reward") as record:
            if len(request.completions) != len(request.test_cases):
                raise rejected(
                    "/reward",
                    422,
                    f"got {len(request.completions)} completions and {len(request.test_cases)} test_cases",
                )
            tests = tests_of("/reward", request.test_cases, "test_cases")
            _, record.stats = await evaluate("/reward", request.completions, tests)
            stats = record.stats
            rewards = [None if failed else r for r, failed in zip(stats.rewards, stats.failed, strict=True)]
            return {"rewards": rewards, "pass_rates": stats.pass_rates, "timeouts": stats.timed_out}

    @app.get("/health")
    async def health() -> dict:
        engine = reward.dispatcher.engine
        return {
            "status": "ok",
            "mode": reward.mode,
            "workers": engine.workers,
            "rows": len(lookup),
            "rows_without_tests": len(lookup.without_tests),
            "on_infra_error": reward.failures.on_infra_error,
            "isolation": engine.isolation,
        }

    @app.get("/metrics")
    async def metrics_endpoint() -> dict:
        return metrics.snapshot(pending=reward.dispatcher.pending)

    return app
