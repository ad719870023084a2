"""A saved selection whose files were changed apart from each other is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hf_s2l import Selection
from hf_s2l.data.alignment import AlignmentError, selection_ids
from hf_s2l.selection.selection import SelectionCorruptError

from .test_cli import assert_user_error, run_cli
from .test_out_folders import env  # noqa: F401 - fixture


def _swap_ids(sel_dir):
    """example_ids.npy keeps its shape and dtype but names other rows (e4, e7, e1)."""
    ids = np.load(sel_dir / "example_ids.npy")
    np.save(sel_dir / "example_ids.npy", np.roll(ids, 1), allow_pickle=False)


def test_load_catches_ids_that_disagree_with_indices(env):  # noqa: F811
    _swap_ids(env / "sel")
    with pytest.raises(SelectionCorruptError, match=r"example_ids\.npy.*other rows"):
        Selection.load(env / "sel")


def test_load_catches_indices_edited_apart_from_ids(env):  # noqa: F811
    np.save(env / "sel" / "indices.npy", np.array([2, 4, 7]), allow_pickle=False)
    with pytest.raises(SelectionCorruptError, match=r"indices\.npy"):
        Selection.load(env / "sel")


def test_cli_export_refuses_it(env):  # noqa: F811
    _swap_ids(env / "sel")
    proc = run_cli("export", "sel", "--dataset", "rows.jsonl", "--out", "exp", cwd=env)
    assert_user_error(proc, "example_ids.npy", "other rows")
    assert not (env / "exp").exists()


def test_selection_saved_before_digests_is_checked_against_the_store(env):  # noqa: F811
    from hf_s2l import TrajectoryStore

    _swap_ids(env / "sel")
    meta_path = env / "sel" / "selection.json"
    meta = json.loads(meta_path.read_text())
    del meta["files_sha256"]  # as an older version saved it
    meta_path.write_text(json.dumps(meta))
    sel = Selection.load(env / "sel")  # nothing to check it against without the store
    with pytest.raises(AlignmentError, match="disagree with its indices"):
        selection_ids(sel, TrajectoryStore.open(env / "store"))
    proc = run_cli(
        "export", "sel", "--dataset", "rows.jsonl", "--store", "store", "--out", "exp", cwd=env
    )
    assert_user_error(proc, "disagree with its indices")
