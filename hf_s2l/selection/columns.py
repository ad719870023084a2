"""Which store columns a selection reads: column kinds, and the before-training column.

Every column of a store has a ``kind`` saying why it was recorded (several joined by
``+`` when one step had several reasons, e.g. ``point+epoch_end``):

========================  ==================================================================
``train_begin``           probe pass at step 0, before any update (the loss *before* training)
``point``                 one of ``num_points`` probe passes spread over training
``interval``              probe pass every ``every_n_steps`` steps
``epoch_end``             probe pass at the end of an epoch
``epoch``                 in-step column: each example's loss in the training forward that saw
                          it during that epoch (``mode="in_step"``, or ``output_dir/in_step``
                          with ``mode="both"``)
========================  ==================================================================

``column_kinds`` (a kind, a list of kinds, or the aliases ``"probe"`` / ``"in_step"``)
restricts a selection to the complete columns having one of those kinds.

**Feature columns.** The official S2L trajectories are the saved checkpoints only, the
first one after training starts: the loss before training is never a feature. So the
*feature columns* (what S2L, facility location, cartography and the curriculum summarise)
are the complete columns of the chosen kinds minus the before-training ones, unless
``include_initial=True`` or ``train_begin`` is asked for by name (not via ``"probe"``).
Which column is *before training* is defined once, in
:func:`is_before_training` (a ``train_begin`` column, or a
probe column at global step 0; an in-step ``epoch`` column starting at step 0 is not: its
cells are measured while training). Methods that need the before-training loss by
definition (Learning Percentage's ``P_0``, high learnability's early column) still see
it among :attr:`ColumnChoice.complete`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..store import TrajectoryStore
from ..store.kinds import (
    BEFORE_TRAINING_KIND,
    IN_STEP_KIND,
    KIND_ALIASES,
    KNOWN_KINDS,
    PROBE_KINDS,
    expand_kinds,
    is_before_training,
    kinds_of,
)


@dataclass(frozen=True)
class ColumnChoice:
    """The columns a selection may read.

    Attributes:
        complete: complete columns of the chosen kinds, before-training ones included.
        features: ``complete`` without the before-training columns (unless included).
        kinds: the kinds asked for (``None``: every kind).
        include_initial: whether before-training columns count as features.
    """

    complete: np.ndarray
    features: np.ndarray
    kinds: tuple[str, ...] | None
    include_initial: bool


def choose_columns(
    store: TrajectoryStore,
    column_kinds: str | Sequence[str] | None = None,
    include_initial: bool = False,
) -> ColumnChoice:
    """The complete and feature columns of ``store`` for these options (ascending)."""
    kinds = None if column_kinds is None else expand_kinds(column_kinds, store)
    complete = [int(c) for c in store.complete_columns()]
    if kinds is not None:
        complete = [c for c in complete if set(kinds_of(store, c)) & set(kinds)]
    named = [column_kinds] if isinstance(column_kinds, str) else list(column_kinds or [])
    keep_initial = bool(include_initial) or BEFORE_TRAINING_KIND in named  # not via "probe"
    features = [c for c in complete if keep_initial or not is_before_training(store, c)]
    return ColumnChoice(
        complete=np.asarray(complete, dtype=np.int64),
        features=np.asarray(features, dtype=np.int64),
        kinds=kinds,
        include_initial=keep_initial,
    )


def resolve_columns(
    ctx: Any,
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


# old private name (kept for callers outside selection until issue 21 removes the shims)
_expand_kinds = expand_kinds

__all__ = [
    "BEFORE_TRAINING_KIND",
    "IN_STEP_KIND",
    "KIND_ALIASES",
    "KNOWN_KINDS",
    "PROBE_KINDS",
    "ColumnChoice",
    "choose_columns",
    "is_before_training",
    "kinds_of",
    "resolve_columns",
]
