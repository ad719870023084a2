"""Creating a store: a new one appears whole and already locked; a replaced one is swapped.

:func:`create_store` *is* :meth:`TrajectoryStore.create` (``create =
classmethod(create_store)``: one signature, one docstring); it gets the class, so this module
does not import it. A new store is built in a sibling temporary directory, locked
from the start, then renamed into place; ``replace=True`` builds the new files aside and swaps
them in under the old store's lock (``meta.json`` removed first and written last, see
``_generations.py``). A directory holding anything but a store is never touched.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..version import __version__
from . import lock as _lock
from ._fs import make_temp_dir
from .npy_columns import ColumnFile
from .schema import (
    CELL_STEPS_FILE,
    EXAMPLE_IDS_FILE,
    LOSSES_FILE,
    META_FILE,
    METADATA_DIR,
    NUM_TOKENS_FILE,
    SCHEMA_VERSION,
    STORE_FORMAT,
    STORE_MODES,
    is_store,
    save_meta,
)

S = TypeVar("S")  # the store class (TrajectoryStore; not imported: it imports this module)

DEFAULT_LOSS_DEFINITION = (
    "mean token cross-entropy over the example's target tokens (labels != -100, shifted by one "
    "for causal LMs), i.e. model(input_ids=x[None], attention_mask=m[None], labels=y[None]).loss"
)

# files a store writes (an interrupted write may leave some of them without meta.json)
STORE_FILES = {
    LOSSES_FILE,
    NUM_TOKENS_FILE,
    CELL_STEPS_FILE,
    EXAMPLE_IDS_FILE,
    META_FILE,
    METADATA_DIR,
    _lock.LOCK_FILE,
    _lock.HOLDER_FILE,
}


def create_store(
    cls: type[S],
    path: str | os.PathLike,
    num_examples: int,
    *,
    dataset_fingerprint: str | None = None,
    model_name_or_path: str | None = None,
    model_revision: str | None = None,
    mode: str = "probe",
    loss_definition: str = DEFAULT_LOSS_DEFINITION,
    example_ids: Sequence[Any] | np.ndarray | None = None,
    track_cell_steps: bool | None = None,
    extra: dict[str, Any] | None = None,
    exist_ok: bool = False,
    replace: bool = False,
) -> S:
    """Create a new empty store at ``path`` (a new or empty directory) and lock it for writing.

    With ``exist_ok=True`` an existing store with the same number of examples and dataset
    fingerprint is opened for appending instead (used when training resumes); one of a
    different dataset raises :class:`StoreMismatchError` and is left untouched. With
    ``replace=True`` an existing trajectory store (of any dataset) is replaced by the new
    empty one. A directory holding anything else is never touched. Raises
    :class:`StoreLockedError` if another process writes the store. Nothing is left behind
    on failure.
    """
    path = Path(path)
    if not isinstance(num_examples, (int, np.integer)) or isinstance(num_examples, bool):
        raise TypeError(f"num_examples must be an int, got {type(num_examples).__name__}")
    if num_examples <= 0:
        raise ValueError(
            f"cannot create a trajectory store for {num_examples} examples: the dataset is empty"
        )
    if mode not in STORE_MODES:
        raise ValueError(f"mode must be one of {STORE_MODES}, got {mode!r}")
    if example_ids is not None and len(example_ids) != num_examples:
        raise ValueError(
            f"example_ids has {len(example_ids)} entries but the store has {num_examples} examples"
        )
    if is_store(path) and not replace:
        if not exist_ok:
            raise FileExistsError(
                f"{path} already holds a trajectory store; open it with TrajectoryStore.open "
                "or pass exist_ok=True to continue it"
            )
        return continue_store(cls, path, num_examples, dataset_fingerprint)
    if path.exists() and not is_store(path):
        check_empty_dir(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PermissionError(f"cannot create the store directory {path}: {e}") from e
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise PermissionError(f"cannot write a trajectory store to {path}: directory not writable")

    if track_cell_steps is None:
        track_cell_steps = mode == "in_step"
    meta: dict[str, Any] = {
        "format": STORE_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "store_id": uuid.uuid4().hex,
        "num_examples": int(num_examples),
        "mode": mode,
        "created_at": time.time(),
        "library_version": __version__,
        "loss_definition": loss_definition,
        "dataset": {"length": int(num_examples), "fingerprint": dataset_fingerprint},
        "model": {"name_or_path": model_name_or_path, "revision": model_revision},
        "has_example_ids": example_ids is not None,
        "metadata_columns": [],
        "columns": [],
        "extra": dict(extra or {}),
    }
    kwargs = dict(
        dataset_fingerprint=dataset_fingerprint,
        model_name_or_path=model_name_or_path,
        model_revision=model_revision,
        mode=mode,
        loss_definition=loss_definition,
        example_ids=example_ids,
        track_cell_steps=track_cell_steps,
        extra=extra,
        exist_ok=exist_ok,
        replace=replace,
    )
    if is_store(path):  # replace=True: swap new files in under the old store's lock
        writer = _lock.acquire(path)
        tmp = make_temp_dir(parent, prefix=f".{path.name}.tmp-")
        try:
            build(tmp, meta, example_ids, track_cell_steps)
            swap_in(tmp, path)
        except BaseException:
            writer.release()
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return cls(path, _meta=meta, writable=True, _writer_lock=writer)
    # A new store: built in a sibling temporary directory, locked from the start, then
    # moved into place (it appears whole, and already locked).
    tmp = make_temp_dir(parent, prefix=f".{path.name}.tmp-")
    writer = None
    try:
        writer = _lock.acquire(tmp)
        build(tmp, meta, example_ids, track_cell_steps)
        try:
            if os.name == "nt" and path.is_dir():  # Windows cannot rename onto a folder
                path.rmdir()
            os.replace(tmp, path)  # fails if another process made path a store meanwhile
        except OSError:
            if not is_store(path):
                if path.exists():
                    check_empty_dir(path)  # someone put files there meanwhile
                raise
            raced = True
        else:
            raced = False
            writer.store_dir = path
    except BaseException:
        if writer is not None:
            writer.release()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not raced:
        return cls(path, _meta=meta, writable=True, _writer_lock=writer)
    # Another process created the store at the same instant and (normally) still holds
    # its lock: that is a second writer (StoreLockedError), not a file-system error.
    writer.release()
    shutil.rmtree(tmp, ignore_errors=True)
    _lock.acquire(path).release()
    return cls.create(path, num_examples, **kwargs)


def continue_store(
    cls: type[S], path: Path, num_examples: int, dataset_fingerprint: str | None
) -> S:
    """Open an existing store for appending (``create(..., exist_ok=True)``)."""
    # check read-only first: a store of another dataset is left untouched (not even locked)
    cls.open(path, mode="r").check_matches(num_examples, dataset_fingerprint)
    return cls.open(path, mode="r+")


def ids_array(ids: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Example ids as an array ``np.save`` stores without pickles (ints or strings)."""
    arr = np.asarray(ids)
    if arr.dtype == object:
        arr = arr.astype(str)
    if arr.dtype.kind not in "iuU":
        arr = arr.astype(str)
    return arr


def build(tmp: Path, meta: dict[str, Any], example_ids: Any, track_cell_steps: bool) -> None:
    """Write the files of a new, empty store into ``tmp`` (``meta.json`` last)."""
    n = int(meta["num_examples"])
    ColumnFile.create(tmp / LOSSES_FILE, n, np.float32)
    if track_cell_steps:
        ColumnFile.create(tmp / CELL_STEPS_FILE, n, np.int64)
    np.save(tmp / NUM_TOKENS_FILE, np.full(n, -1, dtype=np.int64))
    if example_ids is not None:
        np.save(tmp / EXAMPLE_IDS_FILE, ids_array(example_ids))
    save_meta(tmp / META_FILE, meta)


def swap_in(tmp: Path, path: Path) -> None:
    """Replace the store files in ``path`` by those built in ``tmp`` (lock files stay)."""
    (path / META_FILE).unlink()  # from here on path is no store until the new meta.json
    for name in (LOSSES_FILE, CELL_STEPS_FILE, NUM_TOKENS_FILE, EXAMPLE_IDS_FILE):
        if (tmp / name).exists():
            os.replace(tmp / name, path / name)
        elif (path / name).exists():
            (path / name).unlink()
    shutil.rmtree(path / METADATA_DIR, ignore_errors=True)
    os.replace(tmp / META_FILE, path / META_FILE)


def check_empty_dir(path: Path) -> None:
    """``FileExistsError`` unless ``path`` is an empty directory."""
    if not path.is_dir():
        raise FileExistsError(
            f"{path} exists and is not an empty directory nor a trajectory store; "
            "choose another output directory"
        )
    entries = {p.name for p in path.iterdir()}
    if not entries:
        return
    if entries <= STORE_FILES:
        raise FileExistsError(
            f"{path} holds the files of an interrupted trajectory store write but no {META_FILE}; "
            "delete the directory or choose another output directory"
        )
    raise FileExistsError(
        f"{path} exists and is not an empty directory nor a trajectory store; "
        "choose another output directory"
    )
