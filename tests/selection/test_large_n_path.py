"""The memory-bounded path (100M rows) selects exactly what the dense path selects."""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.selection import context, kmeans, select
from hf_s2l.selection.context import TrajectoryRows

from .conftest import build_store


@pytest.mark.parametrize("by_column", [None, "source"])
def test_chunked_s2l_equals_dense(tmp_path, monkeypatch, by_column):
    rng = np.random.default_rng(0)
    x = rng.random((3000, 4)) + np.repeat(np.arange(6), 500)[:, None]
    x[[5, 700]] = np.nan  # unscored rows go through the row subset of the context
    store = build_store(tmp_path / "s", x)
    store.set_metadata("source", np.array(["a", "b", "c"])[rng.integers(0, 3, 3000)])
    kw = {"num_clusters": 6, "max_points_per_centroid": 64}  # 384 < N: faiss subsamples
    dense = select(store, "s2l", 500, seed=3, by_column=by_column, **kw)
    monkeypatch.setattr(context, "DENSE_MAX_CELLS", 10)  # force the memory-map path
    monkeypatch.setattr(kmeans, "ASSIGN_CHUNK_ROWS", 257)
    chunked = select(store, "s2l", 500, seed=3, by_column=by_column, **kw)
    np.testing.assert_array_equal(dense.indices, chunked.indices)
    strip = ("kmeans_seconds",)
    assert _strip(dense.stats, strip) == _strip(chunked.stats, strip)
    assert not {5, 700} & set(chunked.indices.tolist())


def test_kmeans_on_a_memory_map_equals_faiss_on_all_rows(tmp_path, monkeypatch):
    import faiss

    x = np.random.default_rng(1).random((5000, 3)).astype(np.float32)
    store = build_store(tmp_path / "k", x)
    monkeypatch.setattr(kmeans, "ASSIGN_CHUNK_ROWS", 999)
    src = TrajectoryRows(store, np.arange(3), None, zero_nonfinite=False)
    res = kmeans.faiss_kmeans(src, 5, seed=7, max_points_per_centroid=100)
    ref = faiss.Kmeans(3, 5, niter=20, seed=7, max_points_per_centroid=100, verbose=False)
    ref.train(x)  # faiss subsamples 500 of the 5000 rows itself
    np.testing.assert_array_equal(res.centroids, ref.centroids)
    np.testing.assert_array_equal(res.labels, ref.index.search(x, 1)[1][:, 0])


def _strip(obj, keys):
    if isinstance(obj, dict):
        return {k: _strip(v, keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [_strip(v, keys) for v in obj]
    return obj
