"""Quotas: how a budget is split over groups or clusters (the one home of that arithmetic).

* :func:`even_split_smallest_first` — the S2L rule (groups visited from the smallest; what a
  group cannot take rolls over): ``stratified`` (``by_column``) and S2L's clusters;
* :func:`proportional_split` — ``floor(size * budget / N)`` plus the largest remainders:
  ``by_column`` with ``group_quotas="proportional"`` and LP's ``"exact"`` cluster sizes
  (tie-break by the next example's score);
* :func:`share_split` — ``budget * share`` per group, largest remainders, a group smaller
  than its share taken whole and its shortfall spread over the others by their shares:
  ``by_column`` with ``group_quotas={value: share}``;
* :func:`official_cluster_quotas` — LP's ``subset.py`` rule, ``ceil(size / round(100 / p))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "TIES",
    "even_split_smallest_first",
    "exact_cluster_quotas",
    "official_cluster_quotas",
    "official_split_count",
    "proportional_split",
    "share_split",
    "size_order",
]

TIES = ("index", "official")


def size_order(sizes: np.ndarray, ties: str = "index") -> np.ndarray:
    """Group (or cluster) positions by ascending size.

    ``ties="index"``: a stable sort, equal sizes by position (cluster id, group label).
    ``"official"``: ``np.argsort(sizes)``, numpy's default (unstable) sort, the very call of
    the official S2L code (``schedules/s2l.py``, over source and cluster sizes): equal sizes
    come in the order this numpy build gives on this CPU (vectorised sorts reorder ties,
    e.g. ``np.argsort([6, 6, 3, 3])`` is ``[3, 2, 1, 0]`` on numpy 2.4 with AVX-512), the
    same as the official code on the same machine and numpy.
    """
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    sizes = np.asarray(sizes, dtype=np.int64)
    return np.argsort(sizes) if ties == "official" else np.argsort(sizes, kind="stable")


def even_split_smallest_first(
    sizes: np.ndarray,
    budget: int,
    rng: np.random.Generator | None = None,
    ties: str = "index",
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``budget`` evenly over groups, visiting them from the smallest to the largest.

    The S2L rule (``schedules/s2l.py`` in BigML-CS-UCLA/S2L): with ``r`` the budget still
    to assign and ``g`` the groups not yet visited, the next group gets
    ``q = r // g`` examples, or all of it if it has fewer than ``q`` (what it cannot take
    rolls over to the larger groups). Ties in size are visited in index order, or with
    ``ties="official"`` in the order of the official ``np.argsort`` (:func:`size_order`).

    Official (``rng=None``), the remainder ``r % g`` always rolls over, so with more groups
    than budget the first groups get 0 and the last (largest) groups always win. With an
    ``rng`` the same order and split are kept but the remainder is spread at random: the
    group gets ``q + 1`` with probability ``(r % g) / g``, i.e. the ``r % g`` extra examples
    go to ``r % g`` of the ``g`` remaining groups drawn uniformly without replacement, so
    no position in the visit order is favoured.

    Returns ``(visit_order, quotas)``: the group indices in visiting order and, aligned with
    ``sizes``, how many examples each group contributes.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    order = size_order(sizes, ties)
    quotas = np.zeros(len(sizes), dtype=np.int64)
    remaining = int(budget)
    for i, g in enumerate(order):
        left = len(order) - i
        q, extra = divmod(remaining, left)
        if rng is not None and extra and rng.random() * left < extra:
            q += 1
        take = min(int(sizes[g]), q)
        quotas[g] = take
        remaining -= take
    return order, quotas


def proportional_split(
    sizes: np.ndarray, budget: int, next_scores: Sequence[np.ndarray] | None = None
) -> np.ndarray:
    """Split ``budget`` over groups proportionally to their sizes, exactly (largest remainder).

    Each group gets ``floor(budget * size / N)`` (at most its size); the examples left over
    go one each to the groups with room and the largest fractional remainders. Ties: with
    ``next_scores`` (per group, its scores in selection order) the group whose next example
    (``next_scores[g][quota_g]``) has the lower score (NaN last), then the lower group index.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros_like(sizes)
    exact = sizes.astype(np.float64) * int(budget) / total
    quotas = np.minimum(np.floor(exact).astype(np.int64), sizes)
    left = int(budget) - int(quotas.sum())
    if left > 0:
        open_ = np.flatnonzero(quotas < sizes)
        rema = (exact - quotas)[open_]
        if next_scores is None:
            order = np.lexsort((open_, -rema))
        else:
            nxt = np.asarray([float(next_scores[c][quotas[c]]) for c in open_], np.float64)
            nan = np.isnan(nxt)
            order = np.lexsort((open_, np.where(nan, 0.0, nxt), nan, -rema))
        quotas[open_[order[:left]]] += 1
    return quotas


def share_split(sizes: np.ndarray, shares: np.ndarray, budget: int) -> np.ndarray:
    """Split ``budget`` over groups by ``shares`` (non-negative, any positive total), exactly.

    Each group gets ``budget * share / sum(shares)`` rounded by the largest remainder (ties:
    the lower group index), at most its size. A group smaller than its share is taken whole
    and what it cannot take is spread over the groups that still have room, in proportion to
    their shares (repeated until every share fits); groups with share 0 get nothing. A
    ``ValueError`` when the groups with a positive share hold fewer than ``budget`` rows.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    shares = np.asarray(shares, dtype=np.float64)
    budget = int(budget)
    room = int(sizes[shares > 0].sum())
    if budget > room:
        raise ValueError(
            f"the groups with a positive share hold {room} rows, fewer than the budget of "
            f"{budget}: give a share to more groups, or lower the budget"
        )
    quotas = np.zeros(len(sizes), dtype=np.int64)
    active = shares > 0
    left = budget
    while True:
        w = np.where(active, shares, 0.0)
        exact = left * w / w.sum() if left and w.sum() > 0 else np.zeros(len(sizes))
        exact = np.round(exact, 9)  # 3 * (1/3) is 1, not 0.999...: float noise is no share
        whole = active & (exact >= sizes)  # smaller than (or exactly) its share: taken whole
        if not whole.any():
            break
        quotas[whole] = sizes[whole]
        left -= int(sizes[whole].sum())
        active &= ~whole
    if left > 0:
        part = np.floor(exact).astype(np.int64)
        quotas[active] = part[active]
        extra = left - int(part[active].sum())
        open_ = np.flatnonzero(active)
        order = np.lexsort((open_, -(exact - part)[open_]))
        quotas[open_[order[:extra]]] += 1
    return quotas


def exact_cluster_quotas(
    sizes: np.ndarray, budget: int, next_scores: Sequence[np.ndarray]
) -> np.ndarray:
    """LP's ``cluster_sizes="exact"``: :func:`proportional_split` with the next-score tie."""
    return proportional_split(sizes, budget, next_scores)


def official_split_count(percentage: int) -> int:
    """``round(100 / percentage)``: the number of chunks ``subset.py`` splits a cluster into."""
    return max(1, round(100 / int(percentage)))


def official_cluster_quotas(sizes: np.ndarray, percentage: int) -> np.ndarray:
    """Per-cluster counts of ``subset.py``: ``len(np.array_split(c, round(100/p))[0])``."""
    k = official_split_count(percentage)
    sizes = np.asarray(sizes, dtype=np.int64)
    return np.asarray([math.ceil(int(s) / k) for s in sizes], dtype=np.int64)
