"""Training inside ``acecoder run``: one progress bar on the terminal, everything else (the trainer's metric
dicts, library warnings, loading and filtering bars) in the stage's log file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import IO, Any


def progress_callback(stream: IO[str], name: str) -> Any:
    """A ``transformers.TrainerCallback`` drawing one bar (steps, loss, held-out accuracy) on ``stream``."""
    from tqdm import tqdm
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        bar: Any = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=name, unit="step",
                            file=stream, dynamic_ncols=True, mininterval=0.5, disable=None)  # fmt: skip

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.bar is not None and logs:
                shown = {"loss": logs.get("loss"), "held-out acc": logs.get("eval_accuracy")}
                self.bar.set_postfix({k: f"{v:.3f}" for k, v in shown.items() if isinstance(v, (int, float))})

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return Progress()


@contextmanager
def training_output(log_file: Path, name: str) -> Iterator[Any]:
    """While training: everything written to stdout and stderr (also by native code, e.g. the tokenizer
    trainer) and the Hugging Face libraries' logs go to ``log_file``; yields the progress callback to give the
    trainer, which draws on the terminal's stderr."""
    import logging

    import datasets
    import transformers.utils.logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled(), not datasets.are_progress_bars_disabled()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    with open(log_file, "a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        handler = logging.StreamHandler(log)
        hf_logging.disable_default_handler()
        hf_logging.add_handler(handler)
        hf_logging.disable_progress_bar()
        datasets.disable_progress_bars()
        callback = progress_callback(terminal, name)
        try:
            with redirect_stdout(log), redirect_stderr(log):
                yield callback
        finally:
            callback.on_train_end(None, None, None)
            for stream in (sys.stdout, sys.stderr, log):
                stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()
            hf_logging.remove_handler(handler)
            hf_logging.enable_default_handler()
            if bars[0]:
                hf_logging.enable_progress_bar()
            if bars[1]:
                datasets.enable_progress_bars()
