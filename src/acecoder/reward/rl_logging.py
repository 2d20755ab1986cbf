"""Per-step training logs of ``acecoder train-rl``: JSON lines and TensorBoard event files in the run folder."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


class JsonlLogCallback(TrainerCallback):
    """Appends every log (rewards, pass rates, timeouts, KL, loss, ...) as one JSON line with its step.

    On a resumed run, lines of steps after the checkpoint are dropped first, so the file holds one history."""

    def __init__(self, path: str | Path, *, resume_step: int | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is not None and self.path.exists():
            kept = [line for line in self.path.read_text().splitlines() if _step(line) <= resume_step]
            from acecoder.data.io import write_atomic

            write_atomic(self.path, "".join(line + "\n" for line in kept))
        elif resume_step is None and self.path.exists():
            self.path.unlink()
        self.started = time.time()

    def on_log(self, args, state, control, logs: dict[str, Any] | None = None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        record = {
            "step": state.global_step,
            "epoch": state.epoch,
            "time_s": round(time.time() - self.started, 3),
        }
        record.update({k: _plain(v) for k, v in logs.items()})
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")


def tensorboard_callback(log_dir: str | Path):
    """transformers' TensorBoard callback writing to ``log_dir`` (tensorboardX or tensorboard)."""
    from transformers.integrations import TensorBoardCallback

    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            return None
    return TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(log_dir)))


def _step(line: str) -> int:
    try:
        return int(json.loads(line).get("step", 0))
    except (ValueError, AttributeError):
        return 0


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value
