"""Per-example loss: the one definition shared by probe and in-step recording."""

from __future__ import annotations

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
    transformers; encoder-decoder models pass ``shift=False``. Rows are processed
    ``chunk_rows`` at a time in float32 so at most a ``chunk_rows x L x V`` float32 copy of
    the logits exists at once.

    Returns ``(loss, num_tokens)``: float32 ``B`` (NaN where a row has no target token)
    and int64 ``B``.
    """
    if shift:
        logits = logits[:, :-1, :]
        labels = labels[:, 1:]
    b = logits.shape[0]
    losses = torch.empty(b, dtype=torch.float32, device=logits.device)
    counts = (labels != ignore_index).sum(dim=1)
    for start in range(0, b, chunk_rows):
        lg = logits[start : start + chunk_rows].float()
        lb = labels[start : start + chunk_rows]
        tok = torch.nn.functional.cross_entropy(
            lg.reshape(-1, lg.shape[-1]),
            lb.reshape(-1).to(lg.device),
            ignore_index=ignore_index,
            reduction="none",
        ).view(lb.shape)
        n = counts[start : start + chunk_rows]
        losses[start : start + chunk_rows] = tok.sum(dim=1) / n.clamp(min=1)
    losses[counts == 0] = float("nan")
    return losses, counts.to(torch.int64)
