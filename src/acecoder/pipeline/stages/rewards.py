"""``rewards`` in a run: :class:`acecoder.reward.TestCaseReward`, the reward RL trainers call, on the rows of the
``hard`` subset (the paper's RL data), through the run's executor: each inference gets its ``reward``.

It shows, on the run's own data, what an RL trainer would receive for each completion, and its summary
(``summary.json``: mode, mean reward, how many samples got each reward, infrastructure errors) goes to the
report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acecoder.data.io import write_json
from acecoder.pipeline.stage import Stage, StageContext


class Rewards(Stage):
    name = "rewards"
    help = "RL test-case rewards (binary or pass rate) for every completion of the hard subset"
    reads = "hard"

    def defaults(self, config: Any) -> dict[str, Any]:
        from acecoder.execution.limits import SAMPLED

        return {"mode": "binary", "timeout": SAMPLED.test, "program_timeout": SAMPLED.program}

    def check(self, ctx: StageContext) -> None:
        from acecoder.execution.limits import SAMPLED
        from acecoder.reward.scoring import check_mode

        self.mode = check_mode(ctx.settings["mode"])
        s = ctx.settings
        self.limits = SAMPLED.limits(timeout=s["timeout"], program_timeout=s["program_timeout"])

    def open(self, ctx: StageContext) -> None:
        from acecoder.reward import TestCaseReward

        self.reward = ctx.enter(TestCaseReward(self.mode, self.limits, engine=ctx.executor(self.limits)))

    def run_shard(self, ctx: StageContext, source: Path, output: Path) -> dict[str, Any]:
        from acecoder.data import RowWriter, iter_rows

        totals = {"rows": 0, "samples": 0, "rewarded": 0, "reward_sum": 0.0, "excluded": 0}
        with RowWriter(output) as writer:
            for _, row in iter_rows(source):
                inferences = row.get("inferences") or []
                tests = row.get("test_cases") or []
                completions = [inference.get("completion") or "" for inference in inferences]
                rewards = (
                    self.reward(completions=completions, test_cases=[tests] * len(inferences))
                    if tests
                    else []
                )
                for inference, reward in zip(inferences, rewards, strict=False):
                    inference["reward"] = reward
                    totals["samples"] += 1
                    totals["excluded" if reward is None else "rewarded"] += 1
                    totals["reward_sum"] += reward or 0.0
                writer.write(row)
                totals["rows"] += 1
        self._write_summary(ctx, totals)
        return {"rows_in": totals["rows"], "rows_out": totals["rows"], "summary": totals}

    def _write_summary(self, ctx: StageContext, latest: dict[str, Any]) -> None:
        """summary.json over every finished shard (their markers keep their counts, so a resumed run adds up)."""
        totals = dict(latest)
        for marker in ctx.dir.path.glob("shard-*.done"):
            for key, value in json.loads(marker.read_text()).get("summary", {}).items():
                totals[key] = totals.get(key, 0) + value
        mean = totals["reward_sum"] / totals["rewarded"] if totals["rewarded"] else None
        summary = {"mode": self.mode, "mean_reward": mean, **totals}
        write_json(ctx.dir.path / "summary.json", summary)
