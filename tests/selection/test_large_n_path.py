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


@pytest.mark.parametrize("descending", [False, True])
def test_ranking_without_sorting_equals_lexsort(monkeypatch, descending):
    from hf_s2l.selection import _common

    rng = np.random.default_rng(2)
    s = np.round(rng.normal(size=5000), 1)  # many ties
    s[[3, 17, 400]] = np.nan
    s[[5, 6]] = np.inf
    s[[7, 8]] = -np.inf
    s[9] = -0.0
    dense = {k: _common.top_k_by_score(s, k, descending=descending) for k in (1, 37, 2500, 4999)}
    med = _common.nan_median(s[np.isfinite(s)])
    monkeypatch.setattr(_common, "DENSE_RANK_MAX", 10)
    for k, ref in dense.items():
        np.testing.assert_array_equal(_common.top_k_by_score(s, k, descending=descending), ref)
    assert _common.nan_median(s[np.isfinite(s)]) == med
    assert _common.nan_median(s[np.isfinite(s)][:-1]) == np.median(s[np.isfinite(s)][:-1])


@pytest.mark.parametrize("method", ["lp", "middle_perplexity", "least_confidence", "random"])
def test_score_methods_chunked_equal_dense(tmp_path, monkeypatch, method):
    from hf_s2l.selection import _common

    rng = np.random.default_rng(4)
    x = np.log(rng.uniform(2, 12, size=(3000, 4)))
    x[:, 1:] = x[:, :1] - np.round(np.cumsum(rng.uniform(0, 0.4, size=(3000, 3)), axis=1), 2)
    sched = [(0, 0.0, "train_begin"), (10, 1.0, "epoch_end"), (15, 1.5, "point")]
    store = build_store(tmp_path / "s", x, [*sched, (20, 2.0, "epoch_end")])
    dense = select(store, method, 900, seed=1)
    monkeypatch.setattr(_common, "DENSE_RANK_MAX", 10)
    monkeypatch.setattr(context, "CHUNK_ROWS", 333)
    chunked = select(store, method, 900, seed=1)
    np.testing.assert_array_equal(dense.indices, chunked.indices)


@pytest.mark.parametrize("bracket", [True, False])
def test_kth_best_exact(monkeypatch, bracket):
    from hf_s2l.selection import _common

    if not bracket:  # the bisection fallback alone
        monkeypatch.setattr(_common, "_bracketed", lambda *a: None)
    rng = np.random.default_rng(9)
    s = np.concatenate([rng.normal(size=3000), np.round(rng.exponential(size=3000), 2)])
    s[[1, 2]] = np.nan
    s[[3, 4, 5]] = [np.inf, -np.inf, -0.0]
    v = np.sort(s[~np.isnan(s)])
    for k in (1, 2, 7, 1500, 3001, 5990, len(v)):
        assert _common.kth_best(s, k, descending=False) == v[k - 1]
        assert _common.kth_best(s, k, descending=True) == v[::-1][k - 1]
