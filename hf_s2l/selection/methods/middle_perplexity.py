"""Middle perplexity (Marion et al., 2023, "When Less is More"; the S2L paper's baseline).

Perplexity ``P_i = exp(L_i)`` at the chosen column (default: the last complete column
recorded after training started, never the before-training one unless named); the
``budget`` examples closest to the median perplexity, ``|P_i - median_j P_j|`` ascending,
are kept (ties by row index). NaN rows are ignored for the median and rank last (warned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._common import check_nan_rows, nan_fallback_stats, nan_median, top_k_by_score
from ..base import MethodResult, register_method
from ..column_roles import final_trained_column, final_trained_column_quiet
from ..context import MethodContext


@dataclass
class MiddlePerplexityConfig:
    """``column``: the store column scored (default: the last complete trained one)."""

    column: int | None = None


def _read_columns(ctx: MethodContext, cfg: MiddlePerplexityConfig) -> list[int] | None:
    """The one column scored (for the unscored-row policy)."""
    col = final_trained_column_quiet(ctx, cfg.column)
    return None if col is None else [col]


@register_method(
    "middle_perplexity", config=MiddlePerplexityConfig, min_columns=1, columns=_read_columns
)
def middle_perplexity(ctx: MethodContext, budget: int, cfg: MiddlePerplexityConfig) -> MethodResult:
    """Examples whose perplexity is closest to the median perplexity."""
    col, cstats = final_trained_column(ctx, cfg.column, method="middle_perplexity")
    with np.errstate(over="ignore"):
        ppl = ctx.per_row(np.exp, [col])  # chunked, no float64 copy of the column: N = 100M
    nan = check_nan_rows(ppl, method="middle_perplexity", fallback="they are ranked last")
    med = nan_median(ppl)
    ppl -= med
    picked = top_k_by_score(np.abs(ppl, out=ppl), budget, descending=False, ordered=False)
    return MethodResult(
        indices=picked,
        stats={**cstats, "median_perplexity": med, **nan_fallback_stats(nan, picked)},
    )
