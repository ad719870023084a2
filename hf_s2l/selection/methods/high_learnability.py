"""High learnability (Zhou et al., 2023, "LoBaSS: Gauging Learnability in Supervised
Fine-tuning Data"; the S2L paper's "High Learnability" baseline).

Learnability ``l_i = L_i(early) - L_i(final)``: how much the example's loss dropped between
the model before training (default early column: the before-training ``train_begin``
column) and the final proxy (default: the last complete column recorded after training
started). The ``budget`` examples of largest ``l_i`` are taken; ties by row index; NaN rows
rank last (warned). A store without a before-training column (an in-step store, or a
schedule with ``at_train_begin=False``) is an error unless ``early_column`` names the
column to use instead: the first recorded column of such a store is a model already trained.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._common import check_nan_rows, nan_fallback_stats, top_k_by_score
from ..base import MethodResult, register_method
from ..column_roles import (
    HOW_TO_RECORD_BEFORE_TRAINING,
    before_training_columns,
    describe_columns,
    final_trained_column,
    final_trained_column_quiet,
)
from ..columns import resolve_columns
from ..context import MethodContext


@dataclass
class HighLearnabilityConfig:
    """``early_column`` / ``final_column``: store columns (default: the before-training
    column / the last complete trained one)."""

    early_column: int | None = None
    final_column: int | None = None


def _read_columns(ctx: MethodContext, cfg: HighLearnabilityConfig) -> list[int] | None:
    """The early and final columns (for the unscored-row policy); None: not determinable
    (the method then raises its own error)."""
    if cfg.early_column is not None:
        early = int(cfg.early_column)
        early = ctx.store.num_columns + early if early < 0 else early
    else:
        initial = before_training_columns(ctx.store, ctx.complete_columns)
        early = initial[0] if initial else None
    final = final_trained_column_quiet(ctx, cfg.final_column)
    return None if early is None or final is None else [early, final]


@register_method(
    "high_learnability", config=HighLearnabilityConfig, min_columns=2, columns=_read_columns
)
def high_learnability(ctx: MethodContext, budget: int, cfg: HighLearnabilityConfig) -> MethodResult:
    """Largest loss drop between the model before training and the final model first."""
    store = ctx.store
    if cfg.early_column is not None:
        early = int(resolve_columns(ctx, [cfg.early_column], method="high_learnability")[0])
    else:
        initial = before_training_columns(store, ctx.complete_columns)
        if not initial:
            raise ValueError(
                "high_learnability measures the loss drop from the model before training, but "
                f"the store at {store.path} has no before-training column: "
                f"{describe_columns(store)}. Pass early_column=INDEX to measure the drop from "
                f"another column, or {HOW_TO_RECORD_BEFORE_TRAINING}"
            )
        early = initial[0]
    final, fstats = final_trained_column(ctx, cfg.final_column, method="high_learnability")
    if early == final:
        raise ValueError("high_learnability: early_column and final_column must differ")
    drop = ctx.column(early) - ctx.column(final)
    nan = check_nan_rows(drop, method="high_learnability", fallback="they are ranked last")
    picked = top_k_by_score(drop, budget, descending=True)
    return MethodResult(
        indices=picked,
        stats={
            "early_column": int(early),
            "early_column_kind": store.kinds[early] or None,
            "final_column": int(final),
            "final_column_kind": fstats["column_kind"],
            **nan_fallback_stats(nan, picked),
        },
    )
