"""acecoder: reinforcement learning for code models from automatically synthesized tests."""

__version__ = "0.1.0"
