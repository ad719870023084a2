"""Issue 12.3: one policy for non-finite losses (NaN, ±inf) in every consumer.

select (every method: tests/selection/test_inputs_and_api.py), k-means, the report and the
CLI; the report and CLI run in-process through ``hf_s2l.cli.main`` (the bug was a faiss
abort, exit 134: an abort would kill the test run, so it still fails loudly).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hf_s2l.selection import Selection, select
from hf_s2l.selection.kmeans import faiss_kmeans
from hf_s2l.selection.unscored import unscored_mask, unscored_rows

from .conftest import build_store

SCHEDULE = [(0, 0.0, "train_begin")] + [(10 * j, j / 4, "point") for j in range(1, 5)]


def _inf_store(path: Path):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 3, size=(200, 5))
    x[3, 2] = np.inf
    x[8, 4] = -np.inf
    x[20, 1] = np.inf
    x[9] = np.nan
    store = build_store(path, x, SCHEDULE)
    store.set_metadata("source", np.array(["a", "b"] * 100))
    return store


def test_policy_masks(tmp_path):
    store = _inf_store(tmp_path / "s")
    mask = unscored_rows(store, [0, 1, 2, 3, 4], chunk_rows=7)  # chunks cut through rows
    assert np.flatnonzero(mask).tolist() == [3, 8, 9, 20]
    assert np.flatnonzero(unscored_rows(store, [0, 3])).tolist() == [9]
    x = store.trajectories()
    assert np.flatnonzero(unscored_mask(x)).tolist() == [3, 8, 9, 20]


def test_kmeans_refuses_nonfinite_with_a_clear_error():
    x = np.random.default_rng(0).random((50, 3)).astype(np.float32)
    x[4, 1] = np.inf
    x[7, 0] = -np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        faiss_kmeans(x, 3)
    assert len(faiss_kmeans(x[~unscored_mask(x)], 3).labels) == 48


def test_select_with_infinite_losses(tmp_path):
    store = _inf_store(tmp_path / "s")
    for method in ("s2l", "facility_location", "cartography"):
        sel = select(store, method, 60, seed=0, by_column="source")
        assert not {3, 8, 9, 20} & set(sel.indices.tolist())
        assert sel.stats["unscored"]["rows"] == 4


def _run(args: list[str], capsys) -> SimpleNamespace:
    """``hf-s2l ARGS`` in this process (a faiss abort would still kill the run and fail it)."""
    from hf_s2l.cli import main

    code = main(args)
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


def test_report_and_cli_select_on_infinite_losses_exit_0(tmp_path, capsys):
    store = _inf_store(tmp_path / "store")
    sel_dir = tmp_path / "sel"
    res = _run(
        [
            "select",
            str(store.path),
            "--method",
            "s2l",
            "--budget",
            "50",
            "--by-column",
            "source",
            "--out",
            str(sel_dir),
        ],
        capsys,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    sel = Selection.load(sel_dir)
    assert not {3, 8, 9, 20} & set(sel.indices.tolist())
    res = _run(
        ["report", str(store.path), "--selection", str(sel_dir), "--out", str(tmp_path / "r")],
        capsys,
    )
    assert res.returncode == 0, res.stderr[-2000:]  # was 134: faiss abort
    summary = json.loads((tmp_path / "r" / "report.json").read_text())["summary"]
    assert summary["unscored_rows_plotted"] == 4
    assert (tmp_path / "r" / "cluster_sizes.png").stat().st_size > 0
