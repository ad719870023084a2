"""Old import path of tiny models and tokenizers built offline: the code lives in :mod:`hf_s2l.experiments.tiny`."""

from hf_s2l.experiments.tiny import (
    TinyModelConfig,
    save_tiny,
    tiny_bert_encoder,
    tiny_model,
    train_tokenizer,
)

__all__ = [
    "TinyModelConfig",
    "save_tiny",
    "tiny_bert_encoder",
    "tiny_model",
    "train_tokenizer",
]
