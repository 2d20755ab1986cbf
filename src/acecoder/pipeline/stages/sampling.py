"""``sample`` in a run: :func:`acecoder.sampling.sample_file`, the function of ``acecoder sample``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acecoder.llm.endpoints import has_endpoint, split_base_urls
from acecoder.pipeline.runconfig import RunConfig
from acecoder.pipeline.stage import Stage, StageContext, pick, signature_defaults
from acecoder.pipeline.stages import endpoints

# `limit` counts rows per file, which in a run would mean per shard: cut the input instead.
_SKIP = ("input", "output", "models", "summary_path", "resume", "limit")


def _options() -> dict[str, Any]:
    from acecoder.sampling import sample_file

    return signature_defaults(sample_file, skip=_SKIP)


class Sample(Stage):
    name = "sample"
    help = "N programs per question per policy model (acecoder sample)"
    llm = True
    path_settings = ("template", "prices")
    volatile = endpoints.VOLATILE

    def defaults(self, config: RunConfig) -> dict[str, Any]:
        return {**_options(), "models": [], **endpoints.llm_defaults(config)}

    def _policies(self, ctx: StageContext) -> list[Any]:
        from acecoder.sampling import PolicyModel, models_from_list

        s = ctx.settings
        shared = split_base_urls(s["base_url"], "stages.sample.base_url")
        defaults = PolicyModel("", base_urls=shared, backend=s["backend"], api_key_env=s["api_key_env"])
        return models_from_list(s["models"], where=f"stages.{self.name}.models", defaults=defaults)

    def check(self, ctx: StageContext) -> None:
        policies = self._policies(ctx)
        missing = [p.label for p in policies if not has_endpoint(p.backend, p.base_urls)]
        if missing:
            raise endpoints.no_endpoint(self.name, f" for {', '.join(missing)}")

    def open(self, ctx: StageContext) -> None:
        self.clients = [
            (
                p.label,
                endpoints.client(
                    ctx, p.model, backend=p.backend, base_url=p.base_urls, api_key_env=p.api_key_env
                ),
            )
            for p in self._policies(ctx)
        ]

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.sampling import sample_file

        summary = sample_file(source, output, self.clients, **pick(ctx.settings, _options()))
        return {"rows_in": summary.rows, "rows_out": summary.rows, "summary": summary.as_dict()}
