"""Model/tokenizer loading with clear errors, smoke-mode tiny models, optional LoRA."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from transformers.utils import logging

logger = logging.get_logger(__name__)

# smoke mode: the tiny model family standing in for each real model family
SMOKE_FAMILIES = {"gpt_neox": "gpt_neox", "pythia": "gpt_neox", "phi": "phi", "opt": "opt"}


class ModelNotAvailableError(OSError):
    """A model or tokenizer is neither cached locally nor downloadable."""


def _guidance(name: str, role: str, err: Exception) -> str:
    import huggingface_hub.constants

    offline = bool(huggingface_hub.constants.HF_HUB_OFFLINE) or os.environ.get(
        "HF_HUB_OFFLINE", ""
    ).lower() in ("1", "true", "yes", "on")
    where = (
        "it is not in the local Hugging Face cache and HF_HUB_OFFLINE=1 forbids downloading it"
        if offline
        else "it could not be found locally nor downloaded from the Hub"
    )
    if name.startswith(("/", ".", "~")) or os.sep in name and Path(name).exists():
        return (
            f"Could not load the {role} model from the local path {name!r}: it is not a model "
            "directory saved with save_pretrained (config.json + weights + tokenizer files). "
            f"Pass another path with `--{role}_model`, or run with `--smoke`.\n"
            f"Original error: {type(err).__name__}: {err}"
        )
    gated = " (gated: accept its licence on the Hub and `huggingface-cli login` first)"
    return (
        f"Could not load the {role} model {name!r}: {where}.\n"
        f"  - download it on a machine with network access: `huggingface-cli download {name}`"
        f"{gated if 'llama' in name.lower() else ''} and copy the cache (HF_HOME) here, or\n"
        f"  - pass a local directory with the weights: `--{role}_model /path/to/model`, or\n"
        "  - run the recipe with `--smoke` (tiny local models, no download).\n"
        f"Original error: {type(err).__name__}: {err}"
    )


def torch_dtype(name: str):
    """``"auto"``, ``"float32"``, ``"bfloat16"``, ``"float16"`` → a dtype argument."""
    import torch

    return "auto" if name == "auto" else getattr(torch, name)


def load_tokenizer(name_or_path: str, role: str = "proxy", padding_side: str = "right"):
    """``AutoTokenizer.from_pretrained`` with guidance on failure; adds a pad token if missing."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as err:
        raise ModelNotAvailableError(_guidance(name_or_path, role, err)) from err
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = padding_side
    return tok


def load_causal_lm(name_or_path: str, role: str = "proxy", dtype: str = "auto"):
    """``AutoModelForCausalLM.from_pretrained`` with guidance on failure (``role`` names the flag)."""
    from transformers import AutoModelForCausalLM

    try:
        import transformers

        key = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        return AutoModelForCausalLM.from_pretrained(name_or_path, **{key: torch_dtype(dtype)})
    except (OSError, ValueError) as err:
        raise ModelNotAvailableError(_guidance(name_or_path, role, err)) from err


def smoke_family(real_name: str) -> str:
    """The tiny architecture family standing in for a real model id in smoke mode."""
    low = real_name.lower()
    if "pythia" in low or "neox" in low:
        return "gpt_neox"
    if "phi" in low:
        return "phi"
    if "opt" in low:
        return "opt"
    if "llama" in low:
        return "opt"  # no tiny Llama builder in hf_s2l.experiments.tiny: a decoder-only stand-in
    raise ValueError(f"no smoke stand-in for {real_name!r}; use a Pythia, Phi, OPT or Llama id")


def build_smoke_model(
    real_name: str,
    texts: list[str],
    save_dir: str | os.PathLike,
    *,
    vocab_size: int = 512,
    hidden_size: int = 64,
    num_layers: int = 2,
    seed: int = 0,
) -> str:
    """Train a tokenizer on ``texts`` and save a tiny model of ``real_name``'s family.

    Returns the directory; the recipe then loads it with the real ``from_pretrained`` path.
    Idempotent: an existing directory with a config is reused.
    """
    from hf_s2l.experiments.tiny import save_tiny, tiny_model, train_tokenizer

    save_dir = Path(save_dir)
    if (save_dir / "config.json").is_file():
        return str(save_dir)
    tok = train_tokenizer(texts, vocab_size=vocab_size, model_max_length=2048)
    model = tiny_model(
        family=smoke_family(real_name),
        vocab_size=len(tok),
        hidden_size=hidden_size,
        num_layers=num_layers,
        max_position_embeddings=2048,
        seed=seed,
    )
    save_tiny(model, tok, save_dir)
    logger.info(
        "smoke: tiny %s stand-in for %s saved to %s", smoke_family(real_name), real_name, save_dir
    )
    return str(save_dir)


def build_smoke_bertscore_model(texts: list[str], save_dir: str | os.PathLike) -> str:
    """A tiny BERT + local tokenizer for BERTScore in smoke mode (stand-in for roberta-large)."""
    from hf_s2l.experiments.tiny import tiny_bert_encoder

    return tiny_bert_encoder(texts, save_dir, vocab_size=384)


def maybe_lora(model: Any, use_lora: bool, r: int, alpha: int, dropout: float, targets: list[str]):
    """Wrap ``model`` with a peft LoRA adapter when ``use_lora`` (else return it unchanged)."""
    if not use_lora:
        return model
    from peft import LoraConfig, get_peft_model

    target = targets[0] if len(targets) == 1 and targets[0] == "all-linear" else list(targets)
    cfg = LoraConfig(
        r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=target, task_type="CAUSAL_LM"
    )
    model = get_peft_model(model, cfg)
    trainable, total = model.get_nb_trainable_parameters()
    logger.info("LoRA: %d of %d parameters trainable", trainable, total)
    return model
