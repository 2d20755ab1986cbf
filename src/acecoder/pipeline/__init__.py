"""Pipeline plumbing shared by the stages (run fingerprints, resumable outputs, settings files) and, above the
stages, ``acecoder run``: :mod:`~acecoder.pipeline.runconfig` (the YAML config), :mod:`~acecoder.pipeline.stage`
and :mod:`~acecoder.pipeline.stages` (the adapters and their registry), :mod:`~acecoder.pipeline.store` (the run
directory), :mod:`~acecoder.pipeline.runner` and :mod:`~acecoder.pipeline.status`. Only the plumbing is imported
here, so that the stages can use it without importing each other."""

from acecoder.pipeline.checkpoint import Checkpoint, fingerprint

__all__ = ["Checkpoint", "fingerprint"]
