"""``RewardModel``: score programs for a question with a trained reward model, in length-bucketed batches."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from typing import Any

from acecoder.reward_model.loading import METADATA_FILE, load_reward_model, read_metadata
from acecoder.reward_model.render import Renderer
from acecoder.sampling.prompt import PRESETS, PromptTemplate, get_prompt_template

Item = tuple[str, str] | tuple[str, str, Sequence[str] | None]


class RewardModel:
    """A reward model folder ready to score: ours (``acecoder train-rm``, any TRL reward model) or AceCodeRM.

    ``RewardModel(path).score(question, programs)`` returns one float per program (higher is better). The
    question is rendered with the model's prompt template (recorded at training; AceCodeRM folders use the
    AceCodePair prompt they were trained on, other folders the sampling prompt) together with ``tests`` when
    given, exactly as training rendered its pairs. Programs are code: pass model answers through
    :func:`acecoder.execution.extract_program` first.

    ``batch_size``: sequences per forward pass; ``max_length``: longer inputs are cut to this many tokens
    (default: the training ``max_length``) and counted in ``truncated``; ``bucketing``: batch sequences of similar
    length together (much less padding), results are returned in input order either way; ``padding_side``:
    where padding goes (scores do not depend on it).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        device: str | None = None,
        batch_size: int = 8,
        max_length: int | None = None,
        *,
        template: PromptTemplate | str | None = None,
        dtype: Any = None,
        bucketing: bool = True,
        padding_side: str = "right",
    ):
        import torch
        from transformers import AutoTokenizer

        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if padding_side not in ("left", "right"):
            raise ValueError("padding_side must be 'left' or 'right'")
        try:
            self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        except RuntimeError as e:
            raise ValueError(f"device {device!r}: {e}") from None
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: no CUDA GPU is available")
        if dtype is None and self.device.type == "cuda" and torch.cuda.is_bf16_supported():
            dtype = torch.bfloat16
        loaded = load_reward_model(path, dtype=dtype)
        self.path, self.layout = loaded.path, loaded.layout
        self.backbone = loaded.backbone.to(self.device)
        self.head = loaded.head.to(self.device)
        self.metadata = read_metadata(self.path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.template = self._template(template)
        self.renderer = Renderer(self.tokenizer, self.template)
        self.batch_size = batch_size
        self.max_length = max_length or self.metadata.get("max_length") or self._position_limit()
        self.bucketing = bucketing
        self.padding_side = padding_side
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (self.tokenizer.eos_token_id or 0)
        self.truncated = 0  # inputs cut to max_length so far

    def _template(self, template: PromptTemplate | str | None) -> PromptTemplate:
        if isinstance(template, PromptTemplate):
            return template
        if template is not None:
            return get_prompt_template(template)
        recorded = self.metadata.get("template")
        if recorded is not None:
            try:
                return dataclasses.replace(PromptTemplate(), **recorded)
            except (TypeError, ValueError) as e:
                raise ValueError(f"{self.path / METADATA_FILE}: bad 'template' ({e})") from None
        return PRESETS["acecodepair" if self.layout == "acecoderm" else "sampling"]

    def _position_limit(self) -> int:
        config = self.backbone.config
        return int(getattr(config, "max_position_embeddings", None) or 2048)

    # ---- public API -------------------------------------------------------------------------------------------

    def score(
        self, question: str, programs: Sequence[str], tests: Sequence[str] | None = None
    ) -> list[float]:
        """One reward per program for ``question`` (with ``tests`` shown as the prompt template shows them)."""
        user = self.renderer.user_message(question, tests)
        return self.score_prompted([(user, program) for program in programs])

    def score_pairs(self, items: Sequence[Item]) -> list[float]:
        """One reward per ``(question, program)`` or ``(question, program, tests)`` item, batched across items."""
        prompted = []
        for item in items:
            question, program, *rest = item
            prompted.append((self.renderer.user_message(question, rest[0] if rest else None), program))
        return self.score_prompted(prompted)

    def score_prompted(
        self, items: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None
    ) -> list[float]:
        """One reward per ``(rendered user message, program)`` item."""
        return self.score_ids(self.renderer.encode(items), progress=progress)

    def score_ids(
        self, ids: Sequence[Sequence[int]], progress: Callable[[int], None] | None = None
    ) -> list[float]:
        """Rewards of token-id sequences (rendered texts); ``progress(n)`` is called after each batch."""
        import torch

        sequences = []
        for seq in ids:
            if len(seq) > self.max_length:
                self.truncated += 1
                seq = seq[: self.max_length]
            sequences.append(list(seq))
        order = list(range(len(sequences)))
        if self.bucketing:  # longest first: an out-of-memory batch fails at once, not at the end
            order.sort(key=lambda i: len(sequences[i]), reverse=True)
        scores = [0.0] * len(sequences)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                values = self._forward([sequences[i] for i in batch])
                for i, value in zip(batch, values, strict=True):
                    scores[i] = value
                if progress is not None:
                    progress(len(batch))
        return scores

    # ---- the forward pass -------------------------------------------------------------------------------------

    def _forward(self, sequences: list[list[int]]) -> list[float]:
        """The head at each sequence's last attended token; positions count real tokens only, so left and
        right padding give the same rewards."""
        import torch

        width = max(len(s) for s in sequences)
        input_ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, seq in enumerate(sequences):
            span = slice(0, len(seq)) if self.padding_side == "right" else slice(width - len(seq), width)
            input_ids[row, span] = torch.tensor(seq, dtype=torch.long)
            mask[row, span] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        last = (torch.arange(width) * mask).argmax(-1)
        input_ids, mask, positions = (t.to(self.device) for t in (input_ids, mask, positions))
        hidden = self.backbone(
            input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=False
        ).last_hidden_state
        picked = hidden[torch.arange(len(sequences), device=self.device), last.to(self.device)]
        return self.head(picked.to(self.head.weight.dtype)).squeeze(-1).float().tolist()
