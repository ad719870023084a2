"""Adapters for the training stacks in-step and probe recording meet (issue 18).

* :func:`fused_token_losses`: TRL's fused LM head (``SFTTrainer``) returns per-token
  ``log_probs`` and a ``label_mask`` (already shifted) and no logits.
* :class:`LabelTap`: label smoothing, ``compute_loss_func`` and ``compute_loss`` overrides
  take the labels out of the inputs before the model sees them; the tap wraps the Trainer's
  ``compute_loss`` to keep a reference to them.
* :func:`virtual_tokens`: PEFT prompt learning (prompt tuning, P-tuning) prepends virtual
  tokens whose logits come before the example's; labels are aligned by left-padding.
* :func:`check_rows_are_examples`: packed / wrapped training rows (TRL ``packing=True``)
  are not examples; recording them would store the wrong unit.
* :func:`combine_keys`: encoder-decoder rows are keyed by encoder input *and* labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch


class InStepError(RuntimeError):
    """In-step recording cannot read per-example losses in this training setup."""


def fused_token_losses(output: Any) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(token nll, valid)`` as ``B x L'`` from TRL's fused-head output, else ``None``.

    TRL's ``FusedCausalLMOutput`` holds ``log_probs`` (log-probability of each next-token
    label, zero where ignored) and ``label_mask``, both ``B x (L - 1)``: position ``t``
    scores label ``t + 1``, exactly the shifted cross-entropy of the model's own loss.
    """
    logp = getattr(output, "log_probs", None)
    mask = getattr(output, "label_mask", None)
    if not (torch.is_tensor(logp) and torch.is_tensor(mask)) or logp.shape != mask.shape:
        return None
    if logp.dim() != 2:
        return None
    valid = mask.bool()
    nll = torch.where(valid, -logp.detach().float(), torch.zeros((), device=logp.device))
    return nll, valid


def virtual_tokens(model: Any) -> int:
    """Number of virtual tokens a PEFT prompt-learning model prepends to its logits (else 0)."""
    configs = getattr(model, "peft_config", None)
    name = getattr(model, "active_adapter", None)
    if not isinstance(configs, Mapping) or not isinstance(name, str) or name not in configs:
        return 0
    cfg = configs[name]
    if not getattr(cfg, "is_prompt_learning", False):
        return 0
    if str(getattr(cfg, "peft_type", "")).upper().endswith("PREFIX_TUNING"):
        return 0  # prefix tuning extends the keys/values, not the sequence
    return int(getattr(cfg, "num_virtual_tokens", 0) or 0)


class LabelTap:
    """Keep the labels of the micro-batch in flight, even when the model never gets them."""

    def __init__(self) -> None:
        self.labels: torch.Tensor | None = None
        self.trainer: Any = None
        self.check: Any = None
        self._restore: Any = None

    def after_first(self, check: Any) -> None:
        """Call ``check(loss, num_items_in_batch)`` with the loss the Trainer's
        ``compute_loss`` returns for the batch in flight (once)."""
        self.check = check if self.trainer is not None else None

    def install(self, trainer: Any) -> None:
        """Wrap ``trainer.compute_loss`` (instance attribute) to see each batch's labels."""
        if trainer is None or not callable(getattr(trainer, "compute_loss", None)):
            return
        own = vars(trainer).get("compute_loss")
        # A wrapper left by an earlier run that ended in an exception is replaced, not nested.
        original = getattr(own, "_hf_s2l_original", None) or trainer.compute_loss
        tap = self

        def compute_loss(model, inputs, *args, **kwargs):
            labels = inputs.get("labels") if isinstance(inputs, Mapping) else None
            tap.labels = labels if torch.is_tensor(labels) else None
            try:
                result = original(model, inputs, *args, **kwargs)
            finally:
                tap.labels = None
            check, tap.check = tap.check, None
            if check is not None:  # the first batch: the loss the Trainer trains on
                loss = result[0] if isinstance(result, (tuple, list)) else result
                check(loss, kwargs.get("num_items_in_batch"))
            return result

        compute_loss._hf_s2l_original = original  # type: ignore[attr-defined]
        bound = getattr(original, "__self__", None) is trainer  # the class's own method
        self._restore = None if own is None or bound else original
        trainer.compute_loss = compute_loss
        self.trainer = trainer

    def remove(self) -> None:
        """Put the Trainer's own ``compute_loss`` back."""
        if self.trainer is not None:
            if self._restore is not None:
                self.trainer.compute_loss = self._restore
            else:
                vars(self.trainer).pop("compute_loss", None)
            self.trainer = None
        self.labels = None
        self.check = None

    def get(self, batch_size: int) -> torch.Tensor | None:
        lab = self.labels
        if lab is None or lab.dim() != 2 or lab.shape[0] != batch_size:
            return None
        return lab


def check_rows_are_examples(args: Any, collate_fn: Any, mode: str) -> None:
    """Refuse training rows that are not examples (TRL ``packing=True``, any strategy)."""
    if getattr(args, "packing", False):
        strategy = getattr(args, "packing_strategy", None)
        raise ValueError(
            f"{type(args).__name__}(packing=True, packing_strategy={strategy!r}) trains on packed "
            "rows that concatenate (or cut) several examples, so a row is not an example and a "
            f"{mode} recording would store the wrong unit. Record the proxy run with packing=False "
            "(padding_free=True keeps one example per segment and works in mode='in_step')"
        )


def combine_keys(
    a: tuple[np.ndarray, np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One key from two (e.g. encoder input and labels); the length stays ``a``'s."""
    m1, m2 = np.uint64(0x94D049BB133111EB), np.uint64(0xBF58476D1CE4E5B9)
    with np.errstate(over="ignore"):
        h1 = a[0] * m1 + (b[0] ^ (b[2].astype(np.uint64) * m2))
        h2 = a[1] * m2 + (b[1] ^ (b[2].astype(np.uint64) * m1))
    return h1, h2, a[2]
