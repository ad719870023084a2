"""The one policy for non-finite losses (NaN, +inf, -inf), used by selection and the report.

A row is **unscored** when any of the columns a consumer uses holds a non-finite value
for it: NaN (nothing recorded: e.g. every label is -100, a prompt that fills
``max_length``) or ±inf (an overflowing loss). Such a row has no trajectory to compare.

* Selection (every method, in :func:`hf_s2l.select`): by default (``unscored="exclude"``)
  the method runs on the scored rows only; an unscored row is chosen only when the budget
  exceeds the scored rows (the rest is then drawn at random, seeded, with a warning). The
  count is logged once and stored in ``Selection.stats["unscored"]``. With
  ``unscored="zero"`` every non-finite cell is read as 0 and the rows compete like any
  other: the official S2L code's ``losses[isnan(losses)] = 0`` (extended to ±inf, which
  the official code would pass to faiss and crash on).
* k-means (:mod:`hf_s2l.selection.kmeans`) refuses non-finite input with a clear error:
  callers apply this policy first.
* The HTML report clusters the scored rows only and says how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..store import TrajectoryStore

POLICIES = ("exclude", "zero")
CHUNK_ROWS = 1 << 22


def check_policy(policy: str) -> str:
    """``policy`` if it is one of :data:`POLICIES`, else a ``ValueError``."""
    if policy not in POLICIES:
        raise ValueError(f"unscored must be one of {POLICIES}, got {policy!r}")
    return policy


def unscored_mask(values: np.ndarray) -> np.ndarray:
    """Rows of a 1-D or 2-D array holding any non-finite value (bool, one per row)."""
    v = np.asarray(values)
    bad = ~np.isfinite(v)
    return bad if v.ndim == 1 else bad.any(axis=1)


def unscored_rows(
    store: TrajectoryStore,
    columns: Sequence[int] | np.ndarray,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> np.ndarray:
    """Bool mask (length N) of the store's rows that are unscored in ``columns``.

    Reads the memory-mapped columns ``chunk_rows`` rows at a time, so memory stays at one
    bool per row plus one chunk, whatever N.
    """
    n = store.num_examples
    mask = np.zeros(n, dtype=bool)
    for c in columns:
        for start in range(0, n, chunk_rows):
            stop = min(n, start + chunk_rows)
            col = store.column_values(int(c))
            mask[start:stop] |= ~np.isfinite(col[start:stop])
            del col  # unmap: the pages read do not stay in this process' resident set
    return mask
