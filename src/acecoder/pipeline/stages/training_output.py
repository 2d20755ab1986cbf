"""Training inside ``acecoder run``: one progress bar on the terminal, everything else (the trainer's metric
dicts, library warnings, loading and filtering bars) in the stage's log file."""

from __future__ import annotations

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
    """While training: stdout, stderr and the Hugging Face libraries' logs go to ``log_file``; yields the
    progress callback to give the trainer (it draws on the real stderr)."""
    import logging

    import datasets
    import transformers.utils.logging as hf_logging

    terminal = sys.stderr
    bars = hf_logging.is_progress_bar_enabled(), not datasets.are_progress_bars_disabled()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", encoding="utf-8") as log, redirect_stdout(log), redirect_stderr(log):
        handler = logging.StreamHandler(log)
        hf_logging.disable_default_handler()
        hf_logging.add_handler(handler)
        hf_logging.disable_progress_bar()
        datasets.disable_progress_bars()
        callback = progress_callback(terminal, name)
        try:
            yield callback
        finally:
            callback.on_train_end(None, None, None)
            hf_logging.remove_handler(handler)
            hf_logging.enable_default_handler()
            if bars[0]:
                hf_logging.enable_progress_bar()
            if bars[1]:
                datasets.enable_progress_bars()
