"""Least confidence (Bhatt et al., 2024; the S2L paper's "Least Confidence" baseline).

With ``L_i`` the example's mean target-token cross-entropy at the chosen column (default:
the last complete column recorded after training started, i.e. the final proxy model; never
the before-training column unless named: a store with only that column is an error), its confidence is the geometric mean
of its target-token probabilities ``c_i = exp(-L_i)``. The ``budget`` examples of lowest
``c_i`` (highest final loss) are taken; ties by row index. NaN rows rank last (warned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._common import check_nan_rows, nan_fallback_stats, top_k_by_score
from ..base import MethodResult, register_method
from ..column_roles import final_trained_column, final_trained_column_quiet
from ..context import MethodContext


@dataclass
class LeastConfidenceConfig:
    """``column``: the store column scored (default: the last complete trained one)."""

    column: int | None = None


def _read_columns(ctx: MethodContext, cfg: LeastConfidenceConfig) -> list[int] | None:
    """The one column scored (for the unscored-row policy)."""
    col = final_trained_column_quiet(ctx, cfg.column)
    return None if col is None else [col]


@register_method(
    "least_confidence", config=LeastConfidenceConfig, min_columns=1, columns=_read_columns
)
def least_confidence(ctx: MethodContext, budget: int, cfg: LeastConfidenceConfig) -> MethodResult:
    """Lowest mean target-token probability exp(-loss) at the final column first."""
    col, cstats = final_trained_column(ctx, cfg.column, method="least_confidence")
    loss = ctx.column(col)
    nan = check_nan_rows(loss, method="least_confidence", fallback="they are ranked last")
    conf = np.exp(-loss)
    picked = top_k_by_score(conf, budget, descending=False)
    return MethodResult(indices=picked, stats={**cstats, **nan_fallback_stats(nan, picked)})
