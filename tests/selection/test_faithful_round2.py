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


# --- item 1: official=True sets every official choice at once ------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_official_switch_equals_the_transcription_on_a_five_epoch_store(tmp_path, seed):
    from ._official_s2l import official_query

    store = five_epoch_store(tmp_path / "s", seed=seed)
    sources = store.metadata("source")
    # the official trajectories: the 12 evenly spaced checkpoints, NaN -> 0
    x = np.nan_to_num(store.trajectories(POINT_COLUMNS), nan=0.0)
    for budget in (20, 57, 120):
        sel = select(
            store, "s2l", budget, seed=seed, by_column="source", num_clusters=6, official=True
        )
        ref = official_query(  # numpy's default sort, as the official code (issue 28)
            sources, None, budget, np.random.default_rng(seed), losses=x, n_components=6, kind=None
        )
        assert sel.indices.tolist() == sorted(ref.tolist()), budget
        assert sel.provenance["columns_used"] == POINT_COLUMNS
        assert sel.provenance["official"] is True
        choices = sel.provenance["official_choices"]
        assert choices["kmeans_seed"] == 1234 and choices["unscored"] == "zero"
        assert choices["group_remainder"] == "last" and choices["column_kinds"] == "point"
        assert sel.params["official"] is True and sel.params["unscored"] == "zero"
        assert "--official" in sel.provenance["command"]
        assert "kmeans_seed" not in sel.provenance["command"]
    # every feature column (the 4 extra epoch ends too) is not the official selection
    allc = select(
        store,
        "s2l",
        57,
        seed=seed,
        by_column="source",
        num_clusters=6,
        kmeans_seed=1234,
        unscored="zero",
        group_remainder="last",
        column_kinds="probe",
    )
    assert len(allc.provenance["columns_used"]) == 16


def test_official_switch_refuses_contradicting_arguments(tmp_path):
    store = five_epoch_store(tmp_path / "s")
    for bad, phrase in [
        ({"unscored": "exclude"}, "unscored='exclude' \\(official: 'zero'\\)"),
        ({"kmeans_seed": 0}, "kmeans_seed=0 \\(official: 1234\\)"),
        ({"group_remainder": "random"}, "group_remainder='random'"),
        ({"column_kinds": "probe"}, "column_kinds='probe'"),
        ({"include_initial": True}, "include_initial=True"),
        ({"columns": [1, 2, 3]}, "columns=\\[1, 2, 3\\]"),
    ]:
        with pytest.raises(ValueError, match="official=True sets every official choice.*" + phrase):
            select(store, "s2l", 20, num_clusters=4, official=True, **bad)
    # the same values as the official ones are fine
    ok = select(
        store, "s2l", 20, num_clusters=4, official=True, unscored="zero", column_kinds=["point"]
    )
    assert ok.provenance["official"] is True
    plain = select(store, "s2l", 20, num_clusters=4)
    assert plain.provenance["official"] is False and "official_choices" not in plain.provenance
    with pytest.raises(ValueError, match="'random' has no official reference.*s2l"):
        select(store, "random", 20, official=True)


def test_official_switch_without_recording_points_says_why(tmp_path):
    x = np.random.default_rng(0).random((30, 4))
    sched = [(10 * (j + 1), float(j + 1), "epoch_end") for j in range(4)]
    store = build_store(tmp_path / "e", x, sched)
    with pytest.raises(ValueError, match="kinds \\['point'\\].*evenly spaced checkpoints"):
        select(store, "s2l", 10, num_clusters=3, official=True)


def _lp_store(path):
    """200 rows: before training + 3 epoch ends (+ a mid point), 6 rows without targets."""
    rng = np.random.default_rng(7)
    n = 200
    ppl0 = rng.uniform(5, 40, n)
    ppl = [ppl0] + [ppl0 * rng.uniform(0.2, 1.0, n) ** e for e in (1, 1.5, 2, 3)]
    losses = np.log(np.stack(ppl, 1))
    losses[[3, 40, 41, 90, 150, 199]] = np.nan
    sched = [(0, 0.0, "train_begin"), (10, 1.0, "epoch_end"), (15, 1.5, "point")]
    sched += [(20, 2.0, "epoch_end"), (30, 3.0, "epoch_end")]
    store = build_store(path, losses, sched)
    labels = rng.integers(0, 8, n)
    # the official code: loss 0 for no target token, perplexity exp(loss)
    held = np.exp(np.nan_to_num(store.trajectories([0, 1, 3, 4]).astype(np.float64), nan=0.0))
    return store, held, labels


@pytest.mark.parametrize("percentage", [3, 10, 33])
def test_official_switch_lp_equals_subset_py(tmp_path, percentage):
    from .test_lp import _official_subset_py

    store, held, labels = _lp_store(tmp_path / "lp")
    low_l1, low_proxy = _official_subset_py(*held.T, labels, percentage)
    budget = round(percentage * 200 / 100)
    sel = select(store, "lp", budget, official=True, clusters=labels)
    assert sel.indices.tolist() == low_l1
    assert len(sel) > budget and sel.budget == len(low_l1)
    assert sel.provenance["official_choices"]["percentage"] == percentage
    assert sel.provenance["official_choices"]["cluster_sizes"] == "official"
    app = select(store, "lp", budget, official=True, clusters=labels, variant="lp_app")
    assert app.indices.tolist() == low_proxy
    with pytest.raises(ValueError, match="cluster_sizes='exact'"):
        select(store, "lp", budget, official=True, clusters=labels, cluster_sizes="exact")
    with pytest.raises(ValueError, match="official=True clusters the examples"):
        select(store, "lp", budget, official=True)
    store.set_metadata("source", np.array(["a", "b"] * 100))
    with pytest.raises(ValueError, match="has no groups"):
        select(store, "lp", budget, official=True, clusters=labels, by_column="source")


# --- item 5: official_lp_subset's default gives the paper's sizes --------------------------
@pytest.mark.parametrize("percentage", [1, 10, 25])
def test_official_lp_subset_default_reproduces_the_paper_sizes(tmp_path, percentage):
    from hf_s2l.selection import official_lp_subset

    from .test_lp import _official_subset_py

    store, held, labels = _lp_store(tmp_path / "lp")
    low_l1, _ = _official_subset_py(*held.T, labels, percentage)
    sel = official_lp_subset(store, percentage, clusters=labels)
    assert len(sel) == len(low_l1)
    assert sel.indices.tolist() == low_l1
    # leaving the unscored rows out is still possible, and smaller
    excl = official_lp_subset(store, percentage, clusters=labels, unscored="exclude")
    assert not {3, 40, 41, 90, 150, 199} & set(excl.indices.tolist())


def test_cli_official_flag(tmp_path, monkeypatch, capsys):
    from hf_s2l.selection import Selection

    from .test_inputs_and_api import _main

    store = five_epoch_store(tmp_path / "s")
    base = ["select", str(store.path), "--budget", "40", "--by-column", "source"]
    args = base + ["--official", "--param", "num_clusters=5", "--out", str(tmp_path / "a")]
    assert _main(args, monkeypatch) == 0
    sel = Selection.load(tmp_path / "a")
    api = select(store, "s2l", 40, by_column="source", num_clusters=5, official=True)
    assert sel.indices.tolist() == api.indices.tolist()
    assert sel.provenance["official"] is True and "--official" in sel.provenance["command"]
    bad = base + ["--official", "--param", "unscored=exclude", "--out", str(tmp_path / "b")]
    assert _main(bad, monkeypatch) != 0
    assert "official=True sets every official choice" in capsys.readouterr().err


# --- item 6: the README and both method pages show the one switch -------------------------
def test_docs_show_the_official_switch():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for page in ("README.md", "docs/methods/s2l.md", "docs/methods/learning_percentage.md"):
        assert "official=True" in (root / page).read_text(encoding="utf-8"), page
    s2l = (root / "docs/methods/s2l.md").read_text(encoding="utf-8")
    assert "more than 16 clusters" not in s2l  # the tie order differs from 4 clusters on
    assert '`column_kinds="point"`' in s2l and "raises `nx >= k`" in s2l
