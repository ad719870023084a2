"""What makes an in-step value a *training-mode* loss, detected at train begin (issue 25).

An in-step cell is the example's loss in the training forward that saw it. Three things make
that forward differ from the example's loss alone (``model(input_ids=x[None],
labels=y[None]).loss`` in eval mode):

* **dropout** > 0 (module ``nn.Dropout`` or a config ``*dropout*`` / ``*pdrop*`` value): the
  cell carries that step's dropout noise (GPT-2 / OPT defaults: ~4e-3 relative; T5 defaults:
  ~1e-1);
* **NEFTune** (``neftune_noise_alpha``): noise added to the input embeddings in training
  (alpha 5: ~1e-2 to 3e-2);
* **left padding with absolute learned positions** (GPT-2 ``wpe``, BERT
  ``position_embeddings``): a left-padded row sees shifted positions (up to ~1e-2 on those
  rows; rotary models such as Llama / Qwen2 are unaffected).

:func:`training_mode_caveats` lists them (cause, detail, size, alternative); the in-step
recorder warns once per cause and stores the list in the store's metadata
(``extra["training_mode"]``, read by :func:`hf_s2l.store.caveats.recording_caveats`), so
``hf-s2l info``, the selection's provenance and the report show it.
"""

from __future__ import annotations

import re
from typing import Any

import torch

from .probe import unwrap_collator, unwrap_model

_DROPOUT_KEY = re.compile(r"dropout|pdrop|layerdrop", re.I)
_POSITION_NAMES = ("wpe", "position_embeddings", "embed_positions")


def _dropout(model: Any, base: Any) -> tuple[list[str], list[str]]:
    """``(what is active, config keys to set to 0)``: ``nn.Dropout`` modules with ``p > 0`` and
    float ``*dropout*`` attributes of modules (functional dropout, e.g. OPT, T5 attention); a
    config value alone (GPT-NeoX's ``classifier_dropout`` without a classifier) is not."""
    active: dict[str, float] = {}
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout) and m.p > 0:
            active.setdefault("nn.Dropout p", float(m.p))
        for key, v in vars(m).items():
            if _DROPOUT_KEY.search(key) and isinstance(v, float) and v > 0:
                active.setdefault(key, v)
    if not active:
        return [], []
    config = getattr(base, "config", None)
    values = config.to_dict() if hasattr(config, "to_dict") else {}
    keys = [
        f"{k}={v:g}"
        for k, v in sorted(values.items())
        if _DROPOUT_KEY.search(k)
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        and v > 0
        and not k.startswith(("summary_", "classifier_"))
    ]
    return [f"{k}={v:g}" for k, v in sorted(active.items())], keys


def _padding_side(collate_fn: Any, processing_class: Any) -> str | None:
    for holder in (unwrap_collator(collate_fn), processing_class):
        tok = getattr(holder, "tokenizer", holder)
        side = getattr(tok, "padding_side", None)
        if isinstance(side, str):
            return side
    return None


def _absolute_positions(base: Any) -> list[str]:
    return [
        name
        for name, m in base.named_modules()
        if type(m) is torch.nn.Embedding and name.rsplit(".", 1)[-1] in _POSITION_NAMES
    ]


def training_mode_caveats(
    model: Any, args: Any, trainer: Any, collate_fn: Any, processing_class: Any = None
) -> list[dict[str, str]]:
    """The reasons this run's in-step values differ from the examples' losses alone."""
    base = unwrap_model(model)
    out: list[dict[str, str]] = []
    drop, keys = _dropout(model, base)
    if drop:
        named = ", ".join(keys) if keys else "the dropout attributes above"
        out.append(
            {
                "cause": "dropout",
                "detail": f"dropout is on in training ({', '.join(drop)})",
                "size": "1e-3 to 1e-1 relative per cell (GPT-2/OPT defaults ~4e-3, T5 ~1e-1)",
                "alternative": 'mode="probe" (eval-mode forward, no dropout), or dropout 0 in '
                f"the proxy's config (from_pretrained(..., <name>=0.0) for each of: {named})",
            }
        )
    alpha = getattr(args, "neftune_noise_alpha", None)
    if alpha is None and trainer is not None:
        alpha = getattr(trainer, "neftune_noise_alpha", None)
    if alpha:
        out.append(
            {
                "cause": "neftune",
                "detail": f"NEFTune adds noise to the input embeddings (neftune_noise_alpha={alpha})",
                "size": "~1e-2 relative per cell (alpha 5: 1.4e-2 to 2.7e-2)",
                "alternative": 'mode="probe" (its forward has no NEFTune noise), or '
                "neftune_noise_alpha=None for the proxy run",
            }
        )
    side = _padding_side(collate_fn, processing_class)
    positions = _absolute_positions(base) if side == "left" else []
    if positions:
        out.append(
            {
                "cause": "left_padding",
                "detail": f"left padding with absolute learned positions ({positions[0]}): "
                "a padded row sees shifted positions",
                "size": "up to ~1e-2 relative on the padded rows",
                "alternative": 'tokenizer.padding_side = "right" for the proxy run, or '
                'mode="probe" (it moves every row\'s padding to the right)',
            }
        )
    return out


def caveat_warning(caveat: dict[str, str]) -> str:
    """The one-time warning of one caveat: cause, size class, the exact alternative."""
    return (
        f"in-step values are training-mode losses: {caveat['detail']}, so each stored cell "
        f"differs from the example's loss alone by {caveat['size']}. For the examples' own "
        f"losses use {caveat['alternative']}. (Recorded in the store's metadata; `hf-s2l info` "
        "shows it.)"
    )
