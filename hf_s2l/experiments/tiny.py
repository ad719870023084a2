"""Tiny models and tokenizers built from scratch, offline.

Used by ``hf-s2l demo``, the recipes' ``--smoke`` mode, the benchmarks and the tests: the
same architecture families as the real models (GPT-NeoX = Pythia, Phi = Phi-2, OPT,
T5), a few layers wide, and a byte-level BPE tokenizer trained on the spot with the
``tokenizers`` library. Nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..compat import gpt_neox_rotary_pct

PAD, EOS, UNK = "<|pad|>", "<|endoftext|>", "<|unk|>"


def train_tokenizer(
    texts: Iterable[str],
    vocab_size: int = 512,
    save_dir: str | os.PathLike | None = None,
    model_max_length: int = 512,
):
    """Train a byte-level BPE tokenizer on ``texts``; returns a ``PreTrainedTokenizerFast``.

    It has ``eos``/``pad``/``unk`` tokens; with ``save_dir`` it is saved there with
    ``save_pretrained`` (so ``AutoTokenizer.from_pretrained(save_dir)`` loads it).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, UNK],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        eos_token=EOS,
        bos_token=EOS,
        unk_token=UNK,
        model_max_length=model_max_length,
    )
    if save_dir is not None:
        fast.save_pretrained(save_dir)
    return fast


@dataclass
class TinyModelConfig:
    """Size of a tiny model; ``family`` is ``gpt_neox`` | ``phi`` | ``opt`` | ``t5``."""

    family: str = "gpt_neox"
    vocab_size: int = 512
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    intermediate_size: int | None = None
    max_position_embeddings: int = 512
    seed: int = 0


def tiny_model(config: TinyModelConfig | None = None, **overrides):
    """Build a randomly initialised tiny model of a real architecture family (offline).

    ``tiny_model(family="phi", vocab_size=tok.vocab_size)`` → a ``PhiForCausalLM``.
    T5 gives a ``T5ForConditionalGeneration``; the others a causal LM.
    """
    import torch
    import transformers as tf

    cfg = config or TinyModelConfig()
    for k, v in overrides.items():
        if not hasattr(cfg, k):
            raise TypeError(f"unknown tiny model option {k!r}")
        setattr(cfg, k, v)
    inter = cfg.intermediate_size or 4 * cfg.hidden_size
    common = dict(vocab_size=cfg.vocab_size, pad_token_id=0, eos_token_id=1, bos_token_id=1)
    if cfg.family == "gpt_neox":
        hf_cfg = tf.GPTNeoXConfig(
            hidden_size=cfg.hidden_size,
            num_hidden_layers=cfg.num_layers,
            num_attention_heads=cfg.num_heads,
            intermediate_size=inter,
            max_position_embeddings=cfg.max_position_embeddings,
            rotary_pct=gpt_neox_rotary_pct(cfg.hidden_size // cfg.num_heads),
            tie_word_embeddings=False,
            **common,
        )
        cls = tf.GPTNeoXForCausalLM
    elif cfg.family == "phi":
        hf_cfg = tf.PhiConfig(
            hidden_size=cfg.hidden_size,
            num_hidden_layers=cfg.num_layers,
            num_attention_heads=cfg.num_heads,
            intermediate_size=inter,
            max_position_embeddings=cfg.max_position_embeddings,
            **common,
        )
        cls = tf.PhiForCausalLM
    elif cfg.family == "opt":
        hf_cfg = tf.OPTConfig(
            hidden_size=cfg.hidden_size,
            word_embed_proj_dim=cfg.hidden_size,
            num_hidden_layers=cfg.num_layers,
            num_attention_heads=cfg.num_heads,
            ffn_dim=inter,
            max_position_embeddings=cfg.max_position_embeddings,
            **common,
        )
        cls = tf.OPTForCausalLM
    elif cfg.family == "t5":
        hf_cfg = tf.T5Config(
            d_model=cfg.hidden_size,
            d_kv=cfg.hidden_size // cfg.num_heads,
            d_ff=inter,
            num_layers=cfg.num_layers,
            num_decoder_layers=cfg.num_layers,
            num_heads=cfg.num_heads,
            decoder_start_token_id=0,
            **common,
        )
        cls = tf.T5ForConditionalGeneration
    else:
        raise ValueError(f"unknown family {cfg.family!r}; use gpt_neox, phi, opt or t5")
    torch.manual_seed(cfg.seed)
    return cls(hf_cfg)


def save_tiny(model, tokenizer, directory: str | os.PathLike) -> Path:
    """``save_pretrained`` model and tokenizer into one directory (loadable by name)."""
    d = Path(directory)
    model.save_pretrained(d)
    tokenizer.save_pretrained(d)
    return d


def tiny_bert_encoder(
    texts: Iterable[str], save_dir: str | os.PathLike, vocab_size: int = 384, seed: int = 0
) -> str:
    """A tiny randomly initialised BERT encoder + BPE tokenizer saved to ``save_dir``.

    An offline stand-in for BERTScore's scoring model (roberta-large) in smoke runs and
    tests; returns the directory (reused if it already holds a model).
    """
    import torch
    from transformers import BertConfig, BertModel

    save_dir = Path(save_dir)
    if (save_dir / "config.json").is_file():
        return str(save_dir)
    tok = train_tokenizer(texts, vocab_size=vocab_size, save_dir=save_dir)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        pad_token_id=tok.pad_token_id,
    )
    BertModel(cfg).save_pretrained(save_dir)
    return str(save_dir)
