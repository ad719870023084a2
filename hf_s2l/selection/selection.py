"""``Selection``: the result of a selection method, saved next to its provenance."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..store.trajectory_store import _json_default
from ..version import __version__

SELECTION_FORMAT = "hf-s2l-selection"
SELECTION_SCHEMA_VERSION = 1
INDICES_FILE = "indices.npy"
ORDER_FILE = "order.npy"
WEIGHTS_FILE = "weights.npy"
SELECTION_META_FILE = "selection.json"


@dataclass
class Selection:
    """A subset of the proxy's training set chosen by a selection method.

    Attributes:
        indices: sorted int64 row indices into the proxy's training set (= store rows).
        method: registered name of the method that made it (``"s2l"``, ``"lp"``, …).
        params: the method's parameters, as passed (JSON-serialisable).
        budget: number of selected examples (``len(indices)``).
        seed: random seed used.
        num_examples: size of the full training set the indices refer to.
        store_fingerprint: :attr:`TrajectoryStore.fingerprint` of the store it was made from.
        dataset_fingerprint: the recorded dataset's fingerprint (for alignment checks).
        example_ids: stable ids of the selected examples (same order as ``indices``), if the
            store recorded ids.
        order: optional presentation order (a permutation of ``indices``), e.g. a curriculum.
        weights: optional per-example weights aligned with ``indices`` (e.g. inverse cluster
            size).
        stats: per-group / per-cluster statistics (counts before and after selection…).
        provenance: free-form extra provenance (proxy model, recording schedule, command…).
    """

    indices: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    budget: int = 0
    seed: int = 0
    num_examples: int = 0
    store_fingerprint: str | None = None
    dataset_fingerprint: str | None = None
    example_ids: np.ndarray | None = None
    order: np.ndarray | None = None
    weights: np.ndarray | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.indices = np.sort(np.asarray(self.indices, dtype=np.int64))
        if self.indices.ndim != 1:
            raise ValueError("indices must be 1-D")
        if len(self.indices) > 1 and bool((self.indices[1:] == self.indices[:-1]).any()):
            raise ValueError("selection indices contain duplicates")
        if (
            self.num_examples
            and len(self.indices)
            and (self.indices[0] < 0 or self.indices[-1] >= self.num_examples)
        ):
            raise ValueError(
                f"selection indices out of range for a training set of {self.num_examples} examples"
            )
        if not self.budget:
            self.budget = len(self.indices)
        if self.order is not None:
            self.order = np.asarray(self.order, dtype=np.int64)
            if not np.array_equal(np.sort(self.order), self.indices):
                raise ValueError("order must be a permutation of indices")
        if self.weights is not None:
            self.weights = np.asarray(self.weights, dtype=np.float32)
            if self.weights.shape != self.indices.shape:
                raise ValueError("weights must align with indices")

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def fraction(self) -> float:
        """Selected fraction of the full training set."""
        return len(self.indices) / self.num_examples if self.num_examples else float("nan")

    # ----------------------------------------------------------------- save / load
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``indices.npy`` (+ ``order.npy``/``weights.npy``) and ``selection.json``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        np.save(d / INDICES_FILE, self.indices, allow_pickle=False)
        for name, arr in ((ORDER_FILE, self.order), (WEIGHTS_FILE, self.weights)):
            if arr is not None:
                np.save(d / name, arr, allow_pickle=False)
            elif (d / name).exists():
                (d / name).unlink()
        ids_file = d / "example_ids.npy"
        if self.example_ids is not None:
            np.save(ids_file, np.asarray(self.example_ids), allow_pickle=False)
        elif ids_file.exists():
            ids_file.unlink()
        meta = {
            "format": SELECTION_FORMAT,
            "schema_version": SELECTION_SCHEMA_VERSION,
            "library_version": __version__,
            "method": self.method,
            "params": self.params,
            "budget": int(self.budget),
            "seed": int(self.seed),
            "num_examples": int(self.num_examples),
            "num_selected": len(self.indices),
            "store_fingerprint": self.store_fingerprint,
            "dataset_fingerprint": self.dataset_fingerprint,
            "stats": self.stats,
            "provenance": self.provenance,
        }
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".selection-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(meta, f, indent=2, default=_jsonable)
        os.replace(tmp, d / SELECTION_META_FILE)
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Selection:
        """Load a selection written by :meth:`save`."""
        d = Path(directory)
        meta_path = d / SELECTION_META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{d} is not a saved Selection (no {SELECTION_META_FILE})")
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("format") != SELECTION_FORMAT:
            raise ValueError(f"{meta_path} is not an hf-s2l selection")

        def opt(name: str) -> np.ndarray | None:
            p = d / name
            return np.load(p, allow_pickle=False) if p.exists() else None

        return cls(
            indices=np.load(d / INDICES_FILE, allow_pickle=False),
            method=meta["method"],
            params=meta.get("params", {}),
            budget=meta.get("budget", 0),
            seed=meta.get("seed", 0),
            num_examples=meta.get("num_examples", 0),
            store_fingerprint=meta.get("store_fingerprint"),
            dataset_fingerprint=meta.get("dataset_fingerprint"),
            example_ids=opt("example_ids.npy"),
            order=opt(ORDER_FILE),
            weights=opt(WEIGHTS_FILE),
            stats=meta.get("stats", {}),
            provenance=meta.get("provenance", {}),
        )

    def __repr__(self) -> str:
        return (
            f"Selection(method={self.method!r}, selected={len(self.indices)}/{self.num_examples}, "
            f"seed={self.seed}, params={self.params})"
        )


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    return _json_default(obj)
