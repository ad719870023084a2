"""Issue 19, faithfulness round 2: the ``official=True`` switch, S2L's default features,
unscored groups, the columns each method reads, ``official_lp_subset``'s sizes and the
method checks of groups taken whole."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from hf_s2l.selection import select

from .conftest import GOLDEN_PPL, GOLDEN_SCHEDULE, build_store


# --- item 4: a method checks only the columns it reads ------------------------------------
def test_lp_ignores_inf_in_a_column_it_never_reads(tmp_path):
    x = np.log(GOLDEN_PPL).copy()
    clean = build_store(tmp_path / "clean", x, GOLDEN_SCHEDULE)
    x[3, 2] = np.inf  # the mid-epoch point: not P0, P1 or Pn
    dirty = build_store(tmp_path / "dirty", x, GOLDEN_SCHEDULE)
    a = select(clean, "lp", 9, unclustered=True)
    b = select(dirty, "lp", 9, unclustered=True)
    assert b.stats["unscored"]["rows"] == 0
    assert b.stats["unscored"]["columns"] == [0, 1, 3]
    assert a.indices.tolist() == b.indices.tolist()


@pytest.mark.parametrize(
    "method, params, read",
    [
        ("least_confidence", {}, [3]),
        ("middle_perplexity", {}, [3]),
        ("high_learnability", {}, [0, 3]),
        ("cartography", {"columns": [1, 3]}, [1, 3]),
        ("curriculum", {"columns": [3]}, [3]),
    ],
)
def test_every_method_checks_only_what_it_reads(tmp_path, method, params, read):
    x = np.log(GOLDEN_PPL).copy()
    x[5, 2] = np.inf  # a column none of them reads here
    store = build_store(tmp_path / "s", x, GOLDEN_SCHEDULE)
    sel = select(store, method, 9, **params)
    assert sel.stats["unscored"]["columns"] == read
    assert sel.stats["unscored"]["rows"] == 0


# --- a store as the recorder writes it for 5 epochs: step 0, 12 points, 5 epoch ends -------
def five_epoch_schedule(max_steps: int = 600) -> list[tuple[int, float, str]]:
    """The columns of TrajectoryCallback(num_points=12) on a 5-epoch run of ``max_steps``:
    the epoch ends at 120, 240, 360, 480 fall between the points (every 50 steps) except
    the last one, recorded once as ``point+epoch_end``."""
    kinds: dict[int, list[str]] = {0: ["train_begin"]}
    for j in range(1, 13):
        kinds.setdefault(j * max_steps // 12, []).append("point")
    for e in range(1, 6):
        kinds.setdefault(e * max_steps // 5, []).append("epoch_end")
    return [(s, 5 * s / max_steps, "+".join(k)) for s, k in sorted(kinds.items())]


def five_epoch_store(path, n_per_source=(40, 60, 90), seed=0):
    sched = five_epoch_schedule()
    rng = np.random.default_rng(seed)
    n = sum(n_per_source)
    centres = rng.uniform(0.5, 4.0, size=(6, len(sched)))
    x = centres[rng.integers(0, 6, n)] + 0.3 * rng.standard_normal((n, len(sched)))
    x[[5, 77]] = np.nan  # rows without a target token
    store = build_store(path, x, sched)
    sources = np.repeat(np.array(["gsm", "aqua", "mawps"]), n_per_source)
    store.set_metadata("source", sources[rng.permutation(n)])
    return store


POINT_COLUMNS = [i for i, (_, _, k) in enumerate(five_epoch_schedule()) if "point" in k.split("+")]


def test_five_epoch_schedule_has_extra_epoch_end_columns():
    sched = five_epoch_schedule()
    assert len(sched) == 1 + 12 + 4 and len(POINT_COLUMNS) == 12
    assert sched[-1] == (600, 5.0, "point+epoch_end")


# --- item 2: S2L's default features are the recording points ------------------------------
def test_s2l_default_features_are_the_recording_points(tmp_path):
    store = five_epoch_store(tmp_path / "s")
    sel = select(store, "s2l", 40, seed=0, num_clusters=5)
    assert sel.provenance["columns_used"] == POINT_COLUMNS
    assert sel.stats["columns"] == POINT_COLUMNS
    assert "recording points" in sel.stats["columns_rule"]
    # the same as asking for the points by kind
    pts = select(store, "s2l", 40, seed=0, num_clusters=5, column_kinds="point")
    assert pts.indices.tolist() == sel.indices.tolist()
    # every feature column only when asked (all probe kinds, step 0 still left out)
    allc = select(store, "s2l", 40, seed=0, num_clusters=5, column_kinds="probe")
    assert allc.provenance["columns_used"] == list(range(1, 17))


def test_s2l_without_points_uses_every_feature_column(tmp_path):
    x = np.random.default_rng(0).random((30, 4))
    sched = [(0, 0.0, "epoch"), (10, 1.0, "epoch"), (20, 2.0, "epoch"), (30, 3.0, "epoch")]
    store = build_store(tmp_path / "i", x, sched)  # an in-step store: no recording point
    sel = select(store, "s2l", 10, num_clusters=3)
    assert sel.provenance["columns_used"] == [0, 1, 2, 3]
    assert "fewer than 2 recording points" in sel.stats["columns_rule"]


# --- item 3: a group whose rows are all unscored is reported ------------------------------
def test_a_group_of_unscored_rows_is_reported(tmp_path, caplog):
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 3.0, size=(60, 4))
    sources = np.array(["a"] * 25 + ["b"] * 25 + ["empty"] * 10)
    x[50:] = np.nan  # the whole "empty" group has no target token
    store = build_store(tmp_path / "g", x)
    store.set_metadata("source", sources)
    with caplog.at_level(logging.WARNING):
        sel = select(store, "random", 30, seed=0, by_column="source")
    groups = sel.stats["groups"]
    assert groups["unscored_groups"] == ["empty"]
    assert groups["counts"]["empty"] == {"size": 10, "selected": 0, "quota": 0, "scored": 0}
    assert groups["counts"]["a"]["selected"] + groups["counts"]["b"]["selected"] == 30
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1  # one
    assert "'empty' (10 rows)" in caplog.text  # warning, naming the group and its size
    # budget beyond the scored rows: the fill from unscored rows is counted in its group
    big = select(store, "random", 55, seed=0, by_column="source")
    assert big.stats["groups"]["counts"]["empty"]["selected"] == 5
