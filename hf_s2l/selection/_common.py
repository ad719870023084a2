"""Helpers shared by the score-based methods: column choice, NaN policy, ranking."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from transformers.utils import logging

logger = logging.get_logger(__name__)


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


# Above this many scores the ranking helpers switch to the memory-bounded path (same result).
DENSE_RANK_MAX = 1 << 20
_MANT = np.int64(0x7FFFFFFFFFFFFFFF)


def sort_values_order(scores: np.ndarray) -> np.ndarray:
    """The row order of pandas' ``DataFrame.sort_values(by=[col])`` on one column, without pandas.

    pandas (``pandas.core.sorting.nargsort``, its default ``kind="quicksort"``,
    ``na_position="last"``) argsorts the non-NaN values with numpy's ``quicksort`` (the
    default, unstable sort: ties in the order this numpy build gives on this CPU), then
    appends the NaN rows in position order. The official Learning Percentage code
    (``subset.py``: ``sort_values(by=["LP1"])``) ranks each cluster so.
    """
    s = np.asarray(scores, dtype=np.float64)
    nan = np.isnan(s)
    idx = np.arange(len(s))
    return np.concatenate([idx[~nan][s[~nan].argsort(kind="quicksort")], idx[nan]])


def top_k_by_score(
    scores: np.ndarray, k: int, *, descending: bool, ordered: bool = True
) -> np.ndarray:
    """Positions of the ``k`` best scores; NaN scores rank last, ties by position.

    Returned best first (``ordered=True``, so ``top_k_by_score(s, len(s))`` is a full
    ranking), or in ascending position order (``ordered=False``: the same set, cheaper).
    Above :data:`DENSE_RANK_MAX` scores the k-th best value is found without sorting or
    copying the N scores (:func:`kth_best`); with ``ordered=False`` N = 100M then needs
    about one byte per row beyond the scores and the chosen positions.
    """
    s = np.asarray(scores, dtype=np.float64)
    k = int(k)
    if len(s) <= DENSE_RANK_MAX:
        nan = np.isnan(s)
        key = np.where(nan, 0.0, -s if descending else s)
        top = np.lexsort((np.arange(len(s)), key, nan))[:k]
        return top if ordered else np.sort(top)
    valid = len(s) - int(np.count_nonzero(np.isnan(s)))
    if valid <= k:  # every scored row, then the NaN rows by position
        mask = ~np.isnan(s)
        rest = np.flatnonzero(~mask)[: k - valid]
        if ordered:
            return np.concatenate([_rank_order(s, np.flatnonzero(mask), descending), rest])
        mask[rest] = True
        return np.flatnonzero(mask)
    t = kth_best(s, k, descending=descending)
    mask = s > t if descending else s < t
    need = k - int(np.count_nonzero(mask))
    mask[np.flatnonzero(s == t)[:need]] = True
    picked = np.flatnonzero(mask)
    del mask
    return _rank_order(s, picked, descending) if ordered else picked


def _rank_order(s: np.ndarray, rows: np.ndarray, descending: bool) -> np.ndarray:
    """``rows`` (ascending) ordered by score, best first; a stable sort keeps ties by row."""
    v = s[rows]
    if descending:
        np.negative(v, out=v)
    return rows[np.argsort(v, kind="stable")]


def _to_key(x: float) -> int:
    """Order-preserving map of a float64 to an int64 (the float order = the int order)."""
    b = int(np.array(x, dtype=np.float64).view(np.int64))
    return b ^ int(_MANT) if b < 0 else b


def _from_key(key: int) -> float:
    b = key ^ int(_MANT) if key < 0 else key
    return float(np.array(b, dtype=np.int64).view(np.float64))


def kth_best(s: np.ndarray, k: int, *, descending: bool) -> float:
    """The ``k``-th best (1-based) non-NaN value of ``s`` (smallest first, or largest).

    Exact and without a copy of ``s``: a strided sample brackets the answer, the few
    values inside the bracket are partitioned (about 4 passes over ``s``); if the bracket
    misses, bisection over the 64-bit order of floats (at most 64 counting passes).
    ±inf values are fine.
    """

    def count_le(v: float) -> int:  # entries of s (descending: of -s) that are <= v
        return int(np.count_nonzero(s >= -v)) if descending else int(np.count_nonzero(s <= v))

    def count_lt(v: float) -> int:
        return int(np.count_nonzero(s > -v)) if descending else int(np.count_nonzero(s < v))

    found = _bracketed(s, k, descending, count_lt, count_le)
    if found is not None:
        return found
    lo, hi = _to_key(-np.inf), _to_key(np.inf)
    if count_le(-np.inf) >= k:
        return np.inf if descending else -np.inf
    # invariant: count_le(value of lo) < k <= count_le(value of hi)
    while hi - lo > 1:
        mid = lo + (hi - lo) // 2
        if count_le(_from_key(mid)) >= k:
            hi = mid
        else:
            lo = mid
    v = _from_key(hi)
    return -v if descending else v


def _bracketed(
    s: np.ndarray,
    k: int,
    descending: bool,
    count_lt: Callable[[float], int],
    count_le: Callable[[float], int],
) -> float | None:
    """The k-th value via a sample-quantile bracket ``[lo, hi]``, or None if it misses."""
    step = max(1, len(s) // 200_000)
    sample = s[::step]
    sample = np.sort(-sample[~np.isnan(sample)] if descending else sample[~np.isnan(sample)])
    valid = len(s) - int(np.count_nonzero(np.isnan(s)))
    if len(sample) < 100 or valid == 0:
        return None
    j = k / valid * len(sample)
    margin = 4.0 * np.sqrt(len(sample)) + 16
    lo = float(sample[int(max(0, j - margin))])
    hi = float(sample[int(min(len(sample) - 1, j + margin))])
    below = count_lt(lo)
    if not below < k <= count_le(hi):
        return None
    inside = (s <= -lo) & (s >= -hi) if descending else (s >= lo) & (s <= hi)
    cand = s[inside]
    if descending:
        np.negative(cand, out=cand)
    v = float(np.partition(cand, k - below - 1)[k - below - 1])
    return -v if descending else v


def nan_median(x: np.ndarray) -> float:
    """``np.nanmedian(x)`` of a 1-D float array, without copying it when it is large."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) <= DENSE_RANK_MAX:
        return float(np.nanmedian(x))
    m = len(x) - int(np.count_nonzero(np.isnan(x)))
    if m == 0:
        return float("nan")
    hi = kth_best(x, m // 2 + 1, descending=False)
    if m % 2:
        return hi
    lo = kth_best(x, m // 2, descending=False)
    return float((np.float64(lo) + np.float64(hi)) / 2)  # as numpy: mean of the middle two


def nan_fallback_stats(mask: np.ndarray, picked: np.ndarray) -> dict[str, int]:
    return {"num_nan_rows": int(mask.sum()), "num_nan_rows_selected": int(mask[picked].sum())}
