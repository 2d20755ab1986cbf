"""``synthesize`` and ``filter-tests`` in a run: :func:`acecoder.synthesis.synthesize_file` and
:func:`acecoder.synthesis.filter_tests_file`, the functions of ``acecoder synthesize`` and ``acecoder filter-tests``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, dataclass_defaults, pick, signature_defaults
from acecoder.pipeline.stages import endpoints

_SYNTH_SKIP = ("seeds_path", "output", "client", "template", "decontaminator", "rejects_path", "summary_path")
_FILTER_SKIP = ("input_path", "output", "oracle", "engine", "rejects_path", "summary_path")
_ORACLE = ("n", "temperature", "top_p", "max_tokens", "seed")


def _synthesize_options() -> dict[str, Any]:
    from acecoder.synthesis import synthesize_file

    return signature_defaults(synthesize_file, skip=(*_SYNTH_SKIP, "resume"))


def _filter_options() -> dict[str, Any]:
    from acecoder.synthesis import filter_tests_file

    return signature_defaults(filter_tests_file, skip=(*_FILTER_SKIP, "resume"))


class Synthesize(Stage):
    name = "synthesize"
    help = "seed programs -> questions with validated tests (acecoder synthesize)"
    kind = "global"  # seed ids, de-duplication and `limit` are over the whole seed file
    llm = True
    path_settings = ("template", "benchmark", "prices")
    volatile = endpoints.VOLATILE

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        extra = {"model": None, "template": None, "decontaminate": True, "ngram": 13, "benchmark": []}
        return {**_synthesize_options(), **extra, **endpoints.llm_defaults(config)}

    def check(self, ctx: StageContext) -> None:
        endpoints.require_endpoint(ctx)
        if not ctx.settings["model"]:
            raise ValueError("stages.synthesize: set model (the paper: gpt-4o-mini)")

    def run_all(self, ctx: StageContext, output: Path) -> dict[str, Any]:
        from acecoder.synthesis import Decontaminator, load_template, synthesize_file

        s = ctx.settings
        if len(ctx.inputs) != 1:
            raise ValueError(
                "synthesize reads one seed file: make it the first stage and set input to the seeds"
            )
        decontaminator = (
            Decontaminator.bundled(extra_files=s["benchmark"], n=s["ngram"]) if s["decontaminate"] else None
        )
        summary = synthesize_file(
            ctx.inputs[0],
            output,
            endpoints.client(ctx, s["model"]),
            template=load_template(s["template"]),
            decontaminator=decontaminator,
            **pick(s, _synthesize_options()),
        )
        return {"rows_in": summary.seeds.read, "rows_out": summary.rows, "summary": summary.as_dict()}


class FilterTests(Stage):
    name = "filter-tests"
    help = "keep the tests an oracle program passes (acecoder filter-tests)"
    llm = True
    path_settings = ("prompt", "prices")
    volatile = endpoints.VOLATILE

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        from acecoder.execution.limits import ORACLE
        from acecoder.synthesis import ModelOracle

        oracle = signature_defaults(ModelOracle, skip=("client", "template"))
        return {
            **_filter_options(),
            "reference_field": None,
            "model": None,
            "prompt": None,
            **oracle,
            **asdict(ORACLE.limits()),  # the oracle's budget, as `acecoder filter-tests`
            **endpoints.llm_defaults(config),
        }

    def check(self, ctx: StageContext) -> None:
        from acecoder.execution import Limits

        s = ctx.settings
        self.limits = Limits(**pick(s, dataclass_defaults(Limits)))
        if (s["reference_field"] is None) == (s["model"] is None):
            raise ValueError("stages.filter-tests: set exactly one oracle: reference_field or model")
        if s["model"] is not None:
            endpoints.require_endpoint(ctx, " for the oracle model")

    def open(self, ctx: StageContext) -> None:
        s = ctx.settings
        self.engine = ctx.executor(self.limits)
        self.client = endpoints.client(ctx, s["model"]) if s["model"] is not None else None

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.synthesis import FieldOracle, ModelOracle, filter_tests_file

        s = ctx.settings
        if self.client is None:
            oracle: Any = FieldOracle(s["reference_field"])
        else:  # one oracle per shard, so that each shard's summary counts its own requests and cost
            from acecoder.sampling import get_prompt_template

            template = get_prompt_template(s["prompt"])
            oracle = ModelOracle(self.client, template=template, **pick(s, _ORACLE))
        summary = filter_tests_file(source, output, oracle, self.engine, **pick(s, _filter_options()))
        return {"rows_in": summary.rows_in, "rows_out": summary.rows_out, "summary": summary.as_dict()}
