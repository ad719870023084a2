"""Bad input to the store and to saved selections: each case raises a known error type with a
message naming the problem, and leaves everything on disk as it was."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import (
    Selection,
    StoreCorruptError,
    StoreMismatchError,
    TrajectoryStore,
    select,
)
from hf_s2l.selection.selection import SelectionCorruptError, SelectionExistsError

REPO = Path(__file__).resolve().parents[2]
N = 8


def digest(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file (hidden ones included) and folder under ``root`` with its content hash."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in skip:
            continue
        out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def _store(path: Path, cols: int = 3, fingerprint: str = "fp") -> Path:
    with TrajectoryStore.create(
        path, N, dataset_fingerprint=fingerprint, example_ids=[f"e{i}" for i in range(N)]
    ) as store:
        for j in range(cols):
            c = store.add_column(2 * j, float(j), "point")
            store.write(c, np.arange(N), np.arange(N, dtype=np.float32) + 10 * j)
            store.mark_complete(c)
        store.set_metadata("source", ["a", "b"] * (N // 2))
    return path


def _unchanged(tmp_path: Path):
    before = digest(tmp_path)

    class Check:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            assert digest(tmp_path) == before, "a failed call changed files on disk"

    return Check()


# ------------------------------------------------------------------ creating and writing
@pytest.mark.parametrize(
    "n, exc, match",
    [
        (0, ValueError, "empty"),
        (-3, ValueError, "empty"),
        (2.5, TypeError, "int"),
        (True, TypeError, "int"),
    ],
)
def test_bad_num_examples(tmp_path, n, exc, match):
    with _unchanged(tmp_path), pytest.raises(exc, match=match):
        TrajectoryStore.create(tmp_path / "s", n)


def test_example_ids_of_wrong_length(tmp_path):
    with _unchanged(tmp_path), pytest.raises(ValueError, match="example_ids has 1 entries"):
        TrajectoryStore.create(tmp_path / "s", 3, example_ids=["a"])


def test_open_missing_store(tmp_path):
    with _unchanged(tmp_path), pytest.raises(FileNotFoundError, match="not a trajectory store"):
        TrajectoryStore.open(tmp_path / "nothing")


def test_create_on_or_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with _unchanged(tmp_path):
        with pytest.raises(FileExistsError, match="not an empty directory"):
            TrajectoryStore.create(tmp_path / "file", 3)
        with pytest.raises(PermissionError, match="cannot create the store directory"):
            TrajectoryStore.create(tmp_path / "file" / "s", 3)


def test_metadata_of_wrong_length(tmp_path):
    _store(tmp_path / "s")
    with _unchanged(tmp_path), TrajectoryStore.open(tmp_path / "s", "r+") as store:
        with pytest.raises(ValueError, match="metadata column 'lang' has shape"):
            store.set_metadata("lang", ["a"])


def test_create_over_existing_store(tmp_path):
    _store(tmp_path / "s")
    with _unchanged(tmp_path), pytest.raises(FileExistsError, match="exist_ok=True"):
        TrajectoryStore.create(tmp_path / "s", N)


def test_create_in_folder_with_other_files(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "notes.txt").write_text("mine")
    with _unchanged(tmp_path), pytest.raises(FileExistsError, match="not an empty directory"):
        TrajectoryStore.create(tmp_path / "s", N, replace=True)  # never deletes user files


@pytest.mark.parametrize("n, fp", [(N + 1, "fp"), (N, "other")])
def test_continue_store_of_another_dataset(tmp_path, n, fp):
    _store(tmp_path / "s")
    with _unchanged(tmp_path), pytest.raises(StoreMismatchError, match="use another output"):
        TrajectoryStore.create(tmp_path / "s", n, dataset_fingerprint=fp, exist_ok=True)


def test_write_errors(tmp_path):
    _store(tmp_path / "s")
    with _unchanged(tmp_path):
        with TrajectoryStore.open(tmp_path / "s", "r+") as store:
            with pytest.raises(IndexError, match="out of range"):
                store.write(0, [N], [1.0])
            with pytest.raises(ValueError, match="equal 1-D shapes"):
                store.write(0, [0, 1], [1.0])
        reader = TrajectoryStore.open(tmp_path / "s")
        with pytest.raises(PermissionError, match="read-only"):
            reader.write(0, [0], [1.0])
        with pytest.raises(PermissionError, match="read-only"):
            reader.add_column(9, 1.0)


# ------------------------------------------------------------------ names used as paths
@pytest.mark.parametrize("name", ["../example_ids", "meta/../x", ".hidden", "", "a/b", "x" * 200])
def test_metadata_name_is_never_a_path(tmp_path, name):
    _store(tmp_path / "s")
    with _unchanged(tmp_path):
        with TrajectoryStore.open(tmp_path / "s", "r+") as store:
            with pytest.raises(ValueError, match="invalid metadata column name"):
                store.set_metadata(name, ["z"] * N)
        with pytest.raises(KeyError, match="no metadata column.*available: source"):
            TrajectoryStore.open(tmp_path / "s").metadata(name)


def test_by_column_path_does_not_read_other_files(tmp_path):
    _store(tmp_path / "s")
    with _unchanged(tmp_path), pytest.raises(KeyError, match="no metadata column '../example_ids'"):
        select(tmp_path / "s", "random", 4, by_column="../example_ids")


def test_meta_listing_a_path_as_metadata_column(tmp_path):
    path = _store(tmp_path / "s")
    meta = json.loads((path / "meta.json").read_text())
    meta["metadata_columns"].append("../example_ids")
    (path / "meta.json").write_text(json.dumps(meta))
    _assert_corrupt(tmp_path, path / "meta.json", "invalid metadata column name")


# ------------------------------------------------------------------ corruption
def _assert_corrupt(tmp_path: Path, file: Path, phrase: str) -> None:
    store = file.parent if file.parent.name == "s" else file.parent.parent
    with _unchanged(tmp_path):
        for attempt in (
            lambda: TrajectoryStore.open(store),
            lambda: TrajectoryStore.open(store, "r+"),
            lambda: TrajectoryStore.create(store, N, dataset_fingerprint="fp", exist_ok=True),
            lambda: select(store, "random", 3),
        ):
            with pytest.raises(StoreCorruptError) as info:
                attempt()
            msg = str(info.value)
            assert str(file) in msg and "corrupt" in msg and phrase in msg, msg
            assert info.value.file == file


def _edit_meta(path: Path, edit) -> None:
    meta = json.loads((path / "meta.json").read_text())
    result = edit(meta)
    if isinstance(result, list):  # the edit replaced the whole content
        meta = result
    (path / "meta.json").write_text(json.dumps(meta))


def test_truncated_losses(tmp_path):
    path = _store(tmp_path / "s")
    f = path / "losses.npy"
    os.truncate(f, f.stat().st_size - 5)
    _assert_corrupt(tmp_path, f, "is truncated")


@pytest.mark.parametrize(
    "edit, phrase",
    [
        (lambda m: [m], "holds a JSON array, expected an object"),
        (lambda m: m["columns"][1].pop("complete"), "lacks columns[1] 'complete'"),
        (lambda m: m["columns"][0].update(complete="false"), "columns[0] 'complete' = 'false'"),
        (lambda m: m.update(num_examples="8"), "'num_examples' = '8'"),
        (lambda m: m["columns"][2].update(global_step=-1), "non-negative integer"),
        (lambda m: m.update(columns={"0": {}}), "'columns'"),
        (lambda m: m.update(dataset=None), "'dataset' = None"),
        (lambda m: m.pop("store_id"), "lacks 'store_id'"),
        (lambda m: m.update(format="something-else"), "is not the meta.json"),
        (
            lambda m: m["columns"].append(dict(m["columns"][0])),
            "has 3 columns but meta.json lists 4",
        ),
        (lambda m: m.update(num_examples=9), "has 8 rows but meta.json says 9"),
        (lambda m: m.update(metadata_columns=["source", "source"]), "twice"),
        (lambda m: m.update(metadata_columns=["source", "lang"]), "lang.npy is missing"),
    ],
)
def test_meta_json_schema(tmp_path, edit, phrase):
    path = _store(tmp_path / "s")
    _edit_meta(path, edit)
    file = path / "meta.json"
    if "rows" in phrase or "lists 4" in phrase:
        file = path / "losses.npy"
    elif "lang" in phrase:
        file = path / "metadata" / "lang.npy"
    _assert_corrupt(tmp_path, file, phrase)


def test_meta_json_not_json(tmp_path):
    path = _store(tmp_path / "s")
    (path / "meta.json").write_text('{"format": ')
    _assert_corrupt(tmp_path, path / "meta.json", "is not valid JSON")


@pytest.mark.parametrize(
    "name, damage, phrase",
    [
        ("losses.npy", lambda a: a.astype(np.float64), "expected float32"),
        ("losses.npy", lambda a: np.ascontiguousarray(a), "row-major"),
        ("losses.npy", "garbage", "is not a readable .npy"),
        ("num_tokens.npy", lambda a: a[:-1], "has shape (7,), expected (8,)"),
        ("num_tokens.npy", None, "is missing"),
        ("example_ids.npy", None, "is missing"),
        ("example_ids.npy", lambda a: np.arange(len(a), dtype=float), "not supported"),
        ("metadata/source.npy", lambda a: a[:3], "has shape (3,)"),
    ],
)
def test_damaged_data_files(tmp_path, name, damage, phrase):
    path = _store(tmp_path / "s")
    f = path / name
    if damage is None:
        f.unlink()
    elif damage == "garbage":
        f.write_bytes(b"not numpy at all" * 20)
    else:
        np.save(f, damage(np.load(f)))
    _assert_corrupt(tmp_path, f, phrase)


def test_losses_resaved_by_numpy_are_read_at_the_parsed_offset(tmp_path):
    """``np.save(np.asfortranarray(a))`` writes a shorter header than the store's 256 bytes:
    every reader uses the parsed offset, and a writer keeps growing the file correctly."""
    path = _store(tmp_path / "s")
    expected = np.array(TrajectoryStore.open(path).losses)
    np.save(path / "losses.npy", np.asfortranarray(expected))
    assert (path / "losses.npy").stat().st_size == 128 + expected.nbytes  # header differs
    store = TrajectoryStore.open(path)
    np.testing.assert_array_equal(store.trajectories(), expected)
    np.testing.assert_array_equal(store.column_values(2), expected[:, 2])
    np.testing.assert_array_equal(store.losses, expected)
    with TrajectoryStore.open(path, "r+") as writer:
        c = writer.add_column(6, 3.0)
        writer.write(c, np.arange(N), np.full(N, 7.0, np.float32))
        writer.mark_complete(c)
    grown = np.load(path / "losses.npy")
    np.testing.assert_array_equal(grown[:, :3], expected)
    assert grown[:, 3].tolist() == [7.0] * N
    assert TrajectoryStore.open(path).trajectories().shape == (N, 4)
    # a selection on it sees the same values as on the original store
    a = select(path, "random", 3, seed=1)
    assert a.indices.tolist() == select(path, "random", 3, seed=1).indices.tolist()


# ------------------------------------------------------------------ selections
def _saved(tmp_path: Path) -> Path:
    sel = Selection(
        indices=[6, 1, 4],
        method="random",
        num_examples=N,
        weights=[3.0, 1.0, 2.0],
        example_ids=np.array(["e6", "e1", "e4"]),
    )
    return sel.save(tmp_path / "sel")


@pytest.mark.parametrize(
    "damage, exc, phrase",
    [
        (lambda d: np.save(d / "indices.npy", np.array([1, 4])), SelectionCorruptError, "counts 3"),
        (lambda d: np.save(d / "weights.npy", np.ones(2)), SelectionCorruptError, "counts 3"),
        (
            lambda d: np.save(d / "example_ids.npy", np.array(["a"] * 4)),
            SelectionCorruptError,
            "counts 3",
        ),
        (lambda d: (d / "indices.npy").unlink(), SelectionCorruptError, "indices.npy is missing"),
        (lambda d: (d / "selection.json").write_text("{"), SelectionCorruptError, "not valid JSON"),
        (
            lambda d: (d / "indices.npy").write_bytes(b"junk"),
            SelectionCorruptError,
            "not a readable",
        ),
        (
            lambda d: np.save(d / "indices.npy", np.array([1, 1, 4])),
            SelectionCorruptError,
            "duplicates",
        ),
        (
            lambda d: np.save(d / "indices.npy", np.array([1, 4, 99])),
            SelectionCorruptError,
            "out of range",
        ),
        (lambda d: (d / "selection.json").unlink(), FileNotFoundError, "not a saved Selection"),
    ],
)
def test_load_cross_checks_files(tmp_path, damage, exc, phrase):
    d = _saved(tmp_path)
    damage(d)
    with _unchanged(tmp_path), pytest.raises(exc, match=phrase):
        Selection.load(d)


def test_save_does_not_overwrite_unless_asked(tmp_path):
    d = _saved(tmp_path)
    with _unchanged(tmp_path), pytest.raises(SelectionExistsError, match="overwrite=True"):
        Selection(indices=[0], method="x").save(d, overwrite=False)


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_save_never_replaces_other_things(tmp_path, kind):
    target = tmp_path / "out"
    if kind == "file":
        target.write_text("mine")
    else:
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    with _unchanged(tmp_path), pytest.raises(FileExistsError, match="choose another directory"):
        Selection(indices=[0], method="x").save(target)


@pytest.mark.parametrize(
    "kwargs, phrase",
    [
        (dict(indices=[1, 1]), "duplicates"),
        (dict(indices=[1, 2], weights=[1.0]), "weights must align"),
        (dict(indices=[1, 2], example_ids=["a", "b", "c"]), "example_ids must align"),
        (dict(indices=[1, 2], order=[1, 3]), "permutation"),
        (dict(indices=[1, 9], num_examples=5), "out of range"),
        (dict(indices=[[1, 2]]), "1-D"),
    ],
)
def test_selection_constructor(kwargs, phrase):
    with pytest.raises(ValueError, match=phrase):
        Selection(method="x", **kwargs)


def test_cli_select_refuses_to_overwrite(tmp_path, capsys):
    from hf_s2l.cli import main  # in-process: the message and exit status are the point

    store = _store(tmp_path / "s")
    d = _saved(tmp_path)
    cmd = ["select", str(store), "--method", "random", "--budget", "2", "--out", str(d)]
    with _unchanged(tmp_path):
        assert main(cmd) != 0
        err = capsys.readouterr().err
        assert "already holds a saved selection" in err
        assert "--overwrite" in err
    assert main([*cmd, "--overwrite"]) == 0, capsys.readouterr().err
    assert len(Selection.load(d)) == 2


# --- issue 19 (item 14, part): groups taken whole still run the method's own checks --------
def _grouped_store(path, schedule):
    n = 12
    store = TrajectoryStore.create(path, n)
    rng = np.random.default_rng(0)
    for step, epoch, kind in schedule:
        c = store.add_column(step, epoch, kind)
        store.write(c, np.arange(n), rng.uniform(0.5, 3.0, n).astype(np.float32))
        store.mark_complete(c)
    store.set_metadata("source", np.array(["a", "b", "c"] * 4))
    return store


@pytest.mark.parametrize(
    "method, schedule, phrase",
    [
        # LP without a before-training column: it cannot run on this store
        ("lp", [(10, 1.0, "epoch_end"), (20, 2.0, "epoch_end")], "before-training column"),
        # least confidence on a store holding only the untrained model's losses
        ("least_confidence", [(0, 0.0, "train_begin")], "scores the trained proxy"),
    ],
)
@pytest.mark.parametrize("budget", [1.0, 12])
def test_groups_taken_whole_still_run_the_method_checks(tmp_path, method, schedule, phrase, budget):
    store = _grouped_store(tmp_path / "s", schedule)
    with pytest.raises(ValueError, match=phrase):
        select(store, method, budget)  # without groups: the method's error
    with pytest.raises(ValueError, match=phrase):
        select(store, method, budget, by_column="source")  # every group taken whole
