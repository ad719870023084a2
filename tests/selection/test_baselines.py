"""Goldens of the baselines on the hand-made store (GOLDEN_PPL in conftest)."""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.selection import select
from hf_s2l.selection.methods.facility_location import knn_graph, lazy_greedy_facility_location

from .conftest import GOLDEN_PPL

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_random(golden_store, seed):
    expected = {0: [2, 4, 5, 7], 1: [3, 4, 6, 9], 2: [0, 2, 5, 9]}
    sel = select(golden_store, "random", 4, seed=seed)
    assert sel.indices.tolist() == expected[seed]
    ref = np.sort(np.random.default_rng(seed).choice(10, 4, replace=False))
    assert sel.indices.tolist() == ref.tolist()


@pytest.mark.parametrize("seed", SEEDS)
def test_least_confidence(golden_store, seed):
    # final perplexities: 2:5, 7:4, then 4, 6, 8 at 3 (ties by row), then 0, 1, 3, 5 at 2, 9: 1.1
    assert select(golden_store, "least_confidence", 4, seed=seed).indices.tolist() == [2, 4, 6, 7]
    assert select(golden_store, "least_confidence", 5, seed=seed).indices.tolist() == [
        2,
        4,
        6,
        7,
        8,
    ]
    # at the epoch-1 column: 7 (9), 1 (7), 6 (6) and 5 (6)
    sel = select(golden_store, "least_confidence", 4, seed=seed, column=1)
    assert sel.indices.tolist() == [1, 5, 6, 7]


@pytest.mark.parametrize("seed", SEEDS)
def test_middle_perplexity(golden_store, seed):
    # final perplexities sorted 1.1 2 2 2 2 3 3 3 4 5: median 2.5; the seven at 2 or 3 are
    # 0.5 away, 4 and 2 farther, 9 farthest
    sel = select(golden_store, "middle_perplexity", 7, seed=seed)
    assert sel.indices.tolist() == [0, 1, 3, 4, 5, 6, 8]
    assert sel.stats["median_perplexity"] == pytest.approx(2.5, rel=1e-6)
    # the eighth: 9 (|1.1 - 2.5| = 1.4) before 7 (|4 - 2.5| = 1.5)
    assert select(golden_store, "middle_perplexity", 8, seed=seed).indices.tolist() == [
        0,
        1,
        3,
        4,
        5,
        6,
        8,
        9,
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_high_learnability(golden_store, seed):
    # loss drop log(P0 / P2): 3: log 5, 0 and 1: log 4, 6 and 7: log 3, 8: log 7/3, 4 and 5:
    # log 2, 9: log 1.82, 2: 0
    assert select(golden_store, "high_learnability", 3, seed=seed).indices.tolist() == [0, 1, 3]
    assert select(golden_store, "high_learnability", 5, seed=seed).indices.tolist() == [
        0,
        1,
        3,
        6,
        7,
    ]
    sel = select(golden_store, "high_learnability", 2, seed=seed, early_column=1)  # P1 -> P2
    assert sel.indices.tolist() == [1, 5]  # 7 -> 2 (log 3.5) and 6 -> 2 (log 3)


def _cartography_reference():
    p = 1.0 / GOLDEN_PPL[:, 1:]  # columns after step 0: confidence = exp(-loss) = 1 / P
    return p.mean(axis=1), p.std(axis=1)


@pytest.mark.parametrize("seed", SEEDS)
def test_cartography(golden_store, seed):
    mu, sigma = _cartography_reference()
    # variability (std of 1/P): 1 .163, 5 .150, 9 .120, 0 .104, ...; 2, 3, 8 constant
    expected = {"ambiguous": [1, 5, 9], "easy": [0, 3, 9], "hard": [2, 6, 7]}
    assert sorted(np.argsort(-sigma, kind="stable")[:3].tolist()) == expected["ambiguous"]
    assert sorted(np.argsort(-mu, kind="stable")[:3].tolist()) == expected["easy"]
    assert sorted(np.argsort(mu, kind="stable")[:3].tolist()) == expected["hard"]
    for region, idx in expected.items():
        sel = select(golden_store, "cartography", 3, seed=seed, region=region)
        assert sel.indices.tolist() == idx, region


@pytest.mark.parametrize("seed", SEEDS)
def test_curriculum(golden_store, seed):
    mu, _ = _cartography_reference()
    # confidence mu = mean(1/P) over columns 1-3: 9 .789, 3 .5, 0 .361, 8 .333, 5 .289,
    # 1 .270, 4 .261, 6 .25, 2 .2, 7 .168
    subset = {0: [2, 4, 5, 7], 1: [3, 4, 6, 9], 2: [0, 2, 5, 9]}  # same draws as random
    order = {0: [5, 4, 2, 7], 1: [9, 3, 4, 6], 2: [9, 0, 5, 2]}  # confidence descending
    sel = select(golden_store, "curriculum", 4, seed=seed)
    assert sel.indices.tolist() == subset[seed]
    assert sel.order.tolist() == order[seed]
    assert order[seed] == sorted(subset[seed], key=lambda i: -mu[i])
    easiest = select(golden_store, "curriculum", 3, seed=seed, subset="easiest")
    assert easiest.order.tolist() == [9, 3, 0]
    hardest = select(golden_store, "curriculum", 3, seed=seed, subset="hardest")
    assert hardest.indices.tolist() == [2, 6, 7]


def _dense_greedy(x, budget):
    """Plain greedy on the dense similarity of the full graph (k = N - 1)."""
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    n = len(x)
    h = d2[~np.eye(n, dtype=bool)].mean()
    s = np.exp(-d2 / h)
    cur = np.zeros(n)
    chosen = []
    for _ in range(budget):
        gains = [-1.0 if j in chosen else np.maximum(s[:, j] - cur, 0).sum() for j in range(n)]
        j = int(np.argmax(gains))
        chosen.append(j)
        cur = np.maximum(cur, s[:, j])
    return chosen


@pytest.mark.parametrize("seed", SEEDS)
def test_facility_location(golden_store, seed):
    # trajectories = the columns after training starts (the step-0 column is no feature)
    x = np.log(GOLDEN_PPL[:, 1:]).astype(np.float32)
    sel = select(golden_store, "facility_location", 4, seed=seed, k_neighbors=9)
    assert sel.indices.tolist() == [1, 3, 4, 9]
    assert sel.provenance["columns_used"] == [1, 2, 3]
    assert _dense_greedy(x.astype(np.float64), 4) == [4, 3, 1, 9]  # pick order
    with_initial = select(
        golden_store, "facility_location", 4, seed=seed, k_neighbors=9, include_initial=True
    )
    assert with_initial.indices.tolist() == [3, 4, 7, 9]
    x0 = np.log(GOLDEN_PPL).astype(np.float64)
    assert _dense_greedy(x0, 4) == [4, 9, 3, 7]
    # the sparse k-NN graph (k = 3) version, lazy greedy == plain greedy on the same graph
    nbr, sims = knn_graph(x, 3)
    lazy, value = lazy_greedy_facility_location(nbr, sims, 5)
    assert lazy.tolist() == _plain_sparse_greedy(nbr, sims, 5)
    assert select(
        golden_store, "facility_location", 5, seed=seed, k_neighbors=3, columns=[0, 1, 2, 3]
    ).indices.tolist() == sorted(lazy.tolist())


def _plain_sparse_greedy(nbr, sims, budget):
    n = nbr.shape[0]
    cur = np.zeros(n)
    chosen = []
    for _ in range(budget):
        best, best_gain = -1, -1.0
        for j in range(n):
            if j in chosen:
                continue
            g = sum(
                max(0.0, sims[i, a] - cur[i])
                for i in range(n)
                for a in range(nbr.shape[1])
                if nbr[i, a] == j
            )
            if g > best_gain + 1e-12:
                best, best_gain = j, g
        chosen.append(best)
        for i in range(n):
            for a in range(nbr.shape[1]):
                if nbr[i, a] == best:
                    cur[i] = max(cur[i], sims[i, a])
    return chosen


def test_facility_location_on_embeddings_and_ivf(tmp_path):
    from .conftest import build_store

    rng = np.random.default_rng(0)
    store = build_store(tmp_path / "f", rng.random((400, 3)))
    emb = np.concatenate([rng.normal(size=(200, 4)), rng.normal(size=(200, 4)) + 50]).astype(
        np.float32
    )
    sel = select(store, "facility_location", 10, embeddings=emb, exact_knn_max_rows=100, nprobe=4)
    assert sel.stats["space"] == "embeddings"
    # coverage needs both far-apart clouds (IVF k-NN graph: approximately half each)
    assert 3 <= (sel.indices < 200).sum() <= 7
