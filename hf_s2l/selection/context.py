"""MethodContext: a method's view of the store (rows of a group, columns, RNG, shared caches)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..store import TrajectoryStore
from .columns import ColumnChoice, choose_columns

# Above this many cells (rows x columns) trajectories are read in chunks from the memory
# map instead of as one dense cached matrix (2**25 float32 cells = 128 MiB).
DENSE_MAX_CELLS = 1 << 25
CHUNK_ROWS = 1 << 20


class MethodContext:
    """A method's view of the store: a subset of rows (a group), the RNG, shared caches.

    ``complete_columns`` are the complete columns of the kinds chosen in :func:`select`
    (``column_kinds``); ``feature_columns`` the same without the before-training column
    unless ``include_initial=True`` (see :mod:`hf_s2l.selection.columns`). With
    ``zero_nonfinite`` (``select(..., unscored="zero")``) every NaN/±inf cell reads as 0.
    Every column read through the context is recorded in :attr:`columns_read` (the
    Selection's provenance lists them).
    """

    def __init__(
        self,
        store: TrajectoryStore,
        *,
        seed: int,
        rng: np.random.Generator,
        rows: np.ndarray | None = None,
        embeddings: np.ndarray | None = None,
        columns: ColumnChoice | None = None,
        zero_nonfinite: bool = False,
        _cache: dict[Any, Any] | None = None,
        _read: set[int] | None = None,
    ) -> None:
        self.store = store
        self.seed = int(seed)
        self.rng = rng
        self.rows = rows
        self._embeddings = embeddings
        self.columns = columns if columns is not None else choose_columns(store)
        self.zero_nonfinite = bool(zero_nonfinite)
        self._cache = {} if _cache is None else _cache
        self._read = set() if _read is None else _read

    @property
    def num_rows(self) -> int:
        return self.store.num_examples if self.rows is None else len(self.rows)

    @property
    def complete_columns(self) -> np.ndarray:
        """Complete columns of the chosen kinds (before-training ones included)."""
        return self.columns.complete

    @property
    def feature_columns(self) -> np.ndarray:
        """Complete columns recorded after training starts (or all, with ``include_initial``)."""
        return self.columns.features

    @property
    def columns_read(self) -> list[int]:
        """Store columns read so far through this context (and its subsets), ascending."""
        return sorted(self._read)

    def take(self, per_example: np.ndarray) -> np.ndarray:
        """The entries of a length-N per-example array that belong to this context's rows."""
        arr = np.asarray(per_example)
        if len(arr) != self.store.num_examples:
            raise ValueError(
                f"per-example array has length {len(arr)} but the store has "
                f"{self.store.num_examples} examples"
            )
        return arr if self.rows is None else arr[self.rows]

    def _clean(self, values: np.ndarray, nan: float | None) -> np.ndarray:
        if self.zero_nonfinite:
            np.nan_to_num(values, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        elif nan is not None:
            np.nan_to_num(values, copy=False, nan=nan, posinf=np.inf, neginf=-np.inf)
        return values

    def trajectories(
        self, columns: Sequence[int] | np.ndarray | None = None, nan: float | None = None
    ) -> np.ndarray:
        """``num_rows x len(columns)`` float32 losses (default: the feature columns).

        With ``nan`` set, NaN cells are replaced by that value. The full N-row matrix is
        read once per call of :func:`select` and shared by every group.
        """
        cols = self.feature_columns if columns is None else np.asarray(columns, dtype=np.int64)
        self._read.update(int(c) for c in cols)
        key = ("traj", tuple(int(c) for c in cols), nan)
        full = self._cache.get(key)
        if full is None:
            full = self._clean(self.store.trajectories(cols), nan)
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    def trajectory_source(self, columns: Sequence[int] | np.ndarray) -> TrajectoryRows | np.ndarray:
        """This context's trajectories in ``columns`` for a chunked consumer (k-means).

        Small data: the dense cached matrix (as :meth:`trajectories`). Above
        :data:`DENSE_MAX_CELLS` cells: a :class:`TrajectoryRows` reading the memory map in
        chunks, so N = 100M never holds an N x T copy.
        """
        cols = np.asarray(columns, dtype=np.int64)
        if self.num_rows * max(1, len(cols)) <= DENSE_MAX_CELLS:
            return self.trajectories(cols)
        self._read.update(int(c) for c in cols)
        return TrajectoryRows(self.store, cols, self.rows, self.zero_nonfinite)

    def column(self, column: int) -> np.ndarray:
        """One store column (float64 copy) for this context's rows."""
        self._read.add(int(column))
        key = ("col", int(column))
        full = self._cache.get(key)
        if full is None:
            full = self._clean(
                np.asarray(self.store.column_values(int(column)), dtype=np.float64), None
            )
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    def per_row(
        self,
        fn: Callable[..., np.ndarray],
        columns: Sequence[int | None],
        *,
        chunk_rows: int | None = None,
    ) -> np.ndarray:
        """``fn(*column_values)`` for this context's rows, computed in chunks (float64).

        Each entry of ``columns`` is a store column (passed to ``fn`` as a float64 chunk of
        it) or ``None`` (passed as ``None``). Memory: the float64 result plus one chunk,
        never a full float64 copy of each column (LP at N = 100M needs this).
        """
        cols = [None if c is None else int(c) for c in columns]
        self._read.update(c for c in cols if c is not None)
        n = self.num_rows
        chunk_rows = chunk_rows or CHUNK_ROWS
        out = np.empty(n, dtype=np.float64)
        for start in range(0, n, chunk_rows):
            stop = min(n, start + chunk_rows)
            where = slice(start, stop) if self.rows is None else self.rows[start:stop]
            args = []
            for c in cols:
                if c is None:
                    args.append(None)
                    continue
                mm = self.store.column_values(c)
                args.append(self._clean(np.asarray(mm[where], dtype=np.float64), None))
                del mm
            out[start:stop] = fn(*args)
        return out

    def all_nan_rows(self, columns: Sequence[int] | np.ndarray) -> np.ndarray:
        """Boolean mask (this context's rows) of examples whose loss is NaN in every column."""
        cols = tuple(int(c) for c in columns)
        key = ("nanrows", cols)
        full = self._cache.get(key)
        if full is None:
            full = np.ones(self.store.num_examples, dtype=bool)
            for c in cols:
                full &= np.isnan(self.store.column_values(c))
            if self.zero_nonfinite:
                full[:] = False
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    @property
    def embeddings(self) -> np.ndarray | None:
        """Per-example embeddings passed to :func:`select` (this context's rows), or None."""
        if self._embeddings is None:
            return None
        return self._embeddings if self.rows is None else self._embeddings[self.rows]

    def subset(self, local_rows: np.ndarray) -> MethodContext:
        """A context over ``local_rows`` (positions in this context) sharing RNG and caches."""
        local_rows = np.asarray(local_rows, dtype=np.int64)
        rows = local_rows if self.rows is None else self.rows[local_rows]
        return MethodContext(
            self.store,
            seed=self.seed,
            rng=self.rng,
            rows=rows,
            embeddings=self._embeddings,
            columns=self.columns,
            zero_nonfinite=self.zero_nonfinite,
            _cache=self._cache,
            _read=self._read,
        )


class TrajectoryRows:
    """Rows of a store's trajectories read lazily from the memory map (float32).

    ``shape`` is ``(len(rows) or N, len(columns))``; :meth:`take` reads given rows,
    :meth:`chunks` yields ``(start, block)`` over all rows in order. Each read maps the
    column afresh and drops the map afterwards, so the pages read do not accumulate in the
    process' resident memory.
    """

    def __init__(
        self,
        store: TrajectoryStore,
        columns: np.ndarray,
        rows: np.ndarray | None,
        zero_nonfinite: bool,
    ) -> None:
        self.store = store
        self.columns = np.asarray(columns, dtype=np.int64)
        self.rows = rows
        self.zero_nonfinite = zero_nonfinite
        n = store.num_examples if rows is None else len(rows)
        self.shape = (n, len(self.columns))

    def _read(self, sl: slice | np.ndarray) -> np.ndarray:
        m = (sl.stop - sl.start) if isinstance(sl, slice) else len(sl)
        out = np.empty((m, len(self.columns)), dtype=np.float32)
        for j, c in enumerate(self.columns):
            col = self.store.column_values(int(c))
            if self.rows is None:
                out[:, j] = col[sl]
            else:
                out[:, j] = col[self.rows[sl]]
            del col
        if self.zero_nonfinite:
            np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        return out

    def take(self, local_rows: np.ndarray) -> np.ndarray:
        """The rows at positions ``local_rows`` (any order), as a dense block."""
        local_rows = np.asarray(local_rows, dtype=np.int64)
        order = np.argsort(local_rows, kind="stable")  # read the map in ascending order
        block = self._read(local_rows[order])
        out = np.empty_like(block)
        out[order] = block
        return out

    def chunks(self, chunk_rows: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, block)`` for consecutive blocks of ``chunk_rows`` rows."""
        n = self.shape[0]
        chunk_rows = chunk_rows or CHUNK_ROWS
        for start in range(0, n, chunk_rows):
            yield start, self._read(slice(start, min(n, start + chunk_rows)))
