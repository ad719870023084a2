"""Helpers shared by the score-based methods: column choice, NaN policy, ranking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from transformers.utils import logging

from .registry import MethodContext

logger = logging.get_logger(__name__)


def resolve_columns(
    ctx: MethodContext,
    columns: Sequence[int] | None,
    *,
    method: str,
    minimum: int = 1,
    exclude_train_begin: bool = False,
) -> np.ndarray:
    """The store columns a method uses: ``columns`` if given (each must be complete), else
    every complete column of the chosen kinds, or with ``exclude_train_begin`` the feature
    columns (no before-training column unless ``select(..., include_initial=True)``)."""
    complete = ctx.complete_columns
    if columns is not None:
        cols = np.asarray([int(c) for c in columns], dtype=np.int64)
        cols = np.where(cols < 0, ctx.store.num_columns + cols, cols)
        bad = [int(c) for c in cols if c not in set(complete.tolist())]
        if bad:
            raise ValueError(
                f"{method}: columns {bad} are not complete columns of the store "
                f"(complete: {complete.tolist()})"
            )
    else:
        cols = ctx.feature_columns if exclude_train_begin else complete
    if len(cols) < minimum:
        initial = (
            "; the before-training (step-0) column is not a feature unless include_initial=True"
            if columns is None and exclude_train_begin and len(complete) > len(cols)
            else ""
        )
        raise ValueError(
            f"{method} needs at least {minimum} complete trajectory column(s), got {len(cols)} "
            f"(complete columns of the store: {complete.tolist()}{initial})"
        )
    return cols


def check_nan_rows(values: np.ndarray, *, method: str, fallback: str) -> np.ndarray:
    """Boolean mask of rows that are entirely NaN; warn about them, error if every row is.

    ``fallback`` says, in the warning, what the method does with such rows.
    """
    v = values if values.ndim == 2 else values[:, None]
    mask = np.isnan(v).all(axis=1)
    k = int(mask.sum())
    if k == len(mask) and k > 0:
        raise ValueError(
            f"{method}: every example's loss is NaN in the columns used (were any targets "
            "recorded? examples whose labels are all -100 are stored as NaN)"
        )
    if k:
        logger.warning(
            "%s: %d of %d examples have no recorded loss (NaN); %s", method, k, len(mask), fallback
        )
    return mask


def top_k_by_score(scores: np.ndarray, k: int, *, descending: bool) -> np.ndarray:
    """Positions of the ``k`` best scores; NaN scores rank last, ties by position."""
    s = np.asarray(scores, dtype=np.float64)
    nan = np.isnan(s)
    key = np.where(nan, 0.0, -s if descending else s)
    order = np.lexsort((np.arange(len(s)), key, nan))
    return order[:k]


def nan_fallback_stats(mask: np.ndarray, picked: np.ndarray) -> dict[str, int]:
    return {"num_nan_rows": int(mask.sum()), "num_nan_rows_selected": int(mask[picked].sum())}
