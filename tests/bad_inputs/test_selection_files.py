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
    meta["schema_version"] = 1
    meta_path.write_text(json.dumps(meta))
    sel = Selection.load(env / "sel")  # nothing to check it against without the store
    with pytest.raises(AlignmentError, match="disagree with its indices"):
        selection_ids(sel, TrajectoryStore.open(env / "store"))
    proc = run_cli(
        "export", "sel", "--dataset", "rows.jsonl", "--store", "store", "--out", "exp", cwd=env
    )
    assert_user_error(proc, "disagree with its indices")


def _edit_meta(sel_dir, edit) -> None:
    path = sel_dir / "selection.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def test_digests_removed_with_the_store_gone_is_refused(env):  # noqa: F811
    """Ids edited and files_sha256 removed, no store to check against: the export would
    publish the rows the edited ids name. A selection saved with digests must keep them."""
    import shutil

    _swap_ids(env / "sel")
    _edit_meta(env / "sel", lambda m: m.pop("files_sha256"))
    shutil.rmtree(env / "store")
    with pytest.raises(SelectionCorruptError, match=r"selection\.json lacks files_sha256"):
        Selection.load(env / "sel")
    args = ["export", "sel", "--dataset", "rows.jsonl", "--id-column", "example_id"]
    proc = run_cli(*args, "--out", "exp", cwd=env)
    assert_user_error(proc, "selection.json", "files_sha256", "--trust-unverified")
    assert not (env / "exp").exists()
    # the way out the message names works, and says what it does
    assert Selection.load(env / "sel", trust_unverified=True).example_ids.tolist() == [
        "e7",
        "e1",
        "e4",
    ]
    proc = run_cli(*args, "--out", "exp", "--trust-unverified", cwd=env)
    assert proc.returncode == 0, proc.stderr
    assert "--trust-unverified" in (env / "exp" / "README.md").read_text()


def test_saves_claim_the_schema_with_digests(env):  # noqa: F811
    meta = json.loads((env / "sel" / "selection.json").read_text())
    assert meta["schema_version"] == 2 and set(meta["files_sha256"]) == {
        "indices.npy",
        "example_ids.npy",
    }


BAD_META = {
    "deeply-nested": lambda t: t.replace(
        '"stats": {}', '"stats": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    ),
    "5000-digit-int": lambda t: t.replace('"seed": 0', '"seed": ' + "7" * 5000),
    "num_examples-NaN": lambda t: t.replace('"num_examples": 12', '"num_examples": NaN'),
    "num_examples-huge": lambda t: t.replace('"num_examples": 12', '"num_examples": 1' + "0" * 30),
    "method-int": lambda t: t.replace('"method": "random"', '"method": 5'),
    "provenance-string": lambda t: t.replace('"provenance": {}', '"provenance": "x"'),
    "params-list": lambda t: t.replace('"params": {}', '"params": [1]'),
    "stats-null": lambda t: t.replace('"stats": {}', '"stats": null'),
    "budget-float": lambda t: t.replace('"budget": 3', '"budget": 3.5'),
    "fingerprint-int": lambda t: t.replace(
        '"dataset_fingerprint": "fp"', '"dataset_fingerprint": 1'
    ),
    "digest-int": lambda t: t.replace('"files_sha256": {', '"files_sha256": {"order.npy": 1, '),
    "schema-string": lambda t: t.replace('"schema_version": 2', '"schema_version": "2"'),
    "a-list": lambda t: "[" + t + "]",
    "not-utf8": lambda t: t.replace('"random"', '"r\udcff"'),
}


@pytest.mark.parametrize("case", sorted(BAD_META))
def test_invalid_selection_json_is_one_error_naming_the_file(env, case):  # noqa: F811
    path = env / "sel" / "selection.json"
    text = path.read_text()
    new = BAD_META[case](text)
    assert new != text, "the edit did not apply"
    path.write_bytes(new.encode("utf-8", "surrogateescape"))
    with pytest.raises(SelectionCorruptError, match=r"selection\.json"):
        Selection.load(env / "sel")


@pytest.mark.parametrize("case", ["provenance-string", "deeply-nested", "method-int"])
def test_cli_export_names_the_file(env, case):  # noqa: F811
    path = env / "sel" / "selection.json"
    path.write_text(BAD_META[case](path.read_text()))
    proc = run_cli("export", "sel", "--dataset", "rows.jsonl", "--out", "exp", cwd=env)
    assert_user_error(proc, "corrupt selection", "selection.json")
    assert not (env / "exp").exists()


def test_newer_schema_asks_for_an_upgrade(env):  # noqa: F811
    _edit_meta(env / "sel", lambda m: m.__setitem__("schema_version", 3))
    with pytest.raises(ValueError, match="newer than this hf-s2l"):
        Selection.load(env / "sel")
