"""Reading a model's output the same way in every recorder: its logits and its own loss.

Models return a ``ModelOutput`` (``.logits`` / ``.loss``), a plain dict, or a tuple such as
``(loss, logits)`` (custom models, ``return_dict=False``); :func:`output_logits` and
:func:`output_loss` accept all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch


def _items(output: Any) -> list[Any]:
    if isinstance(output, Mapping):
        return list(output.values())
    if isinstance(output, (tuple, list)):
        return list(output)
    return []


def _named(output: Any, name: str) -> Any:
    """``output[name]`` (a mapping; a ``ModelOutput`` is one) or ``output.name``, else ``None``
    (a tuple or list names nothing)."""
    value = output.get(name) if isinstance(output, Mapping) else None
    if value is None and not isinstance(output, (tuple, list)):
        value = getattr(output, name, None)
    return value


def output_logits(output: Any, rows: int | None = None) -> torch.Tensor | None:
    """The logits in ``output`` (``B x L x V`` or ``B x C``), else ``None``.

    ``output.logits`` / ``output["logits"]`` when present; in a tuple the first tensor of two or
    more dimensions with ``rows`` rows (``(loss, logits)``, ``(logits,)``...).
    """
    logits = _named(output, "logits")
    if torch.is_tensor(logits):
        return logits
    for item in _items(output):
        if torch.is_tensor(item) and item.dim() >= 2 and (rows is None or item.shape[0] == rows):
            return item
    return None


def output_loss(output: Any) -> torch.Tensor | None:
    """The model's own loss (a 0-d tensor) in ``output``, else ``None``."""
    loss = _named(output, "loss")
    if loss is None:
        items = _items(output) if isinstance(output, (tuple, list)) else []
        loss = items[0] if items and torch.is_tensor(items[0]) else None
    if torch.is_tensor(loss) and loss.dim() == 0:
        return loss
    return None


def output_aux_loss(output: Any) -> torch.Tensor | None:
    """An auxiliary loss the model adds to its own (Mixtral's router ``aux_loss``), else None."""
    aux = _named(output, "aux_loss")
    return aux if torch.is_tensor(aux) and aux.dim() == 0 else None
