"""A finite but huge loss (a diverged proxy) never reaches faiss: one check before every faiss
call turns it into a clear error instead of a SIGABRT inside faiss (real CLI processes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hf_s2l import TrajectoryStore

from .test_cli import assert_user_error, run_cli

N = 60


def _store(path: Path, huge: float, unscored: bool) -> Path:
    rng = np.random.default_rng(0)
    with TrajectoryStore.create(path, N, dataset_fingerprint="fp") as s:
        s.set_metadata("source", np.array(["a", "b"] * (N // 2)))
        for j in range(5):
            c = s.add_column(j, j / 5, "point")
            v = rng.random(N).astype(np.float32) + 1
            v[7] = huge
            if unscored and j == 2:
                v[11] = np.nan
            s.write(c, np.arange(N), v)
            s.mark_complete(c)
    return path


@pytest.mark.parametrize("huge", [1e20, 3e38])
def test_report_with_a_huge_loss(tmp_path, huge):
    _store(tmp_path / "store", huge, unscored=False)
    proc = run_cli("report", "store", "--out", "rep", cwd=tmp_path)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    html = (tmp_path / "rep" / "index.html").read_text()
    assert "too large" in html  # the clustering plot is skipped with the reason


@pytest.mark.parametrize("method", ["s2l", "facility_location"])
def test_select_with_a_huge_loss_and_unscored_rows(tmp_path, method):
    _store(tmp_path / "store", 1e20, unscored=True)
    proc = run_cli(
        "select", "store", "--method", method, "--budget", "10", "--out", "sel", cwd=tmp_path
    )
    assert proc.returncode != -6, "SIGABRT inside faiss"
    assert_user_error(proc, "too large", "1e+20")
    assert not (tmp_path / "sel").exists()


def test_the_check_itself():
    from hf_s2l.selection.kmeans import check_faiss_input

    check_faiss_input(np.full((4, 12), 1e4, np.float32), "x")  # ordinary losses pass
    for bad in (np.nan, np.inf, 1e20):
        x = np.ones((4, 12), np.float32)
        x[2, 3] = bad
        with pytest.raises(ValueError, match="row 2"):
            check_faiss_input(x, "x")


def _grouped_store(path: Path) -> Path:
    """40 rows: group "big" (38 rows) and group "small" (rows 38, 39); row 39 diverged."""
    rng = np.random.default_rng(0)
    with TrajectoryStore.create(path, 40, dataset_fingerprint="fp") as s:
        s.set_metadata("source", np.array(["big"] * 38 + ["small"] * 2))
        for j in range(4):
            c = s.add_column(j, j / 4, "point")
            v = rng.random(40).astype(np.float32) + 1
            v[39] = 1e20
            s.write(c, np.arange(40), v)
            s.mark_complete(c)
    return path


@pytest.mark.parametrize(
    "budget, by_column",
    [(20, None), (2, "source"), (20, "source"), (40, "source"), (40, None)],
    ids=["20", "2-by-column", "20-by-column-small-taken-whole", "all-by-column", "all"],
)
def test_one_check_whatever_the_budget(tmp_path, budget, by_column):
    """A group taken whole (smaller than its share) is checked like the rows faiss sees."""
    from hf_s2l import select

    store = _grouped_store(tmp_path / "store")
    with pytest.raises(ValueError, match=r"row 39 holds the value 1e\+20, too large"):
        select(store, "s2l", budget, by_column=by_column)


def test_cli_group_taken_whole(tmp_path):
    _grouped_store(tmp_path / "store")
    args = ["select", "store", "--budget", "20", "--by-column", "source", "--out", "sel"]
    proc = run_cli(*args, cwd=tmp_path)
    assert_user_error(proc, "row 39", "too large")
    assert not (tmp_path / "sel").exists()
