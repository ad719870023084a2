"""``build_report`` / ``hf-s2l report`` on a real store recorded by a real tiny Trainer run."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.xdist_group("report")  # shares the session's recorded store

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


EXPECTED_AXES = {
    "trajectories": ("training step", "loss"),
    "cluster_sizes": ("cluster size (examples)", "number of clusters"),
    "groups": ("source", "share of examples"),
    "lp": ("LP(1) (share of the loss drop learned in epoch 1)", "examples"),
    "data_map": ("variability (std of confidence)", "confidence (mean of exp(-loss))"),
    "columns": ("training step", "loss"),
}


def test_report_renders_real_pngs_with_expected_axes(recorded_store, tmp_path):
    import matplotlib.image as mpimg

    import hf_s2l

    store = recorded_store
    assert store.num_columns >= 4 and len(store.complete_columns()) == store.num_columns
    sel = hf_s2l.select(store, "s2l", 0.3, seed=0, by_column="source", num_clusters=3)
    report = hf_s2l.build_report(store, sel, out=tmp_path / "rep", num_clusters=6)

    assert report.skipped == {}, report.skipped
    assert set(report.figures) == set(EXPECTED_AXES)
    for name, (xlabel, ylabel) in EXPECTED_AXES.items():
        fig = report.figures[name]
        assert (fig.xlabel, fig.ylabel) == (xlabel, ylabel), name
        assert fig.title
        w, h = _png_size(fig.path)
        assert w >= 300 and h >= 200
        img = mpimg.imread(fig.path)
        assert img.shape[:2] == (h, w)
        assert img.std() > 0.01, f"{name} looks blank"

    page = report.html.read_text()
    assert page.startswith("<!doctype html>")
    for fig in report.figures.values():
        assert f"src='{fig.path.name}'" in page
    assert "s2l" in page and str(store.num_examples) in page

    meta = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert meta["summary"]["num_examples"] == store.num_examples
    groups = meta["summary"]["groups"]
    assert sum(g["full"] for g in groups.values()) == store.num_examples
    assert sum(g["selected"] for g in groups.values()) == len(sel.indices)
    assert len(meta["columns"]) == store.num_columns


def test_report_figure_axes_from_matplotlib(recorded_store):
    """The plotting functions themselves: axis labels/titles on the Figure objects."""
    from hf_s2l.report import plots

    store = recorded_store
    traj = store.trajectories()
    labels = np.arange(store.num_examples) % 3
    fig = plots.trajectories_by_cluster(store.steps, traj, labels, [0, 1, 2])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    assert all(ax.get_xlabel() == "training step" and ax.get_ylabel() == "loss" for ax in visible)
    assert [ax.get_title().split(" (")[0] for ax in visible] == [
        "cluster 0",
        "cluster 1",
        "cluster 2",
    ]
    assert all(len(ax.lines) >= 2 for ax in visible)  # examples + cluster mean
    assert fig.get_suptitle() == "Loss trajectories of examples from a few clusters"


def test_report_without_selection_and_cli(recorded_store, tmp_path, capsys):
    from hf_s2l.cli import main

    rc = main(["report", str(recorded_store.path), "--out", str(tmp_path / "cli")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "index.html" in out
    assert (tmp_path / "cli" / "index.html").is_file()
    for name in ("trajectories", "cluster_sizes", "groups", "data_map", "columns"):
        assert (tmp_path / "cli" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC


def test_report_skips_what_the_store_cannot_show(tmp_path):
    """A one-column store: plots needing trajectories/epochs are skipped with the reason."""
    import hf_s2l

    store = hf_s2l.TrajectoryStore.create(tmp_path / "s", num_examples=20)
    c = store.add_column(global_step=0, epoch=0.0, kind="train_begin")
    vals = np.linspace(2.0, 3.0, 20)
    vals[3] = np.nan
    store.write(c, np.arange(20), vals)
    store.mark_complete(c)
    report = hf_s2l.build_report(store, out=tmp_path / "rep")
    assert set(report.figures) == {"columns"}
    assert "2 complete columns" in report.skipped["trajectories"]
    assert "metadata" in report.skipped["groups"]
    assert "epoch-end" in report.skipped["lp"]
    assert "Not drawn" in report.html.read_text()
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["columns"][0]["nan"] == 1


def test_report_rejects_selection_of_another_size(recorded_store, tmp_path):
    import hf_s2l

    sel = hf_s2l.Selection(indices=np.arange(3), method="random", num_examples=5)
    with pytest.raises(ValueError, match="training set of 5 examples"):
        hf_s2l.build_report(recorded_store, sel, out=tmp_path / "x")


def _hand_made_store(path, n=45):
    """An imported-looking probe store: its before-training column is a step-0 ``point``
    (not ``train_begin``), which selection treats as before training (store/kinds.py)."""
    import hf_s2l

    rng = np.random.default_rng(0)
    start = rng.uniform(2.0, 4.0, n)
    speed = rng.choice([0.05, 0.3, 0.8], n)
    store = hf_s2l.TrajectoryStore.create(path, num_examples=n)
    for step in (0, 10, 20, 30, 40):
        c = store.add_column(global_step=step, epoch=step / 40, kind="point")
        vals = start if step == 0 else start * np.exp(-speed * step / 10)
        store.write(c, np.arange(n), vals.astype(np.float32))
        store.mark_complete(c)
    return store


def test_report_reads_the_columns_selection_reads(tmp_path):
    """Clusters (the S2L premise) and the data map use selection's default columns: the
    step-0 ``point`` column is before training for both (the report's old rule kept it)."""
    import hf_s2l
    from hf_s2l.selection.columns import choose_columns
    from hf_s2l.store import kinds

    store = _hand_made_store(tmp_path / "s")
    assert kinds.before_training_columns(store) == [0]  # not a train_begin kind
    expected = choose_columns(store).features.tolist()
    assert expected == kinds.trained_columns(store).tolist() == [1, 2, 3, 4]
    used = {
        m: hf_s2l.select(store, m, 10, seed=0).provenance["columns_used"]
        for m in ("s2l", "cartography")
    }
    assert used == {"s2l": expected, "cartography": expected}

    report = hf_s2l.build_report(store, out=tmp_path / "rep", num_clusters=3)
    assert report.summary["columns_used"] == {"clusters": expected, "data_map": expected}
    assert {"trajectories", "cluster_sizes", "data_map"} <= set(report.figures)
    assert "the 4 columns selection reads" in report.figures["trajectories"].caption
    assert "the 4 columns selection reads" in report.figures["data_map"].caption
    cols = json.loads((tmp_path / "rep" / "report.json").read_text())["columns"]
    assert [c["before_training"] for c in cols] == [True, False, False, False, False]
    assert "point (before training)" in report.html.read_text()
