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
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import kinds
from . import lock as _lock
from ._create import DEFAULT_LOSS_DEFINITION, create_store
from ._generations import (
    being_replaced,
    check_generation,
    metadata_file,
    open_one_generation,
    pin_generation,
    pin_written_generation,
    read_file,
    reopen_generation,
)
from ._writing import StoreWriting
from .errors import StoreChangedError, StoreCorruptError, StoreLockedError, StoreMismatchError
from .jsonable import json_default
from .schema import (  # the file names stay importable from here (hub imports them)
    CELL_STEPS_FILE as CELL_STEPS_FILE,
)
from .schema import (
    EXAMPLE_IDS_FILE,
    LOSSES_FILE,
    META_FILE,
    NUM_TOKENS_FILE,
    check_files,
    check_not_linked,
    is_store,
    load_meta,
)
from .schema import (
    METADATA_DIR as METADATA_DIR,
)

__all__ = [
    "DEFAULT_LOSS_DEFINITION",
    "HubEntryPoints",
    "StoreChangedError",
    "StoreCorruptError",
    "StoreLockedError",
    "StoreMismatchError",
    "TrajectoryStore",
    "is_store",
]

# old private name of the JSON hook (selection imports it until it switches to jsonable)
_json_default = json_default


class TrajectoryStore(StoreWriting):
    """Memory-mapped matrix of per-example losses (rows = examples, columns = recording points).

    Create one with :meth:`create`, open an existing one with :meth:`open`. Recording code
    adds a column with :meth:`add_column`, fills it with :meth:`write` and finishes it with
    :meth:`mark_complete`. Selection reads :attr:`losses` and :meth:`complete_columns`.

    **One writer at a time.** :meth:`create` and ``open(path, "r+")`` take the store's writer
    lock (an OS file lock, dropped when the process exits, even by ``SIGKILL``); a second
    process that tries raises :class:`StoreLockedError` naming the holder's pid and host.
    :meth:`close` (or leaving a ``with`` block) releases it; a store never closed releases it
    when garbage-collected. Read-only opens never lock, so selection and reports work while
    a training records.

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
        # a store never closed gives its hold back when collected; close() cancels this
        self._finalizer = (
            weakref.finalize(self, _writer_lock.release_soon) if _writer_lock is not None else None
        )
        if writable:
            check_not_linked(self.path, _meta)
        self._losses, self._cell_steps = check_files(self.path, _meta)
        # read-only: every file of this generation kept open (see open(), _generations.py)
        self._pinned = {} if writable else self._pin()

    # ------------------------------------------------------------------ construction
    # create(path, num_examples, *, dataset_fingerprint=..., mode=..., exist_ok=..., ...):
    # its signature, documentation and code are in _create.py (one place)
    create = classmethod(create_store)

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
        if not is_store(path) and not being_replaced(path):
            raise FileNotFoundError(
                f"{path} is not a trajectory store (expected {META_FILE} and {LOSSES_FILE}); "
                "record one with hf_s2l.TrajectoryCallback"
            )
        if mode == "r" or not lock:
            return open_one_generation(path, lambda m: cls(path, _meta=m, writable=mode == "r+"))
        # validate before locking: a bad store stays as is
        open_one_generation(path, lambda m: cls(path, _meta=m, writable=False))
        writer = _lock.acquire(path)
        try:
            return cls(path, _meta=load_meta(path), writable=True, _writer_lock=writer)
        except BaseException:
            writer.release()
            raise

    def _pin(self) -> dict[str, Any]:
        return pin_generation(self.path, self._meta, (self._losses, self._cell_steps))

    def _read(self, name: str, *, mmap: bool = False) -> np.ndarray:
        """A small data file (``num_tokens``, ids, metadata) of this object's generation."""
        return read_file(self.path, name, self._pinned, writable=self._writable, mmap=mmap)

    def close(self) -> None:
        """Release the writer lock (if held); the object stays usable for reading."""
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._writer_lock is not None:
            self._writable = False
            try:  # this object's generation (the lock is held until it is released), or none
                self._pinned = pin_written_generation(
                    self.path, self._meta, (self._losses, self._cell_steps)
                )
            finally:
                self._writer_lock.release()
                self._writer_lock = None

    def __enter__(self) -> TrajectoryStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ properties
    @property
    def meta(self) -> dict[str, Any]:
        """A copy of the store's ``meta.json`` content."""
        return json.loads(json.dumps(self._meta, default=json_default))

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
        """True if ``column`` was recorded for ``kind`` (kinds of one step are joined by ``+``;
        a column without a kind is a ``point``): :func:`hf_s2l.store.kinds.column_has_kind`."""
        return kinds.column_has_kind(self, column, kind)

    def columns_of_kind(self, kind: str, *, complete_only: bool = True) -> np.ndarray:
        """Indices of the (complete) columns recorded for ``kind``, e.g. ``"epoch_end"``."""
        return kinds.columns_of_kind(self, kind, complete_only=complete_only)

    @property
    def num_tokens(self) -> np.ndarray:
        """Target tokens counted in each example's loss (int64, -1 = unknown)."""
        return self._read(NUM_TOKENS_FILE, mmap=True)

    @property
    def example_ids(self) -> np.ndarray | None:
        """Stable example ids recorded from the dataset's id column, if any."""
        if not self._meta.get("has_example_ids"):
            return None
        return self._read(EXAMPLE_IDS_FILE)

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
        h.update(json.dumps(ident, sort_keys=True, default=json_default).encode())
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
        return self._read(metadata_file(name))

    # ------------------------------------------------------------------ reading back
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

    def refresh(self) -> None:
        """Re-read meta.json and file headers (after another process added columns); a store
        replaced since it was opened raises :class:`StoreChangedError` (open it again)."""
        if self._writable:
            meta = load_meta(self.path)
            self._losses, self._cell_steps = check_files(self.path, meta)
            self._meta = meta
            return
        reopen = lambda meta: type(self)(self.path, _meta=meta, writable=False)  # noqa: E731
        fresh = reopen_generation(self.path, self._meta["store_id"], reopen)
        self._meta, self._losses, self._pinned = fresh._meta, fresh._losses, fresh._pinned
        self._cell_steps = fresh._cell_steps

    def check_generation(self) -> None:
        """:class:`StoreChangedError` unless the folder still holds the store this object opened."""
        check_generation(self.path, self._meta["store_id"])

    def __repr__(self) -> str:
        return (
            f"TrajectoryStore(path={str(self.path)!r}, num_examples={self.num_examples}, "
            f"num_columns={self.num_columns}, complete={len(self.complete_columns())}, mode={self.mode!r})"
        )

    # ------------------------------------------------------------------ Hub entry points
    # The store layer does not know the Hub: ``hf_s2l/__init__.py`` (which runs before any
    # module of the package, and sees both layers) binds these two to ``hf_s2l.hub``.
    _hub: ClassVar[HubEntryPoints | None] = None

    @classmethod
    def bind_hub(cls, entry_points: HubEntryPoints) -> None:
        """Set what :meth:`push_to_hub` and :meth:`from_hub` call (done by ``hf_s2l`` at
        import, with ``hf_s2l.hub.push_store_to_hub`` / ``store_from_hub``)."""
        cls._hub = entry_points

    @classmethod
    def _hub_entry_points(cls) -> HubEntryPoints:
        if cls._hub is None:  # only if something unbound it: hf_s2l binds it at import
            raise RuntimeError(
                "TrajectoryStore has no Hub entry points bound; use "
                "hf_s2l.hub.push_store_to_hub(store, repo_id) / hf_s2l.hub.store_from_hub(repo_id)"
            )
        return cls._hub

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Publish this store as a Hub dataset repo (``hf_s2l.hub.push_store_to_hub``)."""
        return self._hub_entry_points().push(self, repo_id, **kwargs)

    @classmethod
    def from_hub(cls, repo_id: str, revision: str | None = None, **kwargs: Any) -> TrajectoryStore:
        """Open a store published on the Hub, through the Hugging Face cache
        (``hf_s2l.hub.store_from_hub``; ``hf_s2l.hub.open_store("hf://...")`` also works)."""
        return cls._hub_entry_points().load(repo_id, revision, **kwargs)


@dataclass(frozen=True)
class HubEntryPoints:
    """What :meth:`TrajectoryStore.push_to_hub` / :meth:`TrajectoryStore.from_hub` call:
    ``push(store, repo_id, **kwargs)`` and ``load(repo_id, revision, **kwargs)``."""

    push: Callable[..., Any]
    load: Callable[..., TrajectoryStore]
