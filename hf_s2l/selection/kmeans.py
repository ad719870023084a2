"""Faiss k-means as the official S2L code runs it, plus chunked assignment for huge N."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from transformers.utils import logging

logger = logging.get_logger(__name__)

ASSIGN_CHUNK_ROWS = 1 << 20


@dataclass
class KMeansResult:
    labels: np.ndarray  # int64 cluster id of every row
    centroids: np.ndarray  # float32 K x d
    num_clusters: int  # K actually used (may be < the K asked for)


def faiss_kmeans(
    x: np.ndarray,
    num_clusters: int,
    *,
    niter: int = 20,
    seed: int = 0,
    max_points_per_centroid: int = 256,
    spherical: bool = False,
    what: str = "k-means",
) -> KMeansResult:
    """Euclidean k-means with ``faiss.Kmeans(d, K, niter=niter)`` then nearest-centroid labels.

    Like the official S2L code (``schedules/s2l.py``, ``faiss_kmeans_selection``): faiss
    trains on at most ``max_points_per_centroid * K`` rows sampled by faiss (its default,
    256), then every row is assigned to its nearest centroid; the assignment runs in chunks
    of ``2**20`` rows so that N = 10M never needs a second N-sized float buffer. ``seed``
    is faiss' clustering seed (the official code leaves faiss' default, 1234). If
    ``K > N`` the number of clusters is lowered to ``N`` with a warning.
    """
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    if n == 0:
        raise ValueError(f"cannot run {what} on 0 rows")
    k = int(num_clusters)
    if k < 1:
        raise ValueError(f"number of clusters must be >= 1, got {k}")
    if k > n:
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
    km.train(x)
    labels = np.empty(n, dtype=np.int64)
    for start in range(0, n, ASSIGN_CHUNK_ROWS):
        stop = min(n, start + ASSIGN_CHUNK_ROWS)
        _, idx = km.index.search(x[start:stop], 1)
        labels[start:stop] = idx[:, 0]
    return KMeansResult(labels=labels, centroids=np.asarray(km.centroids), num_clusters=k)
