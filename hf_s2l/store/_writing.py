"""Writing a store: the methods a recorder calls on a store opened for writing (a mixin).

:class:`StoreWriting` is mixed into :class:`~hf_s2l.store.TrajectoryStore`. A recorder adds a
column (:meth:`~StoreWriting.add_column`, all-NaN and incomplete), writes rows into it
(:meth:`~StoreWriting.write`) and marks it complete (:meth:`~StoreWriting.mark_complete`) only
after every row is written; ``meta.json`` is rewritten atomically after every change to it.
Every method raises ``PermissionError`` on a store opened read-only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._create import ids_array
from ._fs import atomic_save_npy
from .npy_columns import ColumnFile, check_npy, open_for_writing
from .schema import (
    EXAMPLE_IDS_FILE,
    META_FILE,
    METADATA_DIR,
    NUM_TOKENS_FILE,
    check_metadata_name,
    save_meta,
)


class StoreWriting:
    """Writing methods of :class:`~hf_s2l.store.TrajectoryStore` (see the module docstring)."""

    path: Path
    _meta: dict[str, Any]
    _writable: bool
    _losses: ColumnFile
    _cell_steps: ColumnFile | None
    num_examples: int  # these and refresh() come from TrajectoryStore

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
        path = self.path / NUM_TOKENS_FILE
        h = check_npy(path, shape=(self.num_examples,), dtype=np.int64)
        with open_for_writing(path) as f:  # never through a link (the map keeps its handle)
            mm = np.memmap(f, dtype=np.int64, mode="r+", offset=h.offset, shape=h.shape)
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
        arr = ids_array(ids)
        if len(arr) != self.num_examples:
            raise ValueError(f"got {len(arr)} ids for {self.num_examples} examples")
        atomic_save_npy(self.path / EXAMPLE_IDS_FILE, arr)
        self._meta["has_example_ids"] = True
        self._save_meta()

    def _require_writable(self) -> None:
        if not self._writable:
            raise PermissionError("store opened read-only; use TrajectoryStore.open(path, 'r+')")

    def _save_meta(self) -> None:
        save_meta(self.path / META_FILE, self._meta)
