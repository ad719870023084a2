"""Issue 11 points 1 and 3: S2L's trajectory columns, column kinds, group quotas."""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.selection import select
from hf_s2l.selection.budget import even_split_smallest_first
from hf_s2l.selection.columns import choose_columns, is_before_training

from .conftest import blob_losses, build_store

POINTS = [(10 * j, j / 5, "point") for j in range(1, 6)]


def _stores(tmp_path, kind0="train_begin"):
    """The same 5-point trajectories, without and with a step-0 column of pure noise."""
    x = blob_losses([4, 9, 15, 32], dims=5, seed=3, spread=0.05)
    noise = np.random.default_rng(11).normal(0, 50, size=(len(x), 1))
    plain = build_store(tmp_path / "plain", x, POINTS)
    noisy = build_store(tmp_path / kind0, np.hstack([noise, x]), [(0, 0.0, kind0), *POINTS])
    return x, plain, noisy


@pytest.mark.parametrize("kind0", ["train_begin", "point"])  # a probe at step 0 is "before"
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_step0_noise_column_changes_nothing(tmp_path, seed, kind0):
    _, plain, noisy = _stores(tmp_path, kind0)
    a = select(plain, "s2l", 20, seed=seed, num_clusters=4)
    b = select(noisy, "s2l", 20, seed=seed, num_clusters=4)
    assert a.indices.tolist() == b.indices.tolist()
    assert a.stats["clusters"] == b.stats["clusters"]  # same clusters, same draws
    assert a.provenance["columns_used"] == [0, 1, 2, 3, 4]
    assert b.provenance["columns_used"] == [1, 2, 3, 4, 5]
    assert b.stats["columns"] == [1, 2, 3, 4, 5]
    assert b.params["include_initial"] is False
    # opting in clusters on the noise too (the old default)
    c = select(noisy, "s2l", 20, seed=seed, num_clusters=4, include_initial=True)
    assert c.provenance["columns_used"] == [0, 1, 2, 3, 4, 5]
    assert "--param include_initial=true" in c.provenance["command"]


def test_before_training_and_in_step_columns(tmp_path):
    store = build_store(
        tmp_path / "k",
        np.random.default_rng(0).random((12, 6)),
        [
            (0, 0.0, "train_begin"),
            (5, 0.5, "point"),
            (10, 1.0, "point+epoch_end"),
            (0, 0.0, "epoch"),  # in-step epoch 0 starts at step 0: measured while training
            (10, 1.0, "epoch"),
            (20, 2.0, "interval"),
        ],
    )
    assert [is_before_training(store, c) for c in range(6)] == [1, 0, 0, 0, 0, 0]
    ch = choose_columns(store)
    assert ch.complete.tolist() == [0, 1, 2, 3, 4, 5] and ch.features.tolist() == [1, 2, 3, 4, 5]
    assert choose_columns(store, "in_step").features.tolist() == [3, 4]
    assert choose_columns(store, "probe").features.tolist() == [1, 2, 5]
    assert choose_columns(store, "probe", include_initial=True).features.tolist() == [0, 1, 2, 5]
    assert choose_columns(store, ["point"]).features.tolist() == [1, 2]
    assert choose_columns(store, "epoch_end").features.tolist() == [2]
    assert choose_columns(store, ["train_begin", "point"]).features.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="unknown column kind 'nope'.*'epoch'"):
        choose_columns(store, "nope")
    ins = select(store, "s2l", 4, num_clusters=2, column_kinds="in_step")
    assert ins.provenance["columns_used"] == [3, 4] and ins.params["column_kinds"] == ["epoch"]
    probe = select(store, "s2l", 4, num_clusters=2, column_kinds="probe")
    assert probe.provenance["columns_used"] == [1, 2, 5]
    # a method needing more columns than the kinds give says so
    with pytest.raises(ValueError, match="at least 2 complete trajectory column"):
        select(store, "s2l", 4, column_kinds="epoch_end")


# --- group quotas ----------------------------------------------------------------------------
def test_even_split_spreads_the_remainder_at_random():
    sizes = np.ones(160, dtype=np.int64)
    order, q = even_split_smallest_first(sizes, 7)  # official: the last 7 groups
    assert np.flatnonzero(q).tolist() == list(range(153, 160))
    hits = np.zeros(160)
    for seed in range(400):
        _, q = even_split_smallest_first(sizes, 7, np.random.default_rng(seed))
        assert q.sum() == 7 and q.max() == 1
        hits += q
    # each group is chosen with probability 7/160: 17.5 of 400 on average
    assert hits[:80].sum() == pytest.approx(hits[80:].sum(), rel=0.25)
    # sizes that differ keep the official order and shares (here 20 // 4 = 5 each)
    _, q = even_split_smallest_first(np.array([50, 3, 10, 3]), 21, np.random.default_rng(0))
    assert q[[1, 3]].tolist() == [3, 3] and q.sum() == 21 and sorted(q[[0, 2]]) == [7, 8]


@pytest.mark.parametrize("method,budget", [("random", 7), ("s2l", 50)])
def test_many_groups_of_one_no_position_wins(tmp_path, method, budget):
    n = 160
    store = build_store(tmp_path / "g", np.random.default_rng(0).random((n, 3)))
    groups = np.arange(n)
    last = set(range(n - budget, n))
    picks = []
    for seed in range(12):
        sel = select(store, method, budget, seed=seed, groups=groups)
        assert len(sel) == budget
        picks.append(sel.indices)
    assert sum(set(p.tolist()) == last for p in picks) == 0
    assert np.mean(np.concatenate(picks)) < n - budget  # spread over all positions
    assert len({tuple(p) for p in picks}) == 12
    official = select(store, method, budget, seed=0, groups=groups, group_remainder="last")
    assert official.indices.tolist() == sorted(last)
    assert official.stats["groups"]["remainder"] == "last"
