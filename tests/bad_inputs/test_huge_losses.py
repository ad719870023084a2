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
