"""Least confidence (Bhatt et al., 2024; the S2L paper's "Least Confidence" baseline).

With ``L_i`` the example's mean target-token cross-entropy at the chosen column (default:
the last complete column, i.e. the final proxy model), its confidence is the geometric mean
of its target-token probabilities ``c_i = exp(-L_i)``. The ``budget`` examples of lowest
``c_i`` (highest final loss) are taken; ties by row index. NaN rows rank last (warned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import check_nan_rows, nan_fallback_stats, resolve_columns, top_k_by_score
from .registry import MethodContext, MethodResult, register_method


@dataclass
class LeastConfidenceConfig:
    """``column``: the store column scored (default: the last complete one)."""

    column: int | None = None


@register_method("least_confidence", config=LeastConfidenceConfig, min_columns=1)
def least_confidence(ctx: MethodContext, budget: int, cfg: LeastConfidenceConfig) -> MethodResult:
    """Lowest mean target-token probability exp(-loss) at the final column first."""
    col = resolve_columns(
        ctx, None if cfg.column is None else [cfg.column], method="least_confidence"
    )[-1]
    loss = ctx.column(col)
    nan = check_nan_rows(loss, method="least_confidence", fallback="they are ranked last")
    conf = np.exp(-loss)
    picked = top_k_by_score(conf, budget, descending=False)
    return MethodResult(
        indices=picked, stats={"column": int(col), **nan_fallback_stats(nan, picked)}
    )
