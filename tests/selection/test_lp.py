"""Learning Percentage on a store with known perplexities (GOLDEN_PPL in conftest)."""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.selection import select
from hf_s2l.selection.learning_percentage import find_lp_columns, lp_scores

from .conftest import GOLDEN_PPL, GOLDEN_SCHEDULE, build_store

# By hand from GOLDEN_PPL (P0, P1, -, P2), LP(1) = (P0 - P1) / (P0 - P2):
#   0: 4/6   1: 1/6   2: 0 (P0 = P2)   3: 8/8   4: 1/3   5: -2/2   6: 3/6   7: 3/8
#   8: 4/4   9: 0.4/0.9
LP1 = [4 / 6, 1 / 6, 0.0, 1.0, 1 / 3, -1.0, 0.5, 3 / 8, 1.0, 0.4 / 0.9]
# LP_app = (P0 - P1) / P0:
LP_APP = [0.5, 1 / 8, 0.0, 0.8, 1 / 6, -0.5, 1 / 3, 0.25, 4 / 7, 0.2]


def test_scores_by_hand(golden_store):
    cols = find_lp_columns(golden_store, "lp1")
    assert (cols["p0"], cols["p1"], cols["pn"]) == (0, 1, 3)
    ll = np.log(GOLDEN_PPL)
    np.testing.assert_allclose(lp_scores(ll[:, 0], ll[:, 1], ll[:, 3]), LP1, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(lp_scores(ll[:, 0], ll[:, 1], None), LP_APP, rtol=1e-6)
    # P0 = Pn exactly -> 0, not a division by zero
    assert lp_scores(np.array([1.0]), np.array([0.5]), np.array([1.0]))[0] == 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_golden_lp1(golden_store, seed):
    # ascending LP(1): 5 (-1), 2 (0), 1 (1/6), 4 (1/3), 7 (3/8), 9, 6, 0, 3 (1), 8 (1)
    assert select(golden_store, "lp", 5, seed=seed).indices.tolist() == [1, 2, 4, 5, 7]
    assert select(golden_store, "lp", 9, seed=seed).indices.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 9]


@pytest.mark.parametrize("seed", [0, 1])
def test_golden_lp_app(golden_store, seed):
    # ascending LP_app: 5, 2, 1, 4 (1/6), 9 (0.2), 7 (0.25), 6, 0, 8, 3
    sel = select(golden_store, "lp", 5, seed=seed, variant="lp_app")
    assert sel.indices.tolist() == [1, 2, 4, 5, 9]
    assert sel.example_ids.tolist() == ["ex1", "ex2", "ex4", "ex5", "ex9"]


def test_lp_stratified_by_given_clusters(golden_store):
    clusters = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    # budget 4 -> 2 per cluster; cluster 0 lowest LP(1): 2 (0), 1 (1/6); cluster 1: 5, 7
    sel = select(golden_store, "lp", 4, clusters=clusters)
    assert sel.indices.tolist() == [1, 2, 5, 7]
    assert sel.stats["cluster_selected"] == [2, 2]
    # budget 5 -> 2.5 each: the tie in remainders goes to the lower cluster id
    sel = select(golden_store, "lp", 5, clusters=clusters)
    assert sel.indices.tolist() == [1, 2, 4, 5, 7]


def test_lp_stratified_by_embeddings(golden_store):
    emb = np.zeros((10, 2), dtype=np.float32)
    emb[5:, 0] = 100.0  # two obvious clusters: rows 0-4, 5-9
    emb += np.random.default_rng(0).normal(scale=0.01, size=emb.shape).astype(np.float32)
    sel = select(golden_store, "lp", 4, embeddings=emb, num_clusters=2)
    assert sel.indices.tolist() == [1, 2, 5, 7]
    assert "embeddings" in sel.provenance and sel.provenance["embeddings"]["array"] == [10, 2]


def test_missing_columns_are_named(tmp_path):
    x = np.log(GOLDEN_PPL)
    no_p0 = build_store(
        tmp_path / "a",
        x,
        [(5, 0.5, "point"), (10, 1.0, "epoch_end"), (15, 1.5, "point"), (20, 2.0, "epoch_end")],
    )
    with pytest.raises(ValueError, match="before-training column.*train_begin"):
        select(no_p0, "lp", 3)
    one_epoch = build_store(
        tmp_path / "b",
        x[:, :3],
        [(0, 0.0, "train_begin"), (10, 1.0, "epoch_end"), (15, 1.5, "point")],
    )
    with pytest.raises(ValueError, match="2 complete epoch-end column.*lp_app"):
        select(one_epoch, "lp", 3)
    assert len(select(one_epoch, "lp", 3, variant="lp_app")) == 3
    no_ends = build_store(
        tmp_path / "c", x[:, :3], [(0, 0.0, "train_begin"), (10, 1.0, "point"), (15, 1.5, "point")]
    )
    with pytest.raises(ValueError, match="epoch-end"):
        select(no_ends, "lp", 3, variant="lp_app")
    # an incomplete epoch-end column does not count
    partial = build_store(
        tmp_path / "d",
        x,
        [
            (0, 0.0, "train_begin"),
            (10, 1.0, "epoch_end"),
            (15, 1.5, "point"),
            (20, 2.0, "epoch_end"),
        ],
        complete=[0, 1, 2],
    )
    with pytest.raises(ValueError, match=r"found 1.*incomplete"):
        select(partial, "lp", 3)


def test_lp_last_epoch_and_nan(tmp_path):
    x = np.log(GOLDEN_PPL).copy()
    x[3, 1] = np.nan
    store = build_store(
        tmp_path / "n",
        x,
        [
            (0, 0.0, "train_begin"),
            (10, 1.0, "epoch_end"),
            (15, 1.5, "point"),
            (20, 2.0, "epoch_end"),
        ],
    )
    sel = select(store, "lp", 9)
    assert 3 not in sel.indices.tolist()  # NaN LP ranks last
    assert sel.stats["num_nan_rows"] == 1
    with pytest.raises(ValueError, match="last_epoch"):
        select(store, "lp", 3, last_epoch=5)


def test_lp_finds_joined_kinds_as_the_recorder_writes_them(tmp_path, golden_store):
    """The callback joins the kinds of one step (``point+epoch_end``); LP must still find them."""
    joined = [(s, e, {"epoch_end": "point+epoch_end"}.get(k, k)) for s, e, k in GOLDEN_SCHEDULE]
    store = build_store(tmp_path / "joined", np.log(GOLDEN_PPL), joined)
    a = select(store, "lp", 3, seed=0)
    b = select(golden_store, "lp", 3, seed=0)
    assert a.indices.tolist() == b.indices.tolist()
    assert (
        store.columns_of_kind("epoch_end").tolist()
        == golden_store.columns_of_kind("epoch_end").tolist()
    )
