"""Pipeline plumbing shared by the stages: run fingerprints and resumable outputs."""

from acecoder.pipeline.checkpoint import Checkpoint, fingerprint

__all__ = ["Checkpoint", "fingerprint"]
