"""High learnability (Zhou et al., 2023, "LoBaSS: Gauging Learnability in Supervised
Fine-tuning Data"; the S2L paper's "High Learnability" baseline).

Learnability ``l_i = L_i(early) - L_i(final)``: how much the example's loss dropped between
an early column (default: the first complete column, the step-0 one when recorded) and the
final column (default: the last complete one). The ``budget`` examples of largest ``l_i``
are taken; ties by row index; NaN rows rank last (warned).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._common import check_nan_rows, nan_fallback_stats, resolve_columns, top_k_by_score
from .registry import MethodContext, MethodResult, register_method


@dataclass
class HighLearnabilityConfig:
    """``early_column`` / ``final_column``: store columns (default: first / last complete)."""

    early_column: int | None = None
    final_column: int | None = None


@register_method("high_learnability", config=HighLearnabilityConfig, min_columns=2)
def high_learnability(ctx: MethodContext, budget: int, cfg: HighLearnabilityConfig) -> MethodResult:
    """Largest loss drop between an early and the final column first."""
    cols = resolve_columns(ctx, None, method="high_learnability", minimum=2)
    early = resolve_columns(
        ctx,
        [cfg.early_column if cfg.early_column is not None else cols[0]],
        method="high_learnability",
    )[0]
    final = resolve_columns(
        ctx,
        [cfg.final_column if cfg.final_column is not None else cols[-1]],
        method="high_learnability",
    )[0]
    if early == final:
        raise ValueError("high_learnability: early_column and final_column must differ")
    drop = ctx.column(early) - ctx.column(final)
    nan = check_nan_rows(drop, method="high_learnability", fallback="they are ranked last")
    picked = top_k_by_score(drop, budget, descending=True)
    return MethodResult(
        indices=picked,
        stats={
            "early_column": int(early),
            "final_column": int(final),
            **nan_fallback_stats(nan, picked),
        },
    )
