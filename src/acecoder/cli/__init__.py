"""The ``acecoder`` command line: each verb is a thin wrapper over a function users can import."""

from __future__ import annotations

import importlib
import sys

from acecoder.cli.base import app as _app

# Verb -> the module that registers it on ``app`` when imported.
COMMANDS = {
    "import-tests": "import_tests",
    "synthesize": "synthesize",
    "filter-tests": "filter_tests",
    "augment-tests": "augment_tests",
    "sample": "sample",
    "execute": "execute",
    "pairs": "pairs",
    "hard": "hard",
    "stats": "stats",
    "train-rm": "train_rm",
    "score": "score",
    "evaluate": "evaluate",
    "run": "run",
    "status": "run",
    "report": "report",
    "push": "push",
    "serve-reward": "serve_reward",
    "train-rl": "train_rl",
}

# The order ``acecoder --help`` lists verbs in: the pipeline's. Verbs not named here come after, as registered.
PIPELINE_ORDER = (
    "synthesize",
    "filter-tests",
    "augment-tests",
    "sample",
    "execute",
    "pairs",
    "hard",
    "stats",
    "train-rm",
    "score",
    "evaluate",
    "serve-reward",
    "train-rl",
    "run",
    "status",
    "report",
    "import-tests",
    "push",
)


def _order(verb: str) -> int:
    return PIPELINE_ORDER.index(verb) if verb in PIPELINE_ORDER else len(PIPELINE_ORDER)


def register(verbs: list[str] | None = None) -> None:
    """Import the modules of the given verbs (all when None), in pipeline order."""
    for verb in sorted(COMMANDS if verbs is None else verbs, key=_order):
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


__all__ = ["COMMANDS", "PIPELINE_ORDER", "app", "main", "register"]
