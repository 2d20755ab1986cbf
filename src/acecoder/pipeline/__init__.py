"""``acecoder run``: :mod:`~acecoder.pipeline.runconfig` (the YAML config), :mod:`~acecoder.pipeline.stage` and
:mod:`~acecoder.pipeline.stages` (the adapters and their registry) and :mod:`~acecoder.pipeline.runner`. The
plumbing the stages share lives below them: checkpoints, locks and settings in :mod:`acecoder.data`, the run
directory's format in :mod:`acecoder.rundir`."""
