"""S2L: cross-check against a straightforward transcription of the official algorithm
(``_official_s2l.py``, index-order ties), goldens."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from hf_s2l.selection import select
from hf_s2l.selection.kmeans import faiss_kmeans
from hf_s2l.selection.methods.s2l import sample_from_clusters

from ._official_s2l import official_kmeans_sampling, official_query
from .conftest import blob_losses, build_store


def _labels(seed: int, n: int = 240) -> np.ndarray:
    rng = np.random.default_rng(100 + seed)
    sizes = [1, 1, 2, 2, 3, 5, 8, 13, 30, 40, 60]
    sizes[-1] += n - sum(sizes)
    lab = np.repeat(np.arange(len(sizes)) * 7 % 11, sizes)  # cluster ids not in size order
    return rng.permutation(lab)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("budget", [1, 7, 50, 120, 232, 236, 239, 240])
def test_sampling_matches_official(seed, budget):
    labels = _labels(seed)
    ours, stats = sample_from_clusters(labels, budget, np.random.default_rng(seed))
    ref = official_kmeans_sampling(labels, budget, np.random.default_rng(seed))
    np.testing.assert_array_equal(ours, ref)  # same draws, same order
    assert len(np.unique(ours)) == budget
    per_cluster = {c["cluster"]: c["selected"] for c in stats["clusters"]}
    ref_counts = dict(zip(*np.unique(labels[ref], return_counts=True)))
    assert {k: v for k, v in per_cluster.items() if v} == {
        int(k): int(v) for k, v in ref_counts.items()
    }


@pytest.mark.parametrize("seed", [0, 3])
def test_select_with_sources_matches_official(tmp_path, seed):
    n = 240
    labels = _labels(seed, n)
    rng = np.random.default_rng(seed + 50)
    sources = rng.choice(np.array(["gsm", "math", "aqua", "tiny"]), n, p=[0.5, 0.3, 0.18, 0.02])
    store = build_store(tmp_path / "s", rng.random((n, 3)))
    store.set_metadata("source", sources)
    for budget in (10, 100, 200):
        sel = select(
            store,
            "s2l",
            budget,
            seed=seed,
            by_column="source",
            clusters=labels,
            group_remainder="last",  # the official split: the remainder rolls over
        )
        ref = official_query(sources, labels, budget, np.random.default_rng(seed))
        np.testing.assert_array_equal(sel.indices, np.sort(ref))
        counts = sel.stats["groups"]["counts"]
        assert sum(c["selected"] for c in counts.values()) == budget
        assert sel.stats["groups"]["visit_order"][0] == "tiny"


def test_official_options_reproduce_the_official_pipeline(tmp_path):
    """k-means per source + sampling, official options: equal to the transcription."""
    rng = np.random.default_rng(5)
    parts = [blob_losses([3, 8, 20, 40], dims=4, seed=s) for s in range(3)]
    x = np.concatenate(parts)
    x[[2, 50]] = np.nan  # unscored rows: the official code sets them to 0
    n = len(x)
    sources = np.repeat(np.array(["a", "b", "c"]), [len(p) for p in parts])
    sources = sources[rng.permutation(n)]
    step0 = rng.normal(size=(n, 1))  # never a feature of the official trajectories
    store = build_store(
        tmp_path / "o", np.hstack([step0, x]), [(0, 0.0, "train_begin")] + [(10, 1.0, "point")] * 4
    )
    store.set_metadata("source", sources)
    for budget in (15, 60):
        sel = select(
            store,
            "s2l",
            budget,
            seed=1234,  # faiss' default seed, as the official code leaves it
            by_column="source",
            num_clusters=4,
            unscored="zero",
            group_remainder="last",
        )
        ref = official_query(
            sources,
            None,
            budget,
            np.random.default_rng(1234),
            losses=np.nan_to_num(x, nan=0.0),
            n_components=4,
        )
        np.testing.assert_array_equal(sel.indices, np.sort(ref))
        # any sampling seed, with faiss' seed pinned to the official default
        sel = select(
            store,
            "s2l",
            budget,
            seed=7,
            by_column="source",
            num_clusters=4,
            kmeans_seed=1234,
            unscored="zero",
            group_remainder="last",
        )
        ref = official_query(
            sources,
            None,
            budget,
            np.random.default_rng(7),
            losses=np.nan_to_num(x, nan=0.0),
            n_components=4,
        )
        np.testing.assert_array_equal(sel.indices, np.sort(ref))


def test_kmeans_path_equals_sampling_of_faiss_labels(tmp_path):
    x = blob_losses([3, 6, 9, 12], dims=5, seed=1)
    store = build_store(tmp_path / "b", x)
    sel = select(store, "s2l", 10, seed=4, num_clusters=4)
    labels = faiss_kmeans(x, 4, niter=20, seed=4).labels
    ref = official_kmeans_sampling(labels, 10, np.random.default_rng(4))
    np.testing.assert_array_equal(sel.indices, np.sort(ref))
    assert sel.stats["num_clusters_used"] == 4


# --- goldens ---------------------------------------------------------------------------------
GIVEN = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4])  # sizes 4, 3, 2, 6, 1
# Frozen from the official transcription (_official_s2l.py, index-order ties). Budget 7: clusters > 2 by size: 1 (3 rows)
# gets 7 // 3 = 2, 0 (4 rows) gets 5 // 2 = 2, 3 (6 rows) gets 3; clusters 2 and 4 nothing.
GOLDEN_GIVEN = {
    0: [0, 1, 5, 6, 9, 10, 13],
    1: [0, 2, 4, 5, 10, 12, 13],
    2: [0, 1, 4, 5, 9, 10, 11],
}
# Budget 15: the 13 rows of the big clusters, then 2 of the 3 rows {7, 8, 15} of the small ones.
GOLDEN_GIVEN_ALL_BUT_ONE = {
    0: [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15],
    1: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    2: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_golden_given_clusters(tmp_path, seed):
    store = build_store(tmp_path / "g", np.random.default_rng(0).random((16, 3)))
    sel = select(store, "s2l", 7, seed=seed, clusters=GIVEN)
    assert sel.indices.tolist() == GOLDEN_GIVEN[seed]
    per = {c["cluster"]: c["selected"] for c in sel.stats["clusters"]}
    assert per == {0: 2, 1: 2, 2: 0, 3: 3, 4: 0}
    sel = select(store, "s2l", 15, seed=seed, clusters=GIVEN)
    assert sel.indices.tolist() == GOLDEN_GIVEN_ALL_BUT_ONE[seed]
    assert sel.stats["left_for_small_clusters"] == 2


# Rows 0-1, 2-6, 7-19 form three blobs. Seeds for which faiss' random-init k-means finds
# them (others land in a local minimum, as faiss k-means does); 7 // 2 = 3 rows of the
# 5-blob, the other 4 from the 13-blob, none from the 2-blob.
GOLDEN_BLOBS = {0: [4, 5, 6, 7, 9, 17, 18], 2: [2, 3, 4, 8, 11, 15, 19]}


@pytest.mark.parametrize("seed", [0, 2])
def test_golden_kmeans_blobs(tmp_path, seed):
    x = blob_losses([2, 5, 13], dims=4, seed=0)
    store = build_store(tmp_path / "blobs", x)
    sel = select(store, "s2l", 7, seed=seed, num_clusters=3)
    sizes = sorted(c["size"] for c in sel.stats["clusters"])
    assert sizes == [2, 5, 13]  # k-means recovered the blobs
    assert sel.indices.tolist() == GOLDEN_BLOBS[seed]
    assert not set(sel.indices.tolist()) & {0, 1}  # 7 // 2 = 3 from the 5-blob, 4 from the 13


def test_determinism_and_seed_changes(tmp_path):
    x = np.random.default_rng(3).random((300, 6))
    store = build_store(tmp_path / "d", x)
    a = select(store, "s2l", 0.2, seed=5, num_clusters=10)
    b = select(store, "s2l", 0.2, seed=5, num_clusters=10)
    c = select(store, "s2l", 0.2, seed=6, num_clusters=10)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)
    assert len(a) == 60


def test_k_larger_than_n_degrades_with_warning(tmp_path, caplog):
    store = build_store(tmp_path / "k", np.random.default_rng(0).random((8, 3)))
    with caplog.at_level(logging.WARNING):
        sel = select(store, "s2l", 4, seed=0)  # default K = 100 > 8 rows
    assert caplog.text.count("num_clusters=100 is more than the examples") == 1
    assert sel.stats["num_clusters_used"] == 8 and len(sel) == 4
    assert sel.stats["warnings"][0]["count"] == 1


def test_k_capped_on_small_groups_is_said_once(tmp_path, caplog):
    """13.6: the default 100 clusters capped on small groups: one log line, one stats entry."""
    x = np.random.default_rng(0).random((60, 3))
    store = build_store(tmp_path / "kg", x)
    store.set_metadata("source", np.repeat(np.array(["a", "b", "c"]), [10, 20, 30]))
    with caplog.at_level(logging.WARNING):
        sel = select(store, "s2l", 15, seed=0, by_column="source")
    assert caplog.text.count("num_clusters=100 is more than the examples") == 1
    assert "(3 groups)" in caplog.text
    (warning,) = sel.stats["warnings"]
    assert warning["count"] == 3 and "capped" in warning["message"]
    per = sel.stats["groups"]["per_group"]
    assert [per[g]["num_clusters_used"] for g in "abc"] == [10, 20, 30]


def test_unscored_rows_excluded_by_default_zero_on_request(tmp_path, caplog):
    x = np.random.default_rng(0).random((30, 4)) + 1
    x[[3, 7]] = np.nan
    x[5, 1] = np.nan
    store = build_store(tmp_path / "n", x)
    with caplog.at_level(logging.WARNING):
        sel = select(store, "s2l", 10, seed=0, num_clusters=3)
    assert caplog.text.count("3 of 30 examples are unscored") == 1
    assert sel.stats["unscored"] == {
        "policy": "exclude",
        "columns": [0, 1, 2, 3],
        "rows": 3,
        "selected": 0,
    }
    assert not {3, 5, 7} & set(sel.indices.tolist()) and len(sel) == 10
    # budget beyond the scored rows: every scored row, then the rest among the unscored
    sel = select(store, "s2l", 28, seed=0, num_clusters=3)
    assert sel.stats["unscored"]["selected"] == 1
    assert set(range(30)) - {3, 5, 7} <= set(sel.indices.tolist())
    # the official behaviour: NaN -> 0, the rows compete (and cluster together)
    zero = select(store, "s2l", 10, seed=0, num_clusters=3, unscored="zero")
    ref_x = np.nan_to_num(x.astype(np.float32), nan=0.0)
    labels = faiss_kmeans(ref_x, 3, seed=0).labels
    ref = official_kmeans_sampling(labels, 10, np.random.default_rng(0))
    np.testing.assert_array_equal(zero.indices, np.sort(ref))
    assert zero.stats["unscored"]["policy"] == "zero"


def test_num_loss_ckpts_keeps_every_kth(tmp_path):
    store = build_store(tmp_path / "c", np.random.default_rng(0).random((40, 12)))
    sel = select(store, "s2l", 10, num_clusters=4, num_loss_ckpts=4)
    assert sel.stats["columns"] == [0, 3, 6, 9]
    sel = select(store, "s2l", 10, num_clusters=4, columns=[1, 5, 11])
    assert sel.stats["columns"] == [1, 5, 11]
