"""One transcription of the official S2L selection, shared by the S2L tests.

BigML-CS-UCLA/S2L, ``schedules/s2l.py`` at commit 2bc84dd (``S2L.query`` /
``S2L.initialize_labeled_data`` and ``S2L.faiss_kmeans_selection``), Apache-2.0, line by
line but for ``np.random``, replaced by a seeded generator ``rng``.

``kind`` is the sort of the cluster and source sizes, the one place the two uses differ:

* ``kind="stable"`` (the default here): ties in index order, the library's default tie
  order (``test_s2l.py``, the golden cross-checks);
* ``kind=None``: the official call itself, ``np.argsort(counts)`` with numpy's default
  (unstable) kind, whose tie order depends on the machine's numpy
  (``test_official_ties.py``, ``test_faithful_round2.py``: ``select(..., official=True)``).

``benchmarks/faithfulness_s2l.py`` imports :func:`official_query` through ``test_s2l``.
"""

from __future__ import annotations

import numpy as np


def official_kmeans_sampling(I, n, rng, kind="stable"):  # noqa: E741, N803 (the official names)
    """``faiss_kmeans_selection`` after ``kmeans.index.search``: clusters of more than 2 rows,
    smallest first, each an even share of what is left; the rest drawn from the small ones.
    ``kind``: see the module docstring (``None``: the official ``np.argsort(counts)``)."""
    clusters, counts = np.unique(I, return_counts=True)
    sorted_idx = np.argsort(counts, kind=kind)
    sorted_idx = sorted_idx[counts[sorted_idx] > 2]
    sampled_indices = []
    for i in range(len(sorted_idx)):
        n_per_cluster = n // (len(sorted_idx) - i)
        indices = np.where(I == clusters[sorted_idx[i]])[0]
        if len(indices) > n_per_cluster:
            sampled_indices.append(rng.choice(indices, n_per_cluster, replace=False))
            n -= n_per_cluster
        else:
            sampled_indices.append(indices)
            n -= len(indices)
    if n > 0:
        clusters_to_sample = clusters[np.where(counts <= 2)[0]]
        indices = np.where(np.isin(I, clusters_to_sample))[0]
        sampled_indices.append(rng.choice(indices, n, replace=False))
    return np.concatenate(sampled_indices)


def official_faiss_labels(features, n_components):
    """``faiss_kmeans_selection``'s clustering: ``faiss.Kmeans(d, K, niter=20)``, faiss'
    default seed (1234), then ``kmeans.index.search(features, 1)``."""
    import faiss

    features = np.ascontiguousarray(features, dtype=np.float32)
    kmeans = faiss.Kmeans(features.shape[1], n_components, niter=20, verbose=False)
    kmeans.train(features)
    _, I = kmeans.index.search(features, 1)  # noqa: N806, E741 (the official names)
    return I[:, 0]


def official_query(sources, labels, n, rng, losses=None, n_components=None, kind="stable"):
    """``S2L.query`` over all examples (``initialize_labeled_data``): sources smallest first,
    each an even share of what is left. Clusters: ``labels`` (given), or with ``losses`` and
    ``n_components`` a k-means per source, as the official code runs it (``losses`` are
    the trajectories after ``self.losses[torch.isnan(self.losses)] = 0``). ``kind``: see the
    module docstring (``None``: the official ``np.argsort(counts)``)."""
    srcs, counts = np.unique(sources, return_counts=True)
    sorted_idx = np.argsort(counts, kind=kind)
    sampled = []
    for i in range(len(sorted_idx)):
        n_per_source = n // (len(sorted_idx) - i)
        indices = np.where(sources == srcs[sorted_idx[i]])[0]
        if len(indices) > n_per_source:
            if losses is not None:
                lab = official_faiss_labels(losses[indices], n_components)
            else:
                lab = labels[indices]
            new = official_kmeans_sampling(lab, n_per_source, rng, kind)
            sampled.append(indices[new])
            n -= n_per_source
        else:
            sampled.append(indices)
            n -= len(indices)
    return np.concatenate(sampled)
