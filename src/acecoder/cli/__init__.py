"""The ``acecoder`` command line: each verb is a thin wrapper over a function users can import."""

from __future__ import annotations

import importlib

from acecoder.cli.app import app

# One module per verb; each registers its command(s) on ``app`` when imported.
_COMMAND_MODULES = ("execute", "pairs", "hard", "synthesize", "filter_tests", "stats", "sample")

for _name in _COMMAND_MODULES:
    importlib.import_module(f"acecoder.cli.{_name}")


def main() -> None:
    app()


__all__ = ["app", "main"]
