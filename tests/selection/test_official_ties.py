"""``official=True`` is exact on the same machine, ties included (issue 28, item 2).

The official code orders equal sizes and equal scores with numpy's / pandas' default
(unstable) sort; on numpy 2.x with vectorised sorting that is not the index order. Each test
runs a transcription of the official calls on stores with tied cluster sizes, tied source
sizes and tied LP values, and compares it with ``select(..., official=True)`` on this
machine's numpy and pandas.

Transcribed from:
* BigML-CS-UCLA/S2L, ``schedules/s2l.py`` at commit 2bc84dd (``S2L.initialize_labeled_data``
  and ``S2L.faiss_kmeans_selection``; ``np.random`` replaced by a seeded generator), Apache-2.0:
  the transcription shared with ``test_s2l.py``, ``_official_s2l.official_query``, called here
  with ``kind=None``, i.e. the official ``np.argsort(counts)`` (numpy's default kind);
* dheeraj7596/Small2Large, ``subset.py`` at commit 9f4867e (the per-cluster
  ``sort_values(by=["LP1"])`` loop and ``np.array_split(..., round(100 / p))[0]``), below.
"""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.selection import select
from hf_s2l.selection._common import sort_values_order
from hf_s2l.selection.methods.learning_percentage import lp_scores
from hf_s2l.selection.quota import even_split_smallest_first, size_order

from ._official_s2l import official_query
from .conftest import blob_losses, build_store


# --- the official calls, verbatim --------------------------------------------------------
def official_subset_lp1(lp1, cluster_num, percentage):
    """``subset.py``'s ``low_l1``: per cluster ``sort_values(by=["LP1"])``, first chunk."""
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame.from_dict(
        {"index": list(range(len(lp1))), "cluster_num": list(cluster_num), "LP1": list(lp1)}
    )
    low_l1 = []
    for cluster in range(df["cluster_num"].max() + 1):
        filter_clust = df[df["cluster_num"] == cluster]
        sort_L1 = filter_clust.sort_values(by=["LP1"]).reset_index(drop=True)  # noqa: N806
        indexes_L1 = sort_L1["index"].tolist()  # noqa: N806
        low_l1.extend(np.array_split(indexes_L1, round(100 / percentage))[0])
    return np.asarray(low_l1, dtype=np.int64)


def _ties_reorder(sizes) -> bool:
    """Whether this machine's numpy orders the ties of ``sizes`` other than by index."""
    sizes = np.asarray(sizes, dtype=np.int64)
    return not np.array_equal(np.argsort(sizes), np.argsort(sizes, kind="stable"))


# --- the sort calls themselves -----------------------------------------------------------
def test_the_issue_example_both_ways():
    """Sizes [6, 6, 3, 3] at budget 7: index ties give [2, 2, 1, 2]; the official argsort
    gives [2, 2, 2, 1] where numpy reorders the ties (numpy 2.4, AVX-512)."""
    sizes = np.array([6, 6, 3, 3])
    assert even_split_smallest_first(sizes, 7)[1].tolist() == [2, 2, 1, 2]
    order, quotas = even_split_smallest_first(sizes, 7, ties="official")
    assert order.tolist() == np.argsort(sizes).tolist()
    if np.argsort(sizes).tolist() == [3, 2, 1, 0]:
        assert quotas.tolist() == [2, 2, 2, 1]
    assert size_order(sizes, "official").tolist() == np.argsort(sizes).tolist()
    with pytest.raises(ValueError, match="ties must be one of"):
        size_order(sizes, "numpy")


def test_sort_values_order_is_pandas_sort_values():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    cases = [np.zeros(0), np.array([np.nan]), np.array([1.0, np.nan, 1.0, 0.0])]
    for n in (2, 5, 8, 16, 17, 40, 100, 300):
        for levels in (1, 2, 3, 7):
            x = rng.integers(0, levels, n).astype(np.float64) / 3
            x[rng.random(n) < 0.1] = np.nan
            cases.append(x)
    for x in cases:
        want = pd.DataFrame({"v": x}).sort_values(by=["v"]).index.to_numpy()
        np.testing.assert_array_equal(sort_values_order(x), want)


# --- S2L: tied cluster sizes and tied source sizes ----------------------------------------
def _tied_store(tmp_path, seed):
    """4 sources of sizes 30, 30, 12, 12; clusters of equal sizes (5 or 4) inside each."""
    rng = np.random.default_rng(seed)
    sizes = {"a": 30, "b": 30, "c": 12, "d": 12}
    sources = np.repeat(np.array(list(sizes)), list(sizes.values()))
    labels = np.concatenate(
        [np.repeat(np.arange(s // 5 if s > 12 else 3), 5 if s > 12 else 4) for s in sizes.values()]
    )
    perm = rng.permutation(len(sources))
    store = build_store(tmp_path / f"t{seed}", rng.random((len(sources), 4)))
    store.set_metadata("source", sources[perm])
    return store, sources[perm], labels[perm]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_s2l_official_equals_the_official_calls_on_given_tied_clusters(tmp_path, seed):
    store, sources, labels = _tied_store(tmp_path, seed)
    differs = 0
    for budget in (7, 13, 25, 41, 60):
        sel = select(
            store, "s2l", budget, seed=seed, by_column="source", clusters=labels, official=True
        )
        # kind=None: the official np.argsort(counts), numpy's default (unstable) kind
        ref = official_query(sources, labels, budget, np.random.default_rng(seed), kind=None)
        np.testing.assert_array_equal(sel.indices, np.sort(ref))
        plain = select(
            store,
            "s2l",
            budget,
            seed=seed,
            by_column="source",
            clusters=labels,
            group_remainder="last",
            unscored="zero",
        )
        differs += plain.indices.tolist() != sel.indices.tolist()
    assert sel.provenance["official_choices"]["ties"] == "official"
    if _ties_reorder([30, 30, 12, 12]) or _ties_reorder([5] * 6):
        assert differs  # the index order (the default) is another selection here


@pytest.mark.parametrize("seed", [0, 1])
def test_s2l_official_equals_the_official_pipeline_with_faiss_and_tied_sizes(tmp_path, seed):
    """k-means per source finds blobs of equal size: tied cluster and source sizes."""
    parts = [blob_losses([6, 6, 6, 6], dims=4, seed=s) for s in range(2)]
    parts += [blob_losses([4, 4, 4], dims=4, seed=5 + s) for s in range(2)]
    x = np.concatenate(parts)
    sources = np.repeat(np.array(["a", "b", "c", "d"]), [len(p) for p in parts])
    perm = np.random.default_rng(seed).permutation(len(x))
    x, sources = x[perm], sources[perm]
    store = build_store(tmp_path / "f", x)
    store.set_metadata("source", sources)
    for budget in (9, 22, 35):
        sel = select(
            store, "s2l", budget, seed=seed, by_column="source", num_clusters=3, official=True
        )
        ref = official_query(  # the official np.argsort(counts): kind=None
            sources, None, budget, np.random.default_rng(seed), losses=x, n_components=3, kind=None
        )
        np.testing.assert_array_equal(sel.indices, np.sort(ref))


def test_official_raises_where_the_official_code_raises(tmp_path):
    """A group with fewer rows than K (and more than its share): faiss raises in the
    official code; official=True raises too, the default lowers K."""
    x = np.random.default_rng(0).random((40, 4))
    sources = np.array(["big"] * 34 + ["small"] * 6)
    store = build_store(tmp_path / "k", x)
    store.set_metadata("source", sources)
    with pytest.raises(RuntimeError, match="at least as large as number of clusters"):
        official_query(
            sources, None, 10, np.random.default_rng(0), losses=x, n_components=8, kind=None
        )
    with pytest.raises(ValueError, match=r"6 rows .* num_clusters=8: the official code raises"):
        select(store, "s2l", 10, by_column="source", num_clusters=8, official=True)
    sel = select(store, "s2l", 10, by_column="source", num_clusters=8)
    assert "K was capped" in sel.stats["warnings"][0]["message"]
    # a group taken whole is never clustered, officially or here
    ok = select(store, "s2l", 20, by_column="source", num_clusters=8, official=True)
    assert ok.stats["groups"]["counts"]["small"]["selected"] == 6


# --- Learning Percentage: tied LP values ----------------------------------------------------
def _lp_store(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = 120
    grid = np.log(np.array([2.0, 3.0, 5.0, 8.0]))  # few distinct losses: many equal LP values
    losses = grid[rng.integers(0, 4, size=(n, 4))]
    losses[:, 0] = np.maximum(losses[:, 0], losses[:, 3])  # P0 >= Pn
    losses[rng.random(n) < 0.05] = np.nan  # no target token: LP 0 officially (unscored=zero)
    sched = [(0, 0.0, "train_begin"), (10, 1.0, "epoch_end"), (20, 2.0, "epoch_end")]
    sched += [(30, 3.0, "epoch_end")]
    store = build_store(tmp_path / f"lp{seed}", losses, sched)
    clusters = rng.integers(0, 6, n)
    return store, losses, clusters


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("percentage", [10, 25, 33])
def test_lp_official_equals_subset_py_on_tied_lp_values(tmp_path, seed, percentage):
    store, losses, clusters = _lp_store(tmp_path, seed)
    # dump_pplxs.py: a row without target tokens has loss 0, perplexity 1
    ppl = np.exp(np.nan_to_num(losses.astype(np.float32).astype(np.float64), nan=0.0))
    pre, p1, p3 = ppl[:, 0].tolist(), ppl[:, 1].tolist(), ppl[:, 3].tolist()
    lp1 = [(pre[i] - p1[i]) / (pre[i] - p3[i]) if pre[i] - p3[i] != 0 else 0 for i in range(120)]
    ours = lp_scores(*(np.log(ppl[:, c]) for c in (0, 1, 3)))
    assert np.array_equal(ours, np.asarray(lp1))  # the very values the library ranks
    assert len(set(lp1)) < 40  # many ties
    ref = official_subset_lp1(lp1, clusters, percentage)
    sel = select(
        store, "lp", percentage / 100, official=True, percentage=percentage, clusters=clusters
    )
    np.testing.assert_array_equal(sel.indices, np.sort(ref))
    assert sel.provenance["official_choices"]["ties"] == "official"
