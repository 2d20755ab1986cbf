"""``augment`` in a run: :func:`acecoder.augmentation.augment_tests_file`, the function of ``acecoder
augment-tests``, between ``filter-tests`` and ``sample``. It runs when the stage names a reference
(``reference_field``, ``model`` or ``consensus: true``); otherwise it is skipped, saying how to enable it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acecoder.execution.limits import AUGMENT, Limits
from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, StageSkipped, pick, signature_defaults
from acecoder.pipeline.stages import endpoints

_SKIP = (
    "input_path",
    "output",
    "source",
    "engine",
    "proposer",
    "limits",
    "rejects_path",
    "summary_path",
    "resume",
)
_ORACLE = ("n", "temperature", "top_p", "max_tokens", "seed")


def _options() -> dict[str, Any]:
    from acecoder.augmentation import augment_tests_file

    return signature_defaults(augment_tests_file, skip=_SKIP)


class Augment(Stage):
    name = "augment"
    help = (
        "more tests per question: mutated inputs, reference outputs, mutation scores (acecoder augment-tests)"
    )
    path_settings = ("prompt", "prices")
    volatile = (*endpoints.VOLATILE, "batch_size")

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        from acecoder.augmentation import ConsensusSource
        from acecoder.synthesis import ModelOracle

        consensus = signature_defaults(ConsensusSource)
        oracle = signature_defaults(ModelOracle, skip=("client", "template"))
        return {
            **_options(),
            "reference_field": None,
            "model": None,
            "consensus": False,
            "consensus_share": consensus["min_share"],
            "consensus_votes": consensus["min_votes"],
            "consensus_programs": consensus["max_programs"],
            "program": None,
            "llm_inputs": 0,
            "inputs_model": None,
            "prompt": None,
            **{k: oracle[k] for k in ("n", "temperature", "top_p", "max_tokens")},
            "oracle_seed": oracle["seed"],
            "timeout": AUGMENT.test,
            "memory_mb": Limits.memory_mb,
            **endpoints.llm_defaults(config),
        }

    def check(self, ctx: StageContext) -> None:
        from acecoder.augmentation import ALL_RULES

        s = ctx.settings
        if s["model"] is not None and s["reference_field"] is not None:
            raise ValueError(
                "stages.augment: set one reference: reference_field or model (consensus: a fallback)"
            )
        if s["reference_field"] is None and s["model"] is None and not s["consensus"]:
            raise StageSkipped(
                "no reference configured; to enable it set stages.augment.reference_field (a field holding a "
                "reference program), model (an oracle model) or consensus: true (the row's passing programs)"
            )
        if s["rules"] is not None and (
            not isinstance(s["rules"], list) or not set(s["rules"]) <= set(ALL_RULES)
        ):
            raise ValueError(f"stages.augment.rules: a list of some of {', '.join(ALL_RULES)}")
        if s["model"] is not None or s["llm_inputs"]:
            endpoints.require_endpoint(ctx, " for the augment stage's model")
        if s["llm_inputs"] and not (s["inputs_model"] or s["model"]):
            raise ValueError("stages.augment.llm_inputs needs inputs_model (or model)")

    def open(self, ctx: StageContext) -> None:
        s = ctx.settings
        self.limits = AUGMENT.limits(timeout=s["timeout"], memory_mb=s["memory_mb"])
        self.engine = ctx.executor(self.limits)
        self.client = endpoints.client(ctx, s["model"]) if s["model"] is not None else None
        name = s["inputs_model"] or s["model"]
        self.inputs_client = None
        if s["llm_inputs"] and name:
            self.inputs_client = self.client if name == s["model"] else endpoints.client(ctx, name)

    def _source(self, ctx: StageContext) -> Any:
        from acecoder.augmentation import ConsensusSource, OracleSource
        from acecoder.synthesis import FieldOracle, ModelOracle

        s = ctx.settings
        consensus = (
            ConsensusSource(
                program_template=s["program"],
                max_programs=s["consensus_programs"],
                min_share=s["consensus_share"],
                min_votes=s["consensus_votes"],
            )
            if s["consensus"]
            else None
        )
        if self.client is not None:  # one oracle per shard: each shard's summary counts its own requests
            from acecoder.sampling import get_prompt_template

            oracle = ModelOracle(
                self.client,
                template=get_prompt_template(s["prompt"]),
                seed=s["oracle_seed"],
                **pick(s, ("n", "temperature", "top_p", "max_tokens")),
            )
            return OracleSource(oracle)
        if s["reference_field"] is not None:
            return OracleSource(FieldOracle(s["reference_field"]), consensus)
        return consensus

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.augmentation import augment_tests_file

        s = ctx.settings
        proposer = None
        if self.inputs_client is not None:
            from acecoder.augmentation.llm_inputs import InputProposer

            proposer = InputProposer(self.inputs_client, s["llm_inputs"])
        options = pick(s, _options())
        if options.get("rules") is not None:
            options["rules"] = tuple(options["rules"])
        summary = augment_tests_file(
            source, output, self._source(ctx), self.engine, proposer=proposer, limits=self.limits, **options
        )
        return {"rows_in": summary.rows_in, "rows_out": summary.rows_out, "summary": summary.as_dict()}
