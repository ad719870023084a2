"""TrajectoryStore unit tests: growth without rewrite, atomic meta, crash reconcile, bad input."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from hf_s2l import StoreMismatchError, TrajectoryStore
from hf_s2l.store.npy_columns import ColumnFile


def _filled(path, n=5, cols=2, fingerprint="fp"):
    store = TrajectoryStore.create(path, n, dataset_fingerprint=fingerprint)
    for j in range(cols):
        c = store.add_column(global_step=10 * j, epoch=float(j), kind="point")
        store.write(c, np.arange(n), np.arange(n, dtype=np.float32) + j)
        store.mark_complete(c, mean_loss=1.0)
    return store


def test_roundtrip_with_plain_numpy(tmp_path):
    store = _filled(tmp_path / "s", n=4, cols=3)
    arr = np.load(tmp_path / "s" / "losses.npy", mmap_mode="r")
    assert arr.shape == (4, 3) and arr.dtype == np.float32
    np.testing.assert_array_equal(arr[:, 2], [2, 3, 4, 5])
    reopened = TrajectoryStore.open(tmp_path / "s")
    assert reopened.steps.tolist() == [0, 10, 20]
    assert reopened.epochs.tolist() == [0.0, 1.0, 2.0]
    assert reopened.complete_columns().tolist() == [0, 1, 2]
    assert store.columns[0]["mean_loss"] == 1.0


def test_growth_appends_without_rewriting_or_loading(tmp_path, monkeypatch):
    store = _filled(tmp_path / "s", n=1000, cols=1)
    f = tmp_path / "s" / "losses.npy"
    size0, inode0 = f.stat().st_size, f.stat().st_ino
    first = f.read_bytes()[256:]

    def no_load(*a, **k):
        raise AssertionError("the matrix must not be loaded to add a column")

    monkeypatch.setattr(np, "load", no_load)
    c = store.add_column(1, 0.5, "point")
    monkeypatch.undo()
    assert f.stat().st_ino == inode0  # same file, appended in place
    assert f.stat().st_size == size0 + 1000 * 4
    assert f.read_bytes()[256 : 256 + len(first)] == first  # column 0 bytes untouched
    assert np.isnan(store.losses[:, c]).all()
    assert not store.columns[c]["complete"]


def test_meta_written_atomically(tmp_path, monkeypatch):
    store = _filled(tmp_path / "s", cols=1)
    meta_before = (tmp_path / "s" / "meta.json").read_text()

    def broken_dump(obj, f, **kw):
        f.write('{"half": ')
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        store.update_extra(note="x")
    monkeypatch.undo()
    assert (tmp_path / "s" / "meta.json").read_text() == meta_before
    hidden = {p.name for p in (tmp_path / "s").iterdir() if p.name.startswith(".")}
    assert hidden <= {".hf-s2l-writer.lock", ".hf-s2l-writer.json"}  # no temporary file left
    json.loads(meta_before)


def test_crash_between_append_and_meta_is_reconciled(tmp_path):
    store = _filled(tmp_path / "s", n=6, cols=2)
    store._losses.append_column(np.nan)  # a crash after growing the file, before meta.json
    reader = TrajectoryStore.open(tmp_path / "s")  # read-only: sees the registered columns
    assert reader.num_columns == 2 and reader.losses.shape == (6, 2)
    writer = TrajectoryStore.open(tmp_path / "s", "r+")  # opening never truncates
    assert writer.losses.shape == (6, 2)
    c = writer.add_column(20, 2.0)  # the next add_column drops the stray column
    assert c == 2 and writer.losses.shape == (6, 3)
    assert np.load(tmp_path / "s" / "losses.npy", mmap_mode="r").shape == (6, 3)


def test_opening_during_add_column_does_not_destroy_it(tmp_path):
    """Regression: rank 1 opening the store while rank 0 is inside add_column (file grown,
    meta.json not yet written) must not truncate the column rank 0 is adding."""
    a = _filled(tmp_path / "s", n=4, cols=1)
    a._losses.append_column(np.nan)  # first half of a.add_column
    TrajectoryStore.open(tmp_path / "s", "r+")  # another process opens right then
    a._meta["columns"].append(
        {"global_step": 9, "epoch": 1.0, "kind": "point", "wall_time": None, "complete": False}
    )
    a._save_meta()  # second half of a.add_column
    b = TrajectoryStore.open(tmp_path / "s", "r+")
    b.write(1, [0, 1, 2, 3], [1.0, 2.0, 3.0, 4.0])
    assert b.losses.shape == (4, 2) and a.losses[3, 1] == 4.0


def test_incomplete_column_reset_and_find(tmp_path):
    store = _filled(tmp_path / "s", cols=1)
    c = store.add_column(5, 0.5, "interval")
    store.write(c, [0, 1], [1.0, 2.0])
    assert store.find_column(5) == c and store.find_column(5, "point") is None
    assert store.complete_columns().tolist() == [0]
    store.reset_column(c)
    assert np.isnan(store.losses[:, c]).all() and not store.columns[c]["complete"]


def test_other_process_sees_new_column_after_refresh(tmp_path):
    a = _filled(tmp_path / "s", n=3, cols=1)
    b = TrajectoryStore.open(tmp_path / "s", "r+")
    c = a.add_column(7, 1.0)
    b.write(c, [2], [9.0])  # write() refreshes when the column is new to it
    b.refresh()
    assert b.num_columns == 2 and a.losses[2, c] == 9.0


def test_create_leaves_nothing_on_failure(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(ColumnFile, "create", boom)
    with pytest.raises(RuntimeError):
        TrajectoryStore.create(tmp_path / "s", 4)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n, fp", [(4, "fp"), (3, "other")])
def test_exist_ok_mismatch_leaves_store_untouched(tmp_path, n, fp):
    _filled(tmp_path / "s", n=3, cols=2, fingerprint="fp")
    files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "s").iterdir()}
    with pytest.raises(StoreMismatchError):
        TrajectoryStore.create(tmp_path / "s", n, dataset_fingerprint=fp, exist_ok=True)
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (tmp_path / "s").iterdir()}
    assert after == files
    again = TrajectoryStore.create(tmp_path / "s", 3, dataset_fingerprint="fp", exist_ok=True)
    assert again.num_columns == 2


def test_ids_and_metadata(tmp_path):
    store = TrajectoryStore.create(tmp_path / "s", 3, example_ids=["a", "b", "c"])
    assert store.example_ids.tolist() == ["a", "b", "c"]
    store.set_metadata("source", np.array(["x", "y", "x"], dtype=object))
    reopened = TrajectoryStore.open(tmp_path / "s")
    assert reopened.metadata("source").tolist() == ["x", "y", "x"]
    assert reopened.metadata_columns == ["source"]
    with pytest.raises(KeyError, match="no metadata column"):
        reopened.metadata("nope")
    assert os.path.exists(tmp_path / "s" / "num_tokens.npy")


def test_create_is_create_store_one_signature():
    """TrajectoryStore.create's keyword list lives in one place: it is _create.create_store."""
    import inspect

    from hf_s2l.store._create import create_store

    assert TrajectoryStore.create.__func__ is create_store
    params = list(inspect.signature(TrajectoryStore.create).parameters)
    assert params[:2] == ["path", "num_examples"] and "exist_ok" in params
    assert TrajectoryStore.create.__doc__.startswith("Create a new empty store")
