"""Stores, selections and an exported dataset written by the code of before the issue-21
redesign (``tests/fixtures/legacy``, made once by ``tests/fixtures/make_legacy.py``) still
open with the public API and read the same values; selecting again on the legacy store gives
the recorded indices. The fixtures are copied to a temporary folder first, so no test can
change the committed files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import SelectedDataset, Selection, TrajectoryStore, select

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy"
EXPECTED = json.loads((LEGACY / "expected.json").read_text())
STORES = ("probe", "in_step", "both", "both/in_step")
SOURCES = ["gsm8k", "mawps", "asdiv_a", "aqua"]  # row order of the 32 rows, 8 each
S2L_INDICES = [2, 5, 7, 12, 14, 15, 16, 17, 22, 28, 30, 31]
LP_INDICES = [0, 1, 4, 7, 24, 26, 27, 30]
PROVENANCE_KEYS = [
    "columns",
    "columns_used",
    "command",
    "embeddings",
    "group_column",
    "library_version",
    "model_name_or_path",
    "seconds",
    "store_mode",
    "store_path",
    "stratified",
]


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("legacy") / "legacy"
    shutil.copytree(LEGACY, d)
    return d


def test_fixture_files_are_small_and_complete():
    files = [p for p in LEGACY.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 400_000
    for name in STORES:
        assert (LEGACY / name / "meta.json").is_file(), name
        assert (LEGACY / name / "losses.npy").is_file(), name
    assert (LEGACY / "probe" / "example_ids.npy").is_file()
    assert (LEGACY / "probe" / "metadata" / "source.npy").is_file()
    for name in ("selection_s2l", "selection_lp"):
        assert (LEGACY / name / "selection.json").is_file(), name
        assert (LEGACY / name / "indices.npy").is_file(), name


@pytest.mark.parametrize("name", STORES)
def test_store_opens_with_the_recorded_values(legacy, name):
    exp = EXPECTED["stores"][name]
    st = TrajectoryStore.open(legacy / name)
    assert st.mode == exp["mode"] == ("in_step" if name.endswith("in_step") else "probe")
    assert st.num_examples == exp["num_examples"] == 32
    losses = np.asarray(st.losses)
    assert losses.dtype == np.float32
    np.testing.assert_array_equal(losses, np.asarray(exp["losses"], dtype=np.float32))
    assert np.isfinite(losses).all() and 3.0 < losses.mean() < 8.0
    assert st.steps.tolist() == exp["steps"]
    assert st.epochs.tolist() == exp["epochs"]
    assert list(st.kinds) == exp["kinds"]
    assert st.complete_columns().tolist() == exp["complete_columns"]
    assert np.asarray(st.num_tokens).tolist() == exp["num_tokens"]
    assert (np.asarray(st.num_tokens) > 0).all()
    assert st.dataset_fingerprint == exp["dataset_fingerprint"]
    assert st.fingerprint == exp["fingerprint"]
    # trajectories() of all columns is the loss matrix
    np.testing.assert_array_equal(np.asarray(st.trajectories()), losses)
    if exp["cell_steps"] is None:
        assert st.cell_steps is None
    else:
        assert np.asarray(st.cell_steps).tolist() == exp["cell_steps"]


def test_probe_store_columns_ids_and_metadata(legacy):
    st = TrajectoryStore.open(legacy / "probe")
    assert st.steps.tolist() == [0, 4, 8]
    assert st.epochs.tolist() == [0.0, 1.0, 2.0]
    assert list(st.kinds) == ["train_begin", "point+epoch_end", "point+epoch_end"]
    assert st.columns_of_kind("train_begin").tolist() == [0]
    assert st.columns_of_kind("point").tolist() == [1, 2]
    assert st.columns_of_kind("epoch_end").tolist() == [1, 2]
    assert st.column_has_kind(1, "point") and not st.column_has_kind(0, "point")
    assert st.find_column(8) == 2
    assert [c["mean_loss"] for c in st.columns] == pytest.approx(
        [float(np.asarray(st.losses)[:, j].mean()) for j in range(3)], rel=1e-5
    )
    assert st.example_ids.tolist() == [f"ex{i:03d}" for i in range(32)]
    assert st.metadata_columns == ["source"]
    assert st.metadata("source").tolist() == EXPECTED["stores"]["probe"]["metadata"]["source"]
    assert st.metadata("source").tolist() == [s for s in SOURCES for _ in range(8)]
    assert st.meta["extra"]["recorder"]["schedule"]["num_points"] == 2
    assert st.meta["extra"]["recorder"]["point_steps"] == [4, 8]


@pytest.mark.parametrize("name", ["in_step", "both/in_step"])
def test_in_step_store_epochs(legacy, name):
    st = TrajectoryStore.open(legacy / name)
    assert list(st.kinds) == ["epoch", "epoch"]
    assert st.columns_of_kind("epoch").tolist() == [0, 1]
    assert st.columns_of_kind("point").tolist() == []
    assert [c["epoch_index"] for c in st.columns] == [0, 1]
    assert [c["seen"] for c in st.columns] == [32, 32]
    cells = np.asarray(st.cell_steps)
    # each example is seen once per epoch, after 0..3 (epoch 0) or 4..7 (epoch 1) steps
    assert set(cells[:, 0].tolist()) == {0, 1, 2, 3}
    assert set(cells[:, 1].tolist()) == {4, 5, 6, 7}
    assert st.example_ids is None and st.metadata_columns == []


def test_both_mode_pair_recorded_the_same_run(legacy):
    probe = TrajectoryStore.open(legacy / "both")
    in_step = TrajectoryStore.open(legacy / "both" / "in_step")
    assert probe.num_examples == in_step.num_examples == 32
    assert probe.dataset_fingerprint == in_step.dataset_fingerprint
    # same model, data and seed as the single-mode runs: the same losses
    np.testing.assert_array_equal(
        np.asarray(probe.losses), np.asarray(TrajectoryStore.open(legacy / "probe").losses)
    )
    np.testing.assert_array_equal(
        np.asarray(in_step.losses), np.asarray(TrajectoryStore.open(legacy / "in_step").losses)
    )


@pytest.mark.parametrize("name", ["selection_s2l", "selection_lp"])
def test_selection_loads_with_the_recorded_values(legacy, name):
    exp = EXPECTED["selections"][name]
    sel = Selection.load(legacy / name)
    assert sel.method == exp["method"]
    assert sel.indices.dtype == np.int64
    assert sel.indices.tolist() == exp["indices"]
    assert sel.example_ids.tolist() == exp["example_ids"]
    assert (sel.budget, sel.seed, sel.num_examples) == (exp["budget"], exp["seed"], 32)
    assert sel.store_fingerprint == exp["store_fingerprint"]
    assert sel.dataset_fingerprint == exp["dataset_fingerprint"]
    assert sel.params == exp["params"]
    assert sorted(sel.provenance) == exp["provenance_keys"] == PROVENANCE_KEYS
    assert sorted(sel.stats) == exp["stats_keys"]
    store = TrajectoryStore.open(legacy / "probe")
    assert sel.store_fingerprint == store.fingerprint
    assert sel.example_ids.tolist() == store.example_ids[sel.indices].tolist()


def test_legacy_selections_name_their_store_relatively(legacy, monkeypatch):
    """The committed selections recorded the generating machine's absolute store path; it was
    scrubbed to "probe", relative to the legacy folder (where make_legacy.py selected, as the
    recorded command says). Old files load with it, and from that folder a SelectedDataset
    finds the store through it, as it did on the machine that wrote them."""
    import datasets

    raw = datasets.load_dataset("json", data_files=str(legacy / "raw.jsonl"), split="train")
    for name in ("selection_s2l", "selection_lp"):
        sel = Selection.load(legacy / name)
        assert sel.provenance["store_path"] == "probe"
        assert sel.provenance["command"].startswith("hf-s2l select probe ")
    monkeypatch.chdir(legacy)
    selected = SelectedDataset(raw, "selection_s2l", id_column="example_id")
    assert selected.source_indices.tolist() == S2L_INDICES
    store = selected.store()  # found through the relative provenance path
    assert store is not None and store.fingerprint == selected.selection.store_fingerprint


def test_s2l_selection_fields(legacy):
    sel = Selection.load(legacy / "selection_s2l")
    assert sel.indices.tolist() == S2L_INDICES
    assert sel.params["by_column"] == "source" and sel.params["num_clusters"] == 2
    assert sel.provenance["group_column"] == "source"
    assert sel.provenance["columns_used"] == [1, 2]
    counts = sel.stats["groups"]["counts"]
    assert {g: (c["size"], c["selected"]) for g, c in counts.items()} == {
        g: (8, 3) for g in SOURCES
    }
    assert Selection.load(legacy / "selection_lp").indices.tolist() == LP_INDICES


def test_selecting_on_the_legacy_store_gives_the_legacy_indices(legacy):
    store = TrajectoryStore.open(legacy / "probe")
    s2l = select(store, "s2l", 12, seed=0, by_column="source", num_clusters=2)
    assert s2l.indices.tolist() == S2L_INDICES
    assert s2l.store_fingerprint == Selection.load(legacy / "selection_s2l").store_fingerprint
    lp = select(store, "lp", 8, seed=0, unclustered=True)
    assert lp.indices.tolist() == LP_INDICES


def test_selected_dataset_from_legacy_selection_matches_the_export(legacy):
    import datasets

    raw = datasets.load_dataset("json", data_files=str(legacy / "raw.jsonl"), split="train")
    store = TrajectoryStore.open(legacy / "probe")
    selected = SelectedDataset(raw, legacy / "selection_s2l", id_column="example_id", store=store)
    assert selected.source_indices.tolist() == S2L_INDICES
    exported = [
        json.loads(line)
        for line in (legacy / "export" / "data" / "train.jsonl").read_text().splitlines()
    ]
    assert [r["example_id"] for r in exported] == selected["example_id"]
    assert [r["example_id"] for r in exported] == [f"ex{i:03d}" for i in S2L_INDICES]
    assert [r["output"] for r in exported] == selected["output"]
    card = (legacy / "export" / "README.md").read_text()
    assert card.startswith("---\n") and "method: s2l" in card and "budget: 12" in card


def test_report_on_the_legacy_store_and_selection(legacy, tmp_path):
    from hf_s2l import build_report

    report = build_report(legacy / "probe", legacy / "selection_s2l", out=tmp_path / "report")
    assert set(report.figures) >= {"trajectories", "cluster_sizes", "groups", "lp", "data_map"}
    assert not report.skipped
    s = report.summary
    assert (s["num_examples"], s["num_columns"], s["complete_columns"]) == (32, 3, 3)
    assert s["group_column"] == "source"
    assert s["groups"] == {g: {"full": 8, "selected": 3} for g in sorted(SOURCES)}
    assert s["lp_columns"] == {"p0": 0, "p1": 1, "pn": 2}
    assert s["nan_cells_complete_columns"] == 0 and s["rows_all_nan"] == 0
    assert (tmp_path / "report" / "index.html").is_file()
