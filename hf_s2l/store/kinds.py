"""Column kinds: why each store column was recorded (the only home of these names).

Every column of a store has a ``kind`` (several joined by :data:`KIND_SEPARATOR` when one
step had several reasons, e.g. ``point+epoch_end``):

========================  ==================================================================
``train_begin``           probe pass at step 0, before any update (the loss *before* training)
``point``                 one of ``num_points`` probe passes spread over training
``interval``              probe pass every ``every_n_steps`` steps
``epoch_end``             probe pass at the end of an epoch
``epoch``                 in-step column: each example's loss in the training forward that saw
                          it during that epoch (its step is the epoch's *first* step, so the
                          epoch-0 column sits at step 0 although it is measured while training)
========================  ==================================================================

**Empty kind = ``point``.** A column whose ``kind`` is empty (or missing) has the kind
:data:`DEFAULT_KIND` (``point``, the default of ``TrajectoryStore.add_column``): this is what
selection has always done (``kinds_of``), and selection decides the selected indices.
``TrajectoryStore.column_has_kind`` used to treat an empty kind as *no* kind; the functions
here do not (recorded and legacy stores always write a kind, so stores on disk are read the
same either way; only hand-made columns with ``kind=""`` differ).

Which column is *before training* is defined once, in :func:`is_before_training`.

This module imports nothing from ``hf_s2l`` (store layer); the store is duck-typed (``kinds``,
``steps``, ``epochs``, ``mode``, ``num_columns``, ``complete_columns()``, ``path``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

KIND_SEPARATOR = "+"

TRAIN_BEGIN = "train_begin"
POINT = "point"
INTERVAL = "interval"
EPOCH_END = "epoch_end"
IN_STEP = "epoch"
DEFAULT_KIND = POINT

# The names selection and record used so far (kept: callers switch to these).
BEFORE_TRAINING_KIND = TRAIN_BEGIN
IN_STEP_KIND = IN_STEP
EPOCH_END_KIND = EPOCH_END
PROBE_KINDS = (TRAIN_BEGIN, POINT, INTERVAL, EPOCH_END)
KNOWN_KINDS = (*PROBE_KINDS, IN_STEP)
KIND_ALIASES: dict[str, tuple[str, ...]] = {"probe": PROBE_KINDS, "in_step": (IN_STEP,)}

__all__ = [
    "BEFORE_TRAINING_KIND",
    "DEFAULT_KIND",
    "EPOCH_END",
    "EPOCH_END_KIND",
    "INTERVAL",
    "IN_STEP",
    "IN_STEP_KIND",
    "KIND_ALIASES",
    "KIND_SEPARATOR",
    "KNOWN_KINDS",
    "POINT",
    "PROBE_KINDS",
    "TRAIN_BEGIN",
    "before_training_columns",
    "column_has_kind",
    "columns_of_kind",
    "describe_columns",
    "expand_kinds",
    "is_before_training",
    "join_kinds",
    "kinds_of",
    "trained_columns",
]


def join_kinds(*kinds: str) -> str:
    """Join trigger kinds into one column kind (``point+epoch_end``), keeping first-seen order."""
    out: list[str] = []
    for k in kinds:
        for part in (k or "").split(KIND_SEPARATOR):
            if part and part not in out:
                out.append(part)
    return KIND_SEPARATOR.join(out)


def kinds_of(source: Any, column: int | None = None) -> list[str]:
    """The kinds of a column: its ``kind`` split at ``+``; ``[DEFAULT_KIND]`` when it has none.

    ``source`` is a kind string, a column-info mapping (``store.columns[i]``, key ``kind``), or
    a store together with ``column`` (``kinds_of(store, 3)``, selection's old signature).
    """
    if column is not None:
        kind = source.kinds[int(column)]
    elif isinstance(source, Mapping):
        kind = source.get("kind")
    else:
        kind = source
    return [k for k in str(kind or "").split(KIND_SEPARATOR) if k] or [DEFAULT_KIND]


def column_has_kind(store: Any, column: int, kind: str) -> bool:
    """True if ``column`` of ``store`` was recorded for ``kind`` (empty kind = ``point``)."""
    return kind in kinds_of(store, column)


def columns_of_kind(store: Any, kind: str, *, complete_only: bool = True) -> np.ndarray:
    """Indices of the (complete) columns recorded for ``kind``, e.g. ``"epoch_end"``."""
    cols = store.complete_columns() if complete_only else np.arange(store.num_columns)
    return np.array([c for c in cols if column_has_kind(store, int(c), kind)], dtype=np.int64)


def is_before_training(store: Any, column: int) -> bool:
    """True if ``column`` holds the losses before any training step.

    A ``train_begin`` column; or, in a probe store (not ``mode="in_step"``), a column at
    global step 0 that is not an in-step/epoch-end column (hand-made or imported stores).
    """
    c = int(column)
    if column_has_kind(store, c, TRAIN_BEGIN):
        return True
    if store.mode == "in_step" or column_has_kind(store, c, IN_STEP):
        return False
    return int(store.steps[c]) == 0 and not column_has_kind(store, c, EPOCH_END)


def before_training_columns(store: Any, columns: Any = None) -> list[int]:
    """The before-training columns among ``columns`` (default: the store's complete ones)."""
    cols = store.complete_columns() if columns is None else columns
    return [int(c) for c in cols if is_before_training(store, int(c))]


def trained_columns(store: Any, columns: Any = None) -> np.ndarray:
    """``columns`` (default: the store's complete ones) without the before-training ones."""
    cols = store.complete_columns() if columns is None else columns
    return np.asarray([int(c) for c in cols if not is_before_training(store, int(c))], np.int64)


def expand_kinds(kinds: str | Sequence[str], store: Any) -> tuple[str, ...]:
    """Kind names with the aliases ``"probe"``/``"in_step"`` expanded (first-seen order).

    Raises ``ValueError`` for a name that is neither a known kind nor present in ``store``,
    for a non-string name, and for an empty list.
    """
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


def describe_columns(store: Any) -> str:
    """One line listing every column as ``index:kind@step/epoch`` (for error messages)."""
    complete = set(int(c) for c in store.complete_columns())
    kinds, steps, epochs = store.kinds, store.steps, store.epochs
    parts = [
        f"{c}:{kinds[c] or '?'}@step{int(steps[c])}/epoch{float(epochs[c]):g}"
        + ("" if c in complete else "(incomplete)")
        for c in range(store.num_columns)
    ]
    return f"[{', '.join(parts) or 'none'}] (store mode {store.mode!r})"
