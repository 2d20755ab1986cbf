"""OpenRLHF's protocol: the answer inside its query (the decoded prompt + response with special tokens kept) and
the reply it reads.

OpenRLHF sends ``query`` (prompt and response decoded together, special tokens kept) and ``prompt`` (the prompt
text it tokenized). The response is what follows the prompt; when a decode round trip changed the prompt's text
(a BOS token added, spaces merged), it is what follows the last assistant header of the chat template. Trailing
end-of-turn and padding tokens are removed.
"""

from __future__ import annotations

import re

from acecoder.reward.scoring import BatchStats

# Assistant-turn headers of common chat templates (ChatML/Qwen, Llama 3, Phi/Zephyr, Gemma, Mistral).
ASSISTANT_HEADERS = (
    "<|im_start|>assistant\n",
    "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "<|start_header_id|>assistant<|end_header_id|>",
    "<|assistant|>\n",
    "<|assistant|>",
    "<start_of_turn>model\n",
    "[/INST]",
)
# End-of-turn, end-of-text and padding tokens a decoded response may end with.
_TRAILING_SPECIAL = re.compile(
    r"(?:\s*(?:<\|im_end\|>|<\|endoftext\|>|<\|eot_id\|>|<\|end_of_text\|>|<\|end\|>|<end_of_turn>|<eos>|</s>|"
    r"<pad>|<\|pad\|>|<\|fim_pad\|>))+\s*\Z"
)


def response_from_query(query: str, prompt: str | None) -> str:
    """The model's response in ``query`` (see the module docstring)."""
    if prompt:
        if query.startswith(prompt):
            return strip_trailing_special(query[len(prompt) :])
        at = query.find(prompt)
        if at >= 0:
            return strip_trailing_special(query[at + len(prompt) :])
    cut = max((query.rfind(h) + len(h) for h in ASSISTANT_HEADERS if h in query), default=-1)
    if cut >= 0:
        return strip_trailing_special(query[cut:])
    return strip_trailing_special(query)


def strip_trailing_special(text: str) -> str:
    return _TRAILING_SPECIAL.sub("", text)


def openrlhf_reply(stats: BatchStats) -> dict:
    """OpenRLHF's reply fields as plain lists: ``rewards``, ``scores`` (0..1) and ``extra_logs`` (per sample:
    ``pass_rate``, ``timeout``, ``infra_error``)."""
    return {
        "rewards": list(stats.rewards),
        "scores": list(stats.rewards),
        "extra_logs": {
            "pass_rate": [float(p or 0.0) for p in stats.pass_rates],
            "timeout": [float(t) for t in stats.timed_out],
            "infra_error": [float(f) for f in stats.failed],
        },
    }
