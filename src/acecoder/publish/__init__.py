"""Publishing a pipeline stage's dataset to the Hugging Face Hub with a generated dataset card."""

from acecoder.publish.card import CardError, dataset_card
from acecoder.publish.push import PushResult, push_stage

__all__ = ["CardError", "PushResult", "dataset_card", "push_stage"]
