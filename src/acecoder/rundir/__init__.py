"""The run directory of ``acecoder run`` on disk: :mod:`~acecoder.rundir.store` (its layout: stage folders,
shards, markers) and :mod:`~acecoder.rundir.status` (what ``acecoder status`` reads from it). ``pipeline`` writes
it; ``report`` and ``publish`` read it."""
