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

import numpy as np

from ..store import TrajectoryStore

BEFORE_TRAINING_KIND = "train_begin"
IN_STEP_KIND = "epoch"
PROBE_KINDS = ("train_begin", "point", "interval", "epoch_end")
KNOWN_KINDS = (*PROBE_KINDS, IN_STEP_KIND)
KIND_ALIASES: dict[str, tuple[str, ...]] = {"probe": PROBE_KINDS, "in_step": (IN_STEP_KIND,)}


def kinds_of(store: TrajectoryStore, column: int) -> list[str]:
    """The kinds of ``column`` (its ``kind`` split at ``+``; ``point`` when it has none)."""
    kind = store.kinds[column]
    return [k for k in kind.split("+") if k] or ["point"]


def is_before_training(store: TrajectoryStore, column: int) -> bool:
    """True if ``column`` holds the losses before any training step.

    A ``train_begin`` column; or, in a probe store (not ``mode="in_step"``), a column at
    global step 0 that is not an in-step/epoch-end column (hand-made or imported stores).
    """
    c = int(column)
    if store.column_has_kind(c, BEFORE_TRAINING_KIND):
        return True
    if store.mode == "in_step" or store.column_has_kind(c, IN_STEP_KIND):
        return False
    return int(store.steps[c]) == 0 and not store.column_has_kind(c, "epoch_end")


def _expand_kinds(kinds: str | Sequence[str], store: TrajectoryStore) -> tuple[str, ...]:
    names = [kinds] if isinstance(kinds, str) else list(kinds)
    out: list[str] = []
    present = sorted({k for c in range(store.num_columns) for k in kinds_of(store, c)})
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"column_kinds must be kind names (strings), got {name!r}")
        expanded = KIND_ALIASES.get(name, (name,))
        for k in expanded:
            if k not in KNOWN_KINDS and k not in present:
                raise ValueError(
                    f"unknown column kind {k!r}; the store at {store.path} has kinds "
                    f"{present or 'none'} (aliases: 'probe', 'in_step')"
                )
            if k not in out:
                out.append(k)
    if not out:
        raise ValueError("column_kinds is empty; pass at least one kind or leave it None")
    return tuple(out)


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
    kinds = None if column_kinds is None else _expand_kinds(column_kinds, store)
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
