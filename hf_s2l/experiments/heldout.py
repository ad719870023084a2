"""Held-out answer-token loss: the demo's and the data-efficiency benchmark's metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..compat import column


def answer_token_loss(
    model: Any,
    dataset: Any,
    *,
    pad_token_id: int = 0,
    batch_size: int = 32,
    desc: str | None = None,
    disable_progress: bool = False,
    per_example: bool = False,
) -> dict[str, Any]:
    """Mean cross-entropy over every target token (``labels != -100``) of ``dataset``.

    ``dataset`` rows have ``input_ids`` and ``labels`` (prompt tokens masked with -100, as
    produced by :func:`hf_s2l.tokenize_sft`). Tokens are pooled over the whole set
    (sum of token losses / number of target tokens, i.e. the log of the held-out answer
    perplexity). Returns ``{"loss", "perplexity", "tokens", "examples", "example_mean_loss"}``
    where ``example_mean_loss`` averages the per-example mean losses instead. With
    ``per_example=True`` also ``"example_loss_sum"`` and ``"example_tokens"``: float64 /
    int64 arrays in the dataset's row order (the summed token losses and the number of
    target tokens of every row), for bootstrap intervals over examples.
    Runs under ``torch.no_grad`` in eval mode and restores the model's training mode.
    """
    import torch
    from tqdm.auto import tqdm

    rows_ids: Sequence[Sequence[int]] = column(dataset, "input_ids")
    rows_lab: Sequence[Sequence[int]] = column(dataset, "labels")
    order = np.argsort([len(x) for x in rows_ids], kind="stable")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, tokens = 0.0, 0
    means: list[float] = []
    ex_sums = np.zeros(len(order), dtype=np.float64)
    ex_tokens = np.zeros(len(order), dtype=np.int64)
    try:
        with torch.no_grad():
            for start in tqdm(
                range(0, len(order), batch_size),
                desc=desc or "held-out loss",
                leave=False,
                disable=True if disable_progress else None,  # None: off when not a tty
            ):
                idx = order[start : start + batch_size]
                width = max(len(rows_ids[i]) for i in idx)
                ids = torch.full((len(idx), width), pad_token_id, dtype=torch.long)
                lab = torch.full((len(idx), width), -100, dtype=torch.long)
                att = torch.zeros((len(idx), width), dtype=torch.long)
                for j, i in enumerate(idx):
                    n = len(rows_ids[i])
                    ids[j, :n] = torch.as_tensor(rows_ids[i])
                    lab[j, :n] = torch.as_tensor(rows_lab[i])
                    att[j, :n] = 1
                logits = model(
                    input_ids=ids.to(device), attention_mask=att.to(device)
                ).logits.float()
                shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1])
                shift_labels = lab[:, 1:].to(device)
                ce = torch.nn.functional.cross_entropy(
                    shift_logits, shift_labels.reshape(-1), ignore_index=-100, reduction="none"
                ).view(len(idx), -1)
                mask = (shift_labels != -100).float()
                ex_sum = (ce * mask).sum(dim=1)
                ex_n = mask.sum(dim=1)
                total += float(ex_sum.sum())
                tokens += int(ex_n.sum())
                keep = ex_n > 0
                means.extend((ex_sum[keep] / ex_n[keep]).tolist())
                ex_sums[idx] = ex_sum.double().cpu().numpy()
                ex_tokens[idx] = ex_n.long().cpu().numpy()
    finally:
        model.train(was_training)
    loss = total / max(tokens, 1)
    out: dict[str, Any] = {
        "loss": loss,
        "perplexity": float(np.exp(loss)),
        "tokens": tokens,
        "examples": len(means),
        "example_mean_loss": float(np.mean(means)) if means else float("nan"),
    }
    if per_example:
        out["example_loss_sum"] = ex_sums
        out["example_tokens"] = ex_tokens
    return out
