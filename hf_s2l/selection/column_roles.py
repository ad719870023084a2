"""What each store column measures, for the methods that need a column of a given kind.

A column's ``kind`` says why it was recorded (see :class:`~hf_s2l.RecordingSchedule`):

* ``train_begin``: a probe pass before any optimizer step — the loss *before training*;
* ``point`` / ``interval`` / ``epoch_end``: probe passes after optimizer steps;
* ``epoch``: an in-step column (``mode="in_step"``): the loss of each example in the
  training forward that saw it during that epoch. Its step is the epoch's *first* step, so
  the epoch-0 in-step column sits at step 0 although it is not a before-training loss.

Methods use these helpers instead of "the first" / "the last" complete column, so that a
column of the wrong kind is never used silently. Which column is *before training* is
decided in one place, :func:`hf_s2l.store.kinds.is_before_training` (with
``before_training_columns``, ``trained_columns`` and ``describe_columns``, re-exported here);
the columns a
method may read are the context's (``select(..., column_kinds=..., include_initial=...)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from transformers.utils import logging

from ..store.kinds import (
    EPOCH_END_KIND,
    before_training_columns,
    describe_columns,
    is_before_training,
    trained_columns,
)
from .columns import resolve_columns

logger = logging.get_logger(__name__)

__all__ = [
    "EPOCH_END_KIND",
    "HOW_TO_RECORD_BEFORE_TRAINING",
    "before_training_columns",
    "describe_columns",
    "final_trained_column",
    "final_trained_column_quiet",
    "is_before_training",
    "later_incomplete_columns",
    "trained_columns",
    "trained_or_given_columns",
]


def later_incomplete_columns(store: Any, column: int) -> list[int]:
    """Columns recorded after ``column`` (larger step) that are not complete."""
    complete = set(int(c) for c in store.complete_columns())
    steps = store.steps
    return [
        c
        for c in range(store.num_columns)
        if c not in complete and int(steps[c]) > int(steps[int(column)])
    ]


HOW_TO_RECORD_BEFORE_TRAINING = (
    "record one with TrajectoryCallback(output_dir, mode='probe' or mode='both', "
    "at_train_begin=True) (the default schedule; with mode='both' select on the probe store "
    "at output_dir, not on output_dir/in_step), or add it to a store by hand with "
    "store.add_column(0, 0.0, kind='train_begin')"
)


def final_trained_column(ctx: Any, column: int | None, *, method: str) -> tuple[int, dict]:
    """The column a "final proxy model" score is read from, and stats describing it.

    ``column`` given: that (complete) column. Otherwise the last complete column recorded
    after training started; an error if there is none (the before-training column scores the
    untrained model), a warning if columns recorded after it are still incomplete.
    """
    store = ctx.store
    if column is not None:
        col = int(resolve_columns(ctx, [column], method=method)[-1])
    else:
        cols = trained_columns(store, ctx.complete_columns)
        if not len(cols):
            raise ValueError(
                f"{method} scores the trained proxy, but the store at {store.path} has no "
                f"complete column recorded after training started: {describe_columns(store)}. "
                "A before-training column holds the untrained model's losses; pass "
                "column=INDEX to score it on purpose"
            )
        col = int(cols[-1])
        later = later_incomplete_columns(store, col)
        if later:
            logger.warning(
                "%s: scoring column %d (step %d), the last complete one; columns %s recorded "
                "after it are incomplete (training still running or interrupted?)",
                method,
                col,
                int(store.steps[col]),
                later,
            )
    return col, {
        "column": col,
        "column_kind": store.kinds[col] or None,
        "column_step": int(store.steps[col]),
        "column_before_training": is_before_training(store, col),
    }


def final_trained_column_quiet(ctx: Any, column: int | None) -> int | None:
    """The column :func:`final_trained_column` would score, without its checks or warnings
    (``None`` when it would raise): for the columns-read hooks of the unscored-row policy."""
    if column is not None:
        c = int(column)
        return ctx.store.num_columns + c if c < 0 else c
    cols = trained_columns(ctx.store, ctx.complete_columns)
    return int(cols[-1]) if len(cols) else None


def trained_or_given_columns(
    ctx: Any, columns: Any, *, method: str, minimum: int = 1
) -> np.ndarray:
    """``columns`` if given (each complete), else the context's feature columns (complete,
    recorded after training started unless ``include_initial``); an error naming the store's
    columns if fewer than ``minimum``."""
    if columns is not None:
        return resolve_columns(ctx, columns, method=method, minimum=minimum)
    cols = ctx.feature_columns
    if len(cols) < minimum:
        raise ValueError(
            f"{method} needs at least {minimum} complete trajectory column(s) recorded after "
            f"training started (the before-training column is left out unless "
            f"include_initial=True), got {len(cols)}: "
            f"{describe_columns(ctx.store)}; pass columns=[...] to choose them"
        )
    return cols
