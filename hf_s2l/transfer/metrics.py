"""The transfer figures: rank agreement, variance between S2L clusters, LP overlap."""

from __future__ import annotations

import numpy as np


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 with ties averaged (as ``scipy.stats.rankdata`` minus one)."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    ranks = np.empty(len(x), dtype=np.float64)
    # runs of equal values share the mean of their positions
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], len(x)]
    mean_pos = (starts + ends - 1) / 2.0
    ranks[order] = np.repeat(mean_pos, ends - starts)
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of ``a`` and ``b`` (NaN if either is constant)."""
    ra, rb = rankdata(a), rankdata(b)
    ra -= ra.mean()
    rb -= rb.mean()
    den = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def between_share(y: np.ndarray, labels: np.ndarray) -> float:
    """Between-cluster sum of squares of the rows of ``y`` over their total sum of squares.

    ``y`` is ``n x d`` (one trajectory per row), ``labels`` the cluster of each row. 1.0:
    each cluster's trajectories coincide; near ``(K - 1) / (n - 1)``: clusters unrelated
    to ``y``. NaN when ``y`` has no variance.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    codes = codes.ravel()
    mean = y.mean(axis=0)
    total = float(((y - mean) ** 2).sum())
    if total <= 0:
        return float("nan")
    counts = np.bincount(codes).astype(np.float64)
    sums = np.stack([np.bincount(codes, weights=y[:, j]) for j in range(y.shape[1])], axis=1)
    centers = sums / counts[:, None]
    between = float((counts[:, None] * (centers - mean) ** 2).sum())
    return between / total


def random_between_share(
    y: np.ndarray, labels: np.ndarray, n_random: int, rng: np.random.Generator
) -> np.ndarray:
    """:func:`between_share` for ``n_random`` random partitions with the same cluster sizes."""
    labels = np.asarray(labels)
    return np.array([between_share(y, rng.permutation(labels)) for _ in range(int(n_random))])


def lowest_fraction(scores: np.ndarray, fraction: float) -> set[int]:
    """Row positions of the ``fraction`` lowest scores (NaN last; ties by position)."""
    s = np.asarray(scores, dtype=np.float64)
    m = int(round(float(fraction) * len(s)))
    key = np.where(np.isnan(s), np.inf, s)
    return set(np.argsort(key, kind="stable")[:m].tolist())


def jaccard(a: set[int], b: set[int]) -> float:
    """``|a & b| / |a | b|`` (1.0 for two empty sets)."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0
