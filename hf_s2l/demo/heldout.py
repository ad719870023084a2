"""Old import path of the held-out answer-token loss: the code lives in :mod:`hf_s2l.experiments.heldout`."""

from hf_s2l.experiments.heldout import (
    answer_token_loss,
)

__all__ = [
    "answer_token_loss",
]
