"""Hostile store files: symbolic links (never written through, stale temp links removed), a
``.npy`` header whose shape overflows, a ``mode`` no store has."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import Selection, StoreCorruptError, TrajectoryStore

N = 6


def _store(path: Path, **kwargs) -> Path:
    with TrajectoryStore.create(path, N, **kwargs) as s:
        c = s.add_column(0, 0.0, "point")
        s.write(c, np.arange(N), np.ones(N, np.float32))
        s.mark_complete(c)
    return path


def _link_to_outside_copy(store: Path, name: str, tmp_path: Path) -> Path:
    """Move ``store/name`` outside the store and put a symbolic link to it in its place."""
    outside = tmp_path / f"outside-{name.replace('/', '-')}"
    os.replace(store / name, outside)
    os.symlink(outside, store / name)
    return outside


@pytest.mark.parametrize("name", ["losses.npy", "num_tokens.npy", "metadata/source.npy"])
def test_symlinked_store_file_is_never_written_through(tmp_path, name):
    store = _store(tmp_path / "traj")
    with TrajectoryStore.open(store, "r+") as s:
        s.set_metadata("source", ["a"] * N)
    outside = _link_to_outside_copy(store, name, tmp_path)
    before = outside.read_bytes()
    with pytest.raises(StoreCorruptError, match="symbolic link") as err:
        with TrajectoryStore.open(store, "r+") as s:  # e.g. the callback continuing the store
            s.add_column(1, 1.0, "point")
            s.write_num_tokens(np.arange(N), np.arange(N))
    assert err.value.file == store / name
    with pytest.raises(StoreCorruptError, match="symbolic link"):
        TrajectoryStore.create(store, N, exist_ok=True)
    assert outside.read_bytes() == before  # the outside file never grew nor changed
    # reading works through links (the Hugging Face cache links every file to a blob)
    assert TrajectoryStore.open(store).losses.shape == (N, 1)


def test_link_put_in_place_after_the_open_is_not_followed(tmp_path):
    """A link that replaces a store file after the writer opened it is refused on write."""
    store = _store(tmp_path / "traj")
    with TrajectoryStore.open(store, "r+") as s:
        outside = _link_to_outside_copy(store, "losses.npy", tmp_path)
        before = outside.read_bytes()
        with pytest.raises(StoreCorruptError, match="symbolic link"):
            s.add_column(1, 1.0, "point")
        outside_tokens = _link_to_outside_copy(store, "num_tokens.npy", tmp_path)
        tokens_before = outside_tokens.read_bytes()
        with pytest.raises(StoreCorruptError, match="symbolic link"):
            s.write_num_tokens(np.arange(N), np.arange(N))
    assert outside.read_bytes() == before and outside_tokens.read_bytes() == tokens_before


def test_symlinked_lock_file_creates_nothing_elsewhere(tmp_path):
    store = _store(tmp_path / "traj")
    (store / ".hf-s2l-writer.lock").unlink()
    target = tmp_path / "elsewhere.lock"
    os.symlink(target, store / ".hf-s2l-writer.lock")
    with pytest.raises(StoreCorruptError, match="symbolic link"):
        TrajectoryStore.open(store, "r+")
    assert not target.exists()


def test_stale_temp_symlinks_are_removed_without_following_them(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("x")
    sel = tmp_path / "sel"
    dead = tmp_path / ".sel.tmp-999999999@ffffffff-abc"  # another host's, a day old
    os.symlink(victim, dead)
    old = time.time() - 3 * 24 * 3600
    os.utime(dead, (old, old), follow_symlinks=False)
    dangling = tmp_path / ".sel.tmp-oldformat"
    os.symlink(tmp_path / "nowhere", dangling)
    os.utime(dangling, (old, old), follow_symlinks=False)
    Selection(indices=np.array([1]), method="m", num_examples=4).save(sel)
    assert not dead.is_symlink() and not dangling.is_symlink()
    assert (victim / "keep.txt").read_text() == "x"  # the link's target is untouched


def _npy_with_header(path: Path, shape: tuple, descr: str = "<f4") -> None:
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": descr, "fortran_order": True, "shape": shape}
        )
        f.write(b"\0" * 64)


@pytest.mark.parametrize(
    "name, shape",
    [
        ("losses.npy", (50, 10**20)),
        ("losses.npy", (N, 10**19)),
        ("num_tokens.npy", (10**20,)),
        ("example_ids.npy", (2**70,)),
    ],
)
def test_npy_header_with_an_overflowing_shape(tmp_path, name, shape):
    store = _store(tmp_path / "traj", example_ids=list(range(N)))
    descr = {"losses.npy": "<f4", "num_tokens.npy": "<i8", "example_ids.npy": "<i8"}[name]
    _npy_with_header(store / name, shape, descr)
    with pytest.raises(StoreCorruptError) as err:
        TrajectoryStore.open(store)
    assert err.value.file == store / name, err.value
    assert "shape" in err.value.problem


@pytest.mark.parametrize("mode", ["xx", "", "both", None, 5])
def test_meta_json_mode_is_validated(tmp_path, mode):
    store = _store(tmp_path / "traj")
    meta = json.loads((store / "meta.json").read_text())
    meta["mode"] = mode
    (store / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(StoreCorruptError, match="'mode'.*'probe' or 'in_step'") as err:
        TrajectoryStore.open(store)
    assert err.value.file == store / "meta.json"


def test_create_refuses_an_unknown_mode(tmp_path):
    with pytest.raises(ValueError, match="mode must be one of"):
        TrajectoryStore.create(tmp_path / "traj", N, mode="xx")
    assert not (tmp_path / "traj").exists()
