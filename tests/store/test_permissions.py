"""Store and selection files get the umask's modes (not tempfile's owner-only 0700/0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import Selection, TrajectoryStore


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)

    def set_(mask: int) -> None:
        os.umask(mask)

    yield set_
    os.umask(old)


@pytest.mark.parametrize(
    "mask, dmode, fmode", [(0o022, 0o755, 0o644), (0o002, 0o775, 0o664), (0o077, 0o700, 0o600)]
)
def test_store_and_selection_follow_umask(tmp_path, umask, mask, dmode, fmode):
    umask(mask)
    path = tmp_path / "traj"
    with TrajectoryStore.create(path, 4, example_ids=["a", "b", "c", "d"]) as store:
        c = store.add_column(0, 0.0)
        store.write(c, np.arange(4), np.ones(4, np.float32))
        store.mark_complete(c)
        store.set_metadata("source", ["x", "y", "x", "y"])
        store.set_example_ids(["a", "b", "c", "e"])
    with TrajectoryStore.create(path, 4, replace=True) as store:  # files swapped in
        store.set_metadata("source", ["x", "y", "x", "y"])
    assert _mode(path) == dmode and _mode(path / "metadata") == dmode
    files = [p for p in path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"meta.json", "losses.npy", "num_tokens.npy", "source.npy"}
    assert {p.name: _mode(p) for p in files} == {p.name: fmode for p in files}

    sel = Selection(indices=[3, 1], method="random", weights=[2.0, 1.0])
    sel.save(tmp_path / "sel")
    sel.save(tmp_path / "sel")  # replaced as a whole
    assert _mode(tmp_path / "sel") == dmode
    assert {p.name: _mode(p) for p in (tmp_path / "sel").iterdir()} == {
        name: fmode for name in ("indices.npy", "weights.npy", "selection.json")
    }
