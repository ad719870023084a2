"""Faiss k-means as the official S2L code runs it, plus chunked assignment for huge N."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from transformers.utils import logging

from .context import TrajectoryRows

logger = logging.get_logger(__name__)

ASSIGN_CHUNK_ROWS = 1 << 20


@dataclass
class KMeansResult:
    labels: np.ndarray  # cluster id of every row (int16 when K < 32768, else int64)
    centroids: np.ndarray  # float32 K x d
    num_clusters: int  # K actually used (may be < the K asked for)


def faiss_kmeans(
    x: np.ndarray | TrajectoryRows,
    num_clusters: int,
    *,
    niter: int = 20,
    seed: int = 0,
    max_points_per_centroid: int = 256,
    spherical: bool = False,
    what: str = "k-means",
    warn_capped: bool = True,
    rows: np.ndarray | None = None,
) -> KMeansResult:
    """Euclidean k-means with ``faiss.Kmeans(d, K, niter=niter)`` then nearest-centroid labels.

    Like the official S2L code (``schedules/s2l.py``, ``faiss_kmeans_selection``): faiss
    trains on at most ``max_points_per_centroid * K`` rows (its default, 256), then every
    row is assigned to its nearest centroid. ``x`` is a dense array or a
    :class:`~hf_s2l.selection.context.TrajectoryRows` reading a memory map: the training
    sample is drawn here exactly as faiss draws it (``faiss.rand_perm(n, seed)``, first
    ``K * max_points_per_centroid`` rows: bit-identical centroids to passing every row) and
    only those rows are read; the assignment runs in chunks of ``2**20`` rows. So N = 100M
    never needs an N x d copy. ``seed`` is faiss' clustering seed (the official code
    leaves faiss' default, 1234). If ``K > N`` the number of clusters is lowered to ``N``
    (logged unless ``warn_capped=False``; :attr:`KMeansResult.num_clusters` says it).
    Non-finite input raises a ``ValueError``: apply the unscored-row policy
    (:mod:`hf_s2l.selection.unscored`) first. ``rows``: the store rows of ``x``'s rows
    (``MethodContext.rows``), so that such an error names the store's row.
    """
    import faiss

    dense = not isinstance(x, TrajectoryRows)
    if dense:
        x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    if n == 0:
        raise ValueError(f"cannot run {what} on 0 rows")
    k = int(num_clusters)
    if k < 1:
        raise ValueError(f"number of clusters must be >= 1, got {k}")
    if k > n:
        if warn_capped:
            logger.warning(
                "%s: asked for %d clusters but there are only %d rows; using %d clusters",
                what,
                k,
                n,
                n,
            )
        k = n
    km = faiss.Kmeans(
        d,
        k,
        niter=int(niter),
        verbose=False,
        seed=int(seed) % (2**31),
        spherical=spherical,
        max_points_per_centroid=int(max_points_per_centroid),
        min_points_per_centroid=1,  # our own warning above replaces faiss' stderr print
    )
    n_train = k * int(max_points_per_centroid)
    if n > n_train:  # faiss' own subsampling (Clustering::train, subsample_training_set)
        perm = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
        faiss.rand_perm(faiss.swig_ptr(perm), n, int(seed) % (2**31))
        sample = perm[:n_train].astype(np.int64)
        del perm
        train = x[sample] if dense else x.take(sample)
    else:
        train = x if dense else x.take(np.arange(n))
    if rows is None and not dense:
        rows = x.rows
    local = sample if n > n_train else np.arange(n)
    check_faiss_input(train, what, rows=local if rows is None else np.asarray(rows)[local])
    km.train(train)
    del train
    labels = np.empty(n, dtype=np.int16 if k <= np.iinfo(np.int16).max else np.int64)
    chunks = (
        ((s, x[s : s + ASSIGN_CHUNK_ROWS]) for s in range(0, n, ASSIGN_CHUNK_ROWS))
        if dense
        else x.chunks(ASSIGN_CHUNK_ROWS)
    )
    for start, block in chunks:
        check_faiss_input(
            block,
            what,
            first_row=start,
            rows=None if rows is None else np.asarray(rows)[start : start + len(block)],
        )
        _, idx = km.index.search(block, 1)
        labels[start : start + len(block)] = idx[:, 0]
    return KMeansResult(labels=labels, centroids=np.asarray(km.centroids), num_clusters=k)


def faiss_value_limit(d: int) -> float:
    """Largest magnitude :func:`check_faiss_input` lets through for ``d`` features.

    faiss computes squared L2 distances and norms in float32: with every value below this
    limit, ``d * (2 * limit) ** 2`` stays 256x below float32's maximum. For losses the limit
    is ~1e17 or more: only a diverged proxy's values exceed it.
    """
    return math.sqrt(float(np.finfo(np.float32).max) / (4 * max(int(d), 1))) / 16


def check_faiss_input(
    x: np.ndarray, what: str, *, first_row: int = 0, rows: np.ndarray | None = None
) -> None:
    """The one policy applied before every faiss call (k-means, k-NN, the report's plots).

    ``ValueError`` naming the first bad row if ``x`` holds NaN/±inf (apply the unscored-row
    policy first) or a value so large that faiss' float32 distances overflow: faiss would
    then abort the process (SIGABRT) or return garbage. Row numbers are ``first_row +
    i``, or ``rows[i]`` when ``x`` holds those rows of a larger matrix.
    """
    x = np.asarray(x)
    if x.size == 0:
        return
    limit = faiss_value_limit(x.shape[-1] if x.ndim > 1 else 1)
    finite = np.isfinite(x)
    bad = ~finite | (np.abs(np.where(finite, x, 0)) > limit)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad.reshape(len(x), -1).any(axis=1))[0])
    row = int(rows[i]) if rows is not None else first_row + i
    v = x[i][bad[i]].flat[0] if x.ndim > 1 else x[i]
    if not np.isfinite(v):
        raise ValueError(
            f"{what}: row {row} holds a NaN or infinite value ({v}); faiss cannot cluster it "
            "(exclude the unscored rows first, see hf_s2l.selection.unscored)"
        )
    raise ValueError(
        f"{what}: row {row} holds the value {float(v):.3g}, too large for faiss (magnitude "
        f"above {limit:.3g}: its float32 distances overflow and faiss aborts). A loss that "
        "large means the proxy diverged: re-record with a stable proxy, or leave that row "
        "out of the store's selection"
    )
