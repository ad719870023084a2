"""Per-example loss: the one definition shared by probe and in-step recording.

* :func:`per_example_loss` — mean target-token cross-entropy per row (NaN without a target);
* :func:`has_target` — whether a row has a target token under that definition (the rule to
  filter training rows with, e.g. in the experiments loop).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

IGNORE_INDEX = -100


def per_example_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    *,
    shift: bool = True,
    ignore_index: int = IGNORE_INDEX,
    chunk_rows: int = 8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy over each row's target tokens.

    ``logits`` is ``B x L x V`` and ``labels`` ``B x L``. With ``shift=True`` (causal LMs)
    position ``t`` predicts label ``t + 1`` exactly as ``model(..., labels=y).loss`` does in
    transformers; encoder-decoder models pass ``shift=False``. Only target positions
    (labels != ``ignore_index``) are evaluated; logits longer than the labels (PEFT virtual
    tokens prepended) are aligned at the right, as PEFT aligns its labels. Targets are
    evaluated in float32, at most ``chunk_rows x L`` of them at a time, so at most that many float32 rows of logits are copied at once.

    Sequence classification (``logits`` ``B x C``, ``labels`` ``B``): each row's cross-entropy
    against its class label (one target per row; ``shift`` does not apply).

    Returns ``(loss, num_tokens)``: float32 ``B`` (NaN where a row has no target token)
    and int64 ``B``.
    """
    if logits.dim() == 2 and labels.dim() == 1:
        return _per_row_loss(logits, labels, ignore_index)
    if shift and logits.shape[1] > labels.shape[1]:
        # PEFT prompt learning: virtual tokens come first; their positions have no target
        # (the last one predicts the example's first token, as in the model's own loss).
        pad = labels.new_full((labels.shape[0], logits.shape[1] - labels.shape[1]), ignore_index)
        labels = torch.cat([pad, labels], dim=1)
    if shift:
        logits = logits[:, :-1, :]
        labels = labels[:, 1:]
    labels = labels.to(logits.device)
    b, length = labels.shape
    mask = labels != ignore_index
    counts = mask.sum(dim=1)
    rows, cols = mask.nonzero(as_tuple=True)
    targets = labels[rows, cols]
    sums = torch.zeros(b, dtype=torch.float32, device=logits.device)
    step = max(1, chunk_rows * max(length, 1))
    for start in range(0, rows.numel(), step):
        r, c = rows[start : start + step], cols[start : start + step]
        tok = torch.nn.functional.cross_entropy(
            logits[r, c].float(), targets[start : start + step], reduction="none"
        )
        sums.index_add_(0, r, tok)
    losses = sums / counts.clamp(min=1)
    losses[counts == 0] = float("nan")
    return losses, counts.to(torch.int64)


def _per_row_loss(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """One class label per row: its cross-entropy (NaN where the label is ignored)."""
    if labels.is_floating_point():
        raise ValueError(
            "float labels (regression / multi-label targets) have no per-example cross-entropy; "
            "hf-s2l records single-label classification with integer class labels"
        )
    labels = labels.to(logits.device)
    valid = labels != ignore_index
    loss = torch.nn.functional.cross_entropy(logits.float(), labels.clamp(min=0), reduction="none")
    loss = torch.where(valid, loss, torch.full_like(loss, float("nan")))
    return loss, valid.to(torch.int64)


def has_target(
    labels: Sequence[int] | np.ndarray | torch.Tensor | Any,
    *,
    shift: bool = True,
    ignore_index: int = IGNORE_INDEX,
) -> bool:
    """Whether one row's ``labels`` hold a token :func:`per_example_loss` scores.

    With ``shift=True`` (causal LMs) label ``t`` is predicted at position ``t - 1``, so the
    first label never counts: ``[5, -100, -100]`` has no target (its loss would be NaN). With
    ``shift=False`` (encoder-decoder models) every label counts.
    """
    if torch.is_tensor(labels):
        row = labels.detach().cpu().numpy()
    else:
        row = np.asarray(labels)
    if row.ndim != 1:
        raise ValueError(f"has_target takes one row of labels (1-D), got shape {row.shape}")
    if shift:
        row = row[1:]
    return bool((row != ignore_index).any())
