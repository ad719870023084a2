"""MethodContext: a method's view of the store (rows of a group, RNG, shared caches)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..store import TrajectoryStore


class MethodContext:
    """A method's view of the store: a subset of rows (a group), the RNG, shared caches."""

    def __init__(
        self,
        store: TrajectoryStore,
        *,
        seed: int,
        rng: np.random.Generator,
        rows: np.ndarray | None = None,
        embeddings: np.ndarray | None = None,
        _cache: dict[Any, np.ndarray] | None = None,
    ) -> None:
        self.store = store
        self.seed = int(seed)
        self.rng = rng
        self.rows = rows
        self._embeddings = embeddings
        self._cache = {} if _cache is None else _cache

    @property
    def num_rows(self) -> int:
        return self.store.num_examples if self.rows is None else len(self.rows)

    @property
    def complete_columns(self) -> np.ndarray:
        return self.store.complete_columns()

    def take(self, per_example: np.ndarray) -> np.ndarray:
        """The entries of a length-N per-example array that belong to this context's rows."""
        arr = np.asarray(per_example)
        if len(arr) != self.store.num_examples:
            raise ValueError(
                f"per-example array has length {len(arr)} but the store has "
                f"{self.store.num_examples} examples"
            )
        return arr if self.rows is None else arr[self.rows]

    def trajectories(
        self, columns: Sequence[int] | np.ndarray | None = None, nan: float | None = None
    ) -> np.ndarray:
        """``num_rows x len(columns)`` float32 losses (default: all complete columns).

        With ``nan`` set, NaN cells are replaced by that value. The full N-row matrix is
        read once per call of :func:`select` and shared by every group.
        """
        cols = self.complete_columns if columns is None else np.asarray(columns, dtype=np.int64)
        key = ("traj", tuple(int(c) for c in cols), nan)
        full = self._cache.get(key)
        if full is None:
            full = self.store.trajectories(cols)
            if nan is not None:
                np.nan_to_num(full, copy=False, nan=nan, posinf=np.inf, neginf=-np.inf)
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    def all_nan_rows(self, columns: Sequence[int] | np.ndarray) -> np.ndarray:
        """Boolean mask (this context's rows) of examples whose loss is NaN in every column."""
        cols = tuple(int(c) for c in columns)
        key = ("nanrows", cols)
        full = self._cache.get(key)
        if full is None:
            full = np.ones(self.store.num_examples, dtype=bool)
            for c in cols:
                full &= np.isnan(self.store.column_values(c))
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    def column(self, column: int) -> np.ndarray:
        """One store column (float64 copy) for this context's rows."""
        key = ("col", int(column))
        full = self._cache.get(key)
        if full is None:
            full = np.asarray(self.store.column_values(int(column)), dtype=np.float64)
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
            _cache=self._cache,
        )
