"""The on-disk trajectory store: one row per training example, one column per recording point.

Layout of a store directory::

    losses.npy        float32 N x T, standard .npy (column-major), NaN = not recorded
    num_tokens.npy    int64 N, target tokens counted in each example's loss (-1 = unknown)
    cell_steps.npy    int64 N x T, global step at which each cell was measured (in-step
                      stores only; -1 = not recorded)
    example_ids.npy   optional, N stable example ids (see ``hf_s2l.add_example_ids``)
    metadata/NAME.npy optional per-example columns such as ``source``
    meta.json         schema version, N, per-column step/epoch/wall time/completion,
                      dataset length + fingerprint, model, loss definition, library version
    .hf-s2l-writer.lock / .hf-s2l-writer.json   the writer lock and its holder (see lock.py)

``losses.npy`` can be read by plain ``numpy.load(path, mmap_mode="r")``. Adding a column
appends to the file; nothing already written is rewritten or loaded into RAM. ``meta.json``
is written atomically (temporary file + rename) and is the source of truth: a column is
only marked complete after every row of it has been written. One process writes a store at
a time (an OS lock); every open validates the store against ``schema.py``. See
``docs/store.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..version import __version__
from . import lock as _lock
from ._fs import atomic_save_npy, atomic_write_json, make_temp_dir
from .errors import StoreCorruptError, StoreLockedError, StoreMismatchError
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
    check_files,
    check_metadata_name,
    load_meta,
)

__all__ = [
    "StoreCorruptError",
    "StoreLockedError",
    "StoreMismatchError",
    "TrajectoryStore",
    "is_store",
]

DEFAULT_LOSS_DEFINITION = (
    "mean token cross-entropy over the example's target tokens (labels != -100, shifted by one "
    "for causal LMs), i.e. model(input_ids=x[None], attention_mask=m[None], labels=y[None]).loss"
)

# files a store writes (an interrupted write may leave some of them without meta.json)
_STORE_FILES = {
    LOSSES_FILE,
    NUM_TOKENS_FILE,
    CELL_STEPS_FILE,
    EXAMPLE_IDS_FILE,
    META_FILE,
    METADATA_DIR,
    _lock.LOCK_FILE,
    _lock.HOLDER_FILE,
}


def _atomic_write_json(path: Path, payload: dict[str, Any]) -> None:
    atomic_write_json(path, payload, default=_json_default)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def is_store(path: str | os.PathLike) -> bool:
    """True if ``path`` is a directory holding a trajectory store."""
    return (Path(path) / META_FILE).is_file() and (Path(path) / LOSSES_FILE).is_file()


class TrajectoryStore:
    """Memory-mapped matrix of per-example losses (rows = examples, columns = recording points).

    Create one with :meth:`create`, open an existing one with :meth:`open`. Recording code
    adds a column with :meth:`add_column`, fills it with :meth:`write` and finishes it with
    :meth:`mark_complete`. Selection reads :attr:`losses` and :meth:`complete_columns`.

    **One writer at a time.** :meth:`create` and ``open(path, "r+")`` take the store's writer
    lock (an OS file lock, dropped when the process exits, even by ``SIGKILL``); a second
    process that tries raises :class:`StoreLockedError` naming the holder's pid and host.
    :meth:`close` (or leaving a ``with`` block) releases it. Read-only opens never lock, so
    selection and reports work while a training records.

    **Validated on open.** ``meta.json`` is checked field by field and every data file's
    header is parsed and its size checked; a damaged store raises
    :class:`StoreCorruptError` naming the file, and no method runs on it.

    Example:
        >>> with TrajectoryStore.create("traj", num_examples=3) as store:
        ...     c = store.add_column(global_step=0, epoch=0.0, kind="train_begin")
        ...     store.write(c, [0, 1, 2], [2.5, 2.1, 3.0])
        ...     store.mark_complete(c)
        >>> TrajectoryStore.open("traj").losses.shape
        (3, 1)
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        _meta: dict[str, Any],
        writable: bool,
        _writer_lock: _lock.WriterLock | None = None,
    ) -> None:
        self.path = Path(path)
        self._meta = _meta
        self._writable = writable
        self._writer_lock = _writer_lock
        if _writer_lock is not None:
            weakref.finalize(self, _writer_lock.release)
        self._losses, self._cell_steps = check_files(self.path, _meta)
        if not writable:  # reads stay on this generation's files (see open())
            for cf in (self._losses, self._cell_steps):
                if cf is not None:
                    cf.pin()

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
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
    ) -> TrajectoryStore:
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
            return cls._continue(path, num_examples, dataset_fingerprint)
        if path.exists() and not is_store(path):
            _check_empty_dir(path)
        parent = path.parent if str(path.parent) else Path(".")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PermissionError(f"cannot create the store directory {path}: {e}") from e
        if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise PermissionError(
                f"cannot write a trajectory store to {path}: directory not writable"
            )

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
                _build(tmp, meta, example_ids, track_cell_steps)
                _swap_in(tmp, path)
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
            _build(tmp, meta, example_ids, track_cell_steps)
            try:
                if os.name == "nt" and path.is_dir():  # Windows cannot rename onto a folder
                    path.rmdir()
                os.replace(tmp, path)  # fails if another process made path a store meanwhile
            except OSError:
                if not is_store(path):
                    if path.exists():
                        _check_empty_dir(path)  # someone put files there meanwhile
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

    @classmethod
    def _continue(
        cls, path: Path, num_examples: int, dataset_fingerprint: str | None
    ) -> TrajectoryStore:
        # check read-only first: a store of another dataset is left untouched (not even locked)
        cls.open(path, mode="r").check_matches(num_examples, dataset_fingerprint)
        return cls.open(path, mode="r+")

    @classmethod
    def open(
        cls, path: str | os.PathLike, mode: str = "r", *, lock: bool = True
    ) -> TrajectoryStore:
        """Open an existing store; ``mode="r+"`` to add columns or write values.

        ``"r+"`` takes the store's writer lock (:class:`StoreLockedError` if another process
        holds it); ``lock=False`` skips it, for a process that writes rows on behalf of the
        lock holder (e.g. a distributed rank whose main process holds the lock). ``"r"``
        never locks. The store is validated (:class:`StoreCorruptError`).
        """
        path = Path(path)
        if mode not in ("r", "r+"):
            raise ValueError(f"mode must be 'r' or 'r+', got {mode!r}")
        if not is_store(path) and not _being_replaced(path):
            raise FileNotFoundError(
                f"{path} is not a trajectory store (expected {META_FILE} and {LOSSES_FILE}); "
                "record one with hf_s2l.TrajectoryCallback"
            )
        if mode == "r" or not lock:
            return _open_one_generation(path, lambda m: cls(path, _meta=m, writable=mode == "r+"))
        # validate before locking: a bad store stays as is
        _open_one_generation(path, lambda m: cls(path, _meta=m, writable=False))
        writer = _lock.acquire(path)
        try:
            return cls(path, _meta=load_meta(path), writable=True, _writer_lock=writer)
        except BaseException:
            writer.release()
            raise

    def close(self) -> None:
        """Release the writer lock (if held); the object stays usable for reading."""
        if self._writer_lock is not None:
            self._writer_lock.release()
            self._writer_lock = None
            self._writable = False

    def __enter__(self) -> TrajectoryStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ properties
    @property
    def meta(self) -> dict[str, Any]:
        """A copy of the store's ``meta.json`` content."""
        return json.loads(json.dumps(self._meta, default=_json_default))

    @property
    def num_examples(self) -> int:
        return int(self._meta["num_examples"])

    @property
    def num_columns(self) -> int:
        return len(self._meta["columns"])

    @property
    def mode(self) -> str:
        return str(self._meta.get("mode", "probe"))

    @property
    def columns(self) -> list[dict[str, Any]]:
        """Per-column metadata: ``global_step``, ``epoch``, ``kind``, ``wall_time``, ``complete``."""
        return [dict(c) for c in self._meta["columns"]]

    @property
    def losses(self) -> np.ndarray:
        """The ``N x T`` float32 loss matrix (read-only memmap; NaN = not recorded)."""
        # the file may hold an extra, unregistered column of an interrupted add_column
        return self._losses.matrix(self.num_columns)

    @property
    def cell_steps(self) -> np.ndarray | None:
        """``N x T`` int64 global step of every cell (in-step stores), else ``None``."""
        return None if self._cell_steps is None else self._cell_steps.matrix(self.num_columns)

    @property
    def steps(self) -> np.ndarray:
        """Global step of every column (int64, length T)."""
        return np.array([c["global_step"] for c in self._meta["columns"]], dtype=np.int64)

    @property
    def epochs(self) -> np.ndarray:
        """Epoch (float, as the Trainer reports it) of every column."""
        return np.array([c["epoch"] for c in self._meta["columns"]], dtype=np.float64)

    @property
    def kinds(self) -> list[str]:
        """Why each column was recorded: ``train_begin``, ``epoch_end``, ``interval``, ``point``, ``epoch``."""
        return [str(c.get("kind", "")) for c in self._meta["columns"]]

    def column_has_kind(self, column: int, kind: str) -> bool:
        """True if ``column`` was recorded for ``kind`` (kinds of one step are joined by ``+``)."""
        return kind in self.kinds[column].split("+")

    def columns_of_kind(self, kind: str, *, complete_only: bool = True) -> np.ndarray:
        """Indices of the (complete) columns recorded for ``kind``, e.g. ``"epoch_end"``."""
        cols = self.complete_columns() if complete_only else np.arange(self.num_columns)
        return np.array([c for c in cols if self.column_has_kind(int(c), kind)], dtype=np.int64)

    @property
    def num_tokens(self) -> np.ndarray:
        """Target tokens counted in each example's loss (int64, -1 = unknown)."""
        return np.load(self.path / NUM_TOKENS_FILE, mmap_mode="r")

    @property
    def example_ids(self) -> np.ndarray | None:
        """Stable example ids recorded from the dataset's id column, if any."""
        if not self._meta.get("has_example_ids"):
            return None
        return np.load(self.path / EXAMPLE_IDS_FILE, allow_pickle=False)

    @property
    def dataset_fingerprint(self) -> str | None:
        return self._meta["dataset"].get("fingerprint")

    @property
    def dataset_length(self) -> int:
        return int(self._meta["dataset"]["length"])

    @property
    def model_name_or_path(self) -> str | None:
        return self._meta["model"].get("name_or_path")

    @property
    def fingerprint(self) -> str:
        """A content fingerprint of the store: identity, dataset and the recorded columns."""
        h = hashlib.sha256()
        ident = {
            "store_id": self._meta["store_id"],
            "num_examples": self.num_examples,
            "dataset": self._meta["dataset"],
            "columns": [
                (c["global_step"], c["epoch"], c.get("kind"), bool(c["complete"]))
                for c in self._meta["columns"]
            ],
        }
        h.update(json.dumps(ident, sort_keys=True, default=_json_default).encode())
        return h.hexdigest()[:16]

    def complete_columns(self) -> np.ndarray:
        """Indices of the columns whose every row has been written (int64, ascending)."""
        return np.array(
            [i for i, c in enumerate(self._meta["columns"]) if c["complete"]], dtype=np.int64
        )

    def find_column(self, global_step: int, kind: str | None = None) -> int | None:
        """Index of the column recorded at ``global_step`` (and ``kind``), or ``None``."""
        for i, c in enumerate(self._meta["columns"]):
            if c["global_step"] == global_step and (kind is None or c.get("kind") == kind):
                return i
        return None

    def trajectories(self, columns: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Dense ``N x len(columns)`` float32 copy of the chosen (default: complete) columns."""
        cols = self.complete_columns() if columns is None else np.asarray(columns, dtype=np.int64)
        out = np.empty((self.num_examples, len(cols)), dtype=np.float32)
        for j, c in enumerate(cols):
            out[:, j] = self._losses.column(int(c), mode="r")
        return out

    def column_values(self, column: int) -> np.ndarray:
        """One column as a read-only memmap (length N)."""
        return self._losses.column(int(column), mode="r")

    # ------------------------------------------------------------------ metadata columns
    @property
    def metadata_columns(self) -> list[str]:
        return list(self._meta.get("metadata_columns", []))

    def metadata(self, name: str) -> np.ndarray:
        """A per-example metadata column (e.g. ``source``) saved with :meth:`set_metadata`."""
        if name not in self.metadata_columns:  # never a path: "../example_ids" is no column
            raise KeyError(
                f"store has no metadata column {name!r}; available: "
                f"{', '.join(self.metadata_columns) or 'none'}"
            )
        return np.load(self.path / METADATA_DIR / f"{name}.npy", allow_pickle=False)

    def set_metadata(self, name: str, values: Sequence[Any] | np.ndarray) -> None:
        """Save a per-example column (length N) such as the data source of each example."""
        self._require_writable()
        check_metadata_name(name)
        arr = np.asarray(values)
        if arr.dtype == object:
            arr = arr.astype(str)
        if arr.ndim != 1 or len(arr) != self.num_examples:
            raise ValueError(
                f"metadata column {name!r} has shape {arr.shape}, expected ({self.num_examples},)"
            )
        d = self.path / METADATA_DIR
        d.mkdir(exist_ok=True)
        atomic_save_npy(d / f"{name}.npy", arr)
        if name not in self._meta["metadata_columns"]:
            self._meta["metadata_columns"].append(name)
            self._save_meta()

    def set_example_ids(self, ids: Sequence[Any] | np.ndarray) -> None:
        """Record the stable id of every example (length N)."""
        self._require_writable()
        arr = _ids_array(ids)
        if len(arr) != self.num_examples:
            raise ValueError(f"got {len(arr)} ids for {self.num_examples} examples")
        atomic_save_npy(self.path / EXAMPLE_IDS_FILE, arr)
        self._meta["has_example_ids"] = True
        self._save_meta()

    # ------------------------------------------------------------------ writing
    def check_matches(self, num_examples: int, dataset_fingerprint: str | None) -> None:
        """Raise :class:`StoreMismatchError` unless this store was made for that dataset."""
        if num_examples != self.num_examples:
            raise StoreMismatchError(
                f"{self.path} holds a store of {self.num_examples} examples but the dataset has "
                f"{num_examples}; use another output directory"
            )
        mine = self.dataset_fingerprint
        if mine is not None and dataset_fingerprint is not None and mine != dataset_fingerprint:
            raise StoreMismatchError(
                f"{self.path} holds a store of another dataset (fingerprint {mine} != "
                f"{dataset_fingerprint}); use another output directory"
            )

    def add_column(
        self,
        global_step: int,
        epoch: float,
        kind: str = "point",
        **info: Any,
    ) -> int:
        """Append an empty (all-NaN, incomplete) column and return its index."""
        self._require_writable()
        n_meta = len(self._meta["columns"])
        for cf in (self._losses, self._cell_steps):
            if cf is not None:
                cf.refresh()
                if cf.num_columns > n_meta:  # left by a crash inside a previous add_column
                    cf.truncate(n_meta)
        col = self._losses.append_column(np.nan)
        if self._cell_steps is not None:
            self._cell_steps.append_column(-1)
        self._meta["columns"].append(
            {
                "global_step": int(global_step),
                "epoch": float(epoch),
                "kind": kind,
                "wall_time": None,
                "complete": False,
                **info,
            }
        )
        self._save_meta()
        return col

    def refresh(self) -> None:
        """Re-read meta.json and file headers (after another process changed the store)."""
        meta = load_meta(self.path)
        self._losses, self._cell_steps = check_files(self.path, meta)
        self._meta = meta

    def write(
        self,
        column: int,
        indices: Sequence[int] | np.ndarray,
        values: Sequence[float] | np.ndarray,
        *,
        steps: Sequence[int] | np.ndarray | int | None = None,
    ) -> None:
        """Write ``values`` into rows ``indices`` of ``column`` (and their global steps)."""
        self._require_writable()
        if column >= self._losses.num_columns:
            self.refresh()
        idx = np.asarray(indices, dtype=np.int64)
        vals = np.asarray(values, dtype=np.float32)
        if idx.shape != vals.shape or idx.ndim != 1:
            raise ValueError(
                f"indices {idx.shape} and values {vals.shape} must be equal 1-D shapes"
            )
        if len(idx) and (idx.min() < 0 or idx.max() >= self.num_examples):
            raise IndexError(f"row index out of range for a store of {self.num_examples} examples")
        mm = self._losses.column(column)
        mm[idx] = vals
        mm.flush()
        if steps is not None:
            if self._cell_steps is None:
                raise ValueError(
                    "this store does not track per-cell steps (create with track_cell_steps=True)"
                )
            sm = self._cell_steps.column(column)
            sm[idx] = np.broadcast_to(np.asarray(steps, dtype=np.int64), idx.shape)
            sm.flush()

    def write_num_tokens(
        self, indices: Sequence[int] | np.ndarray, counts: Sequence[int] | np.ndarray
    ) -> None:
        """Record how many target tokens each example's loss averages over."""
        self._require_writable()
        mm = np.load(self.path / NUM_TOKENS_FILE, mmap_mode="r+")
        mm[np.asarray(indices, dtype=np.int64)] = np.asarray(counts, dtype=np.int64)
        mm.flush()

    def mark_complete(self, column: int, **summary: Any) -> None:
        """Mark ``column`` complete (call only after every row is written) with a summary."""
        self._require_writable()
        c = self._meta["columns"][column]
        c.update(summary)
        c["complete"] = True
        c["wall_time"] = time.time()
        self._save_meta()

    def reset_column(self, column: int) -> None:
        """Clear a column back to all-NaN and incomplete (to redo a half-written one)."""
        self._require_writable()
        mm = self._losses.column(column)
        mm[:] = np.nan
        mm.flush()
        if self._cell_steps is not None:
            sm = self._cell_steps.column(column)
            sm[:] = -1
            sm.flush()
        self._meta["columns"][column]["complete"] = False
        self._meta["columns"][column]["wall_time"] = None
        self._save_meta()

    def update_column_info(self, column: int, **info: Any) -> None:
        """Add or change fields of a column's metadata (e.g. its step)."""
        self._require_writable()
        self._meta["columns"][column].update(info)
        self._save_meta()

    def update_extra(self, **extra: Any) -> None:
        """Merge free-form provenance (recording schedule, trainer args…) into meta.json."""
        self._require_writable()
        self._meta.setdefault("extra", {}).update(extra)
        self._save_meta()

    def _require_writable(self) -> None:
        if not self._writable:
            raise PermissionError("store opened read-only; use TrajectoryStore.open(path, 'r+')")

    def _save_meta(self) -> None:
        _atomic_write_json(self.path / META_FILE, self._meta)

    def __repr__(self) -> str:
        return (
            f"TrajectoryStore(path={str(self.path)!r}, num_examples={self.num_examples}, "
            f"num_columns={self.num_columns}, complete={len(self.complete_columns())}, mode={self.mode!r})"
        )

    # ------------------------------------------------------------------ Hub (hf_s2l.hub.trajectories)
    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Publish this store as a Hub dataset repo (see :func:`hf_s2l.hub.trajectories.push_store_to_hub`)."""
        from ..hub.trajectories import push_store_to_hub

        return push_store_to_hub(self, repo_id, **kwargs)

    @classmethod
    def from_hub(cls, repo_id: str, revision: str | None = None, **kwargs: Any) -> TrajectoryStore:
        """Open a store published with :meth:`push_to_hub`, through the Hugging Face cache."""
        from ..hub.trajectories import store_from_hub

        return store_from_hub(repo_id, revision, **kwargs)


def _ids_array(ids: Sequence[Any] | np.ndarray) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.dtype == object:
        arr = arr.astype(str)
    if arr.dtype.kind not in "iuU":
        arr = arr.astype(str)
    return arr


OPEN_RETRIES = 100
T = TypeVar("T")


def _being_replaced(path: Path, wait_s: float = 2.0) -> bool:
    """True once ``meta.json`` appears within ``wait_s`` in a folder holding the other store
    files (a replace removes it first and writes it last)."""
    if not (path / LOSSES_FILE).is_file():
        return False
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if (path / META_FILE).is_file():
            return True
        time.sleep(0.005)
    return False


def _generation(path: Path) -> str | None:
    """``store_id`` of the store's current ``meta.json`` (None if absent or unreadable)."""
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        return meta.get("store_id") if isinstance(meta, dict) else None
    except (OSError, ValueError, RecursionError):
        return None


def _open_one_generation(path: Path, build: Callable[[dict[str, Any]], T]) -> T:
    """``build(meta)`` with ``meta.json`` and the data files of one store generation.

    A replace (``create(..., replace=True)``, the callback's ``overwrite=True``) removes
    ``meta.json`` first, then swaps the data files, then writes a ``meta.json`` with a new
    ``store_id``. So if ``meta.json`` names the same ``store_id`` before and after the data
    files were opened (a read-only store keeps them open), they belong to that meta.json;
    otherwise the open is retried. Stores of every version have a ``store_id``.
    """
    last: BaseException | None = None
    for attempt in range(OPEN_RETRIES):
        if attempt:
            time.sleep(min(0.001 * attempt, 0.05))
        try:
            meta = load_meta(path)
        except FileNotFoundError as e:  # between a replace's first and last step
            last = e
            continue
        try:
            obj = build(meta)
        except (StoreCorruptError, FileNotFoundError) as e:
            if _generation(path) == meta["store_id"]:
                raise  # the store itself is damaged, not being replaced
            last = e
            continue
        if _generation(path) == meta["store_id"]:
            return obj
    if isinstance(last, FileNotFoundError) and not (path / META_FILE).exists():
        raise FileNotFoundError(
            f"{path} is not a trajectory store (expected {META_FILE} and {LOSSES_FILE}); "
            "record one with hf_s2l.TrajectoryCallback"
        )
    raise StoreCorruptError(
        path / META_FILE,
        f"kept changing while it was opened ({OPEN_RETRIES} tries): another process is "
        "replacing the store again and again; open it once that is done",
    )


def _build(tmp: Path, meta: dict[str, Any], example_ids: Any, track_cell_steps: bool) -> None:
    """Write the files of a new, empty store into ``tmp`` (``meta.json`` last)."""
    n = int(meta["num_examples"])
    ColumnFile.create(tmp / LOSSES_FILE, n, np.float32)
    if track_cell_steps:
        ColumnFile.create(tmp / CELL_STEPS_FILE, n, np.int64)
    np.save(tmp / NUM_TOKENS_FILE, np.full(n, -1, dtype=np.int64))
    if example_ids is not None:
        np.save(tmp / EXAMPLE_IDS_FILE, _ids_array(example_ids))
    _atomic_write_json(tmp / META_FILE, meta)


def _swap_in(tmp: Path, path: Path) -> None:
    """Replace the store files in ``path`` by those built in ``tmp`` (lock files stay)."""
    (path / META_FILE).unlink()  # from here on path is no store until the new meta.json
    for name in (LOSSES_FILE, CELL_STEPS_FILE, NUM_TOKENS_FILE, EXAMPLE_IDS_FILE):
        if (tmp / name).exists():
            os.replace(tmp / name, path / name)
        elif (path / name).exists():
            (path / name).unlink()
    shutil.rmtree(path / METADATA_DIR, ignore_errors=True)
    os.replace(tmp / META_FILE, path / META_FILE)


def _check_empty_dir(path: Path) -> None:
    """``FileExistsError`` unless ``path`` is an empty directory."""
    if not path.is_dir():
        raise FileExistsError(
            f"{path} exists and is not an empty directory nor a trajectory store; "
            "choose another output directory"
        )
    entries = {p.name for p in path.iterdir()}
    if not entries:
        return
    if entries <= _STORE_FILES:
        raise FileExistsError(
            f"{path} holds the files of an interrupted trajectory store write but no {META_FILE}; "
            "delete the directory or choose another output directory"
        )
    raise FileExistsError(
        f"{path} exists and is not an empty directory nor a trajectory store; "
        "choose another output directory"
    )
