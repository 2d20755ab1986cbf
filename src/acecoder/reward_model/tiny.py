"""Tiny random-weight Qwen2 chat models built locally (no Hub): for offline demos (``model: tiny`` in a run's
``train-rm`` stage) and tests. A tokenizer is trained on a small corpus (by default a built-in one of code and
the project's prompts), so everything stays on this machine; such a model learns only weak signals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_TEXTS = [
    "Please provide a self-contained Python script that solves the following problem in a markdown code block:",
    "Below is a Python script with a self-contained function that solves the problem and passes "
    "corresponding tests:",
    "```python\ndef add(a, b):\n    return a + b\n```\nassert add(1, 2) == 3\nassert add(-1, 1) == 0\n",
    "def is_prime(n: int) -> bool:\n    if n < 2:\n        return False\n    for k in range(2, int(n ** 0.5) + 1):"
    "\n        if n % k == 0:\n            return False\n    return True\n",
    '{"question": "Write a function.", "tests": ["assert f([]) == []", "assert f([1]) == [1]"]}',
    "class Stack:\n    def __init__(self):\n        self.items = []\n    def push(self, x):\n        self.items.append(x)",
    "The quick brown fox jumps over the lazy dog. 0123456789 !@#$%^&*()_+-=[]{};':\",./<>?|\\`~",
    "You are a helpful assistant. user assistant system",
]


def build_tiny_chat_model(
    out_dir: str | Path,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    head_dim: int = 16,
    vocab_size: int = 512,
    sequence_classification: bool = False,
    initializer_range: float = 0.2,
    seed: int = 0,
    texts: Sequence[str] | None = None,
) -> Path:
    """Save a tokenizer (trained on a small code corpus, with ``<|im_start|>``/``<|im_end|>`` and a ChatML
    template) and a random qwen2 model to ``out_dir``. ``<|im_end|>`` is the EOS. With
    ``sequence_classification`` the model is a ``Qwen2ForSequenceClassification`` with one label (a reward
    model). vLLM needs ``head_dim=64``. The weights are wider than the usual 0.02 init so greedy outputs depend
    on the prompt instead of repeating one token. ``texts``: the tokenizer's training corpus (default: a small
    built-in one)."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2ForSequenceClassification, Qwen2Tokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = Qwen2Tokenizer().train_new_from_iterator(
        list(texts) if texts is not None else _TEXTS * 20,
        vocab_size=vocab_size,
        new_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.eos_token = "<|im_end|>"
    tok.pad_token = "<|endoftext|>"
    tok.save_pretrained(out)
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        head_dim=head_dim,
        max_position_embeddings=2048,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
        num_labels=1,
        initializer_range=initializer_range,
    )
    torch.manual_seed(seed)
    model = (Qwen2ForSequenceClassification if sequence_classification else Qwen2ForCausalLM)(config)
    if not sequence_classification:
        model.generation_config.eos_token_id = tok.eos_token_id
        model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out)
    return out
