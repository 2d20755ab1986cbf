"""The ``acecoder`` command line: each verb is a thin wrapper over a function users can import."""

from __future__ import annotations

import importlib
import sys

from acecoder.cli.base import app as _app

# Verb -> the module that registers it on ``app`` when imported.
COMMANDS = {
    "execute": "execute",
    "synthesize": "synthesize",
    "filter-tests": "filter_tests",
    "stats": "stats",
    "sample": "sample",
    "pairs": "pairs",
    "hard": "hard",
    "train-rm": "train_rm",
    "score": "score",
}


def register(verbs: list[str] | None = None) -> None:
    """Import the modules of the given verbs (all when None)."""
    for verb in COMMANDS if verbs is None else verbs:
        importlib.import_module(f"acecoder.cli.{COMMANDS[verb]}")


def main() -> None:
    # Running one verb imports only that verb's module: `acecoder execute` starts without the LLM stack.
    verb = sys.argv[1] if len(sys.argv) > 1 else None
    register([verb] if verb in COMMANDS else None)
    _app()


def __getattr__(name: str):
    if name == "app":  # the Typer app with every verb, for embedding and for CliRunner
        register()
        return _app
    raise AttributeError(name)


__all__ = ["COMMANDS", "app", "main", "register"]
