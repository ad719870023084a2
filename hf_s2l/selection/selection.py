"""``Selection``: the result of a selection method, saved next to its provenance.

A saved selection is a folder: ``indices.npy`` (sorted int64 rows), optional
``order.npy`` / ``weights.npy`` / ``example_ids.npy`` and ``selection.json`` (method,
parameters, counts, provenance). :meth:`Selection.save` writes the whole folder at once: the
files go into a sibling temporary folder that is then swapped with the old one, so a crash
leaves the old selection or the new one, never a mix. :meth:`Selection.load` cross-checks
every array against ``selection.json`` (:class:`SelectionCorruptError`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..store._fs import make_temp_dir
from ..store.jsonable import json_default
from ..version import __version__
from ._folder import (
    EXAMPLE_IDS_FILE,
    INDICES_FILE,
    ORDER_FILE,
    SELECTION_FORMAT,
    SELECTION_META_FILE,
    SELECTION_SCHEMA_VERSION,
    WEIGHTS_FILE,
    SelectionCorruptError,
    SelectionExistsError,
)
from ._folder import clean_stale_temps as _clean_stale_temps
from ._folder import fsync_dir_files as _fsync_dir_files
from ._folder import interrupted_old as _interrupted_old
from ._folder import reader as _reader
from ._folder import recover as _recover
from ._folder import swap_in as _swap_in
from ._folder import temp_prefix as _temp_prefix
from .selection_meta import check_digests_present, parse_selection_meta

logger = logging.get_logger(__name__)


@dataclass
class Selection:
    """A subset of the proxy's training set chosen by a selection method.

    Attributes:
        indices: int64 row indices into the proxy's training set (= store rows); stored
            sorted. Given unsorted, ``weights`` and ``example_ids`` (aligned with the indices
            as given) are reordered with them.
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
        given = np.asarray(self.indices, dtype=np.int64)
        if given.ndim != 1:
            raise ValueError("indices must be 1-D")
        perm = np.argsort(given, kind="stable")
        self.indices = given[perm]
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
            weights = np.asarray(self.weights, dtype=np.float32)
            if weights.shape != given.shape:
                raise ValueError(
                    f"weights must align with indices: {weights.shape} vs {given.shape}"
                )
            self.weights = weights[perm]
        if self.example_ids is not None:
            ids = np.asarray(self.example_ids)
            if ids.shape != given.shape:
                raise ValueError(
                    f"example_ids must align with indices: {ids.shape} vs {given.shape}"
                )
            self.example_ids = ids[perm]

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def fraction(self) -> float:
        """Selected fraction of the full training set."""
        return len(self.indices) / self.num_examples if self.num_examples else float("nan")

    # ----------------------------------------------------------------- save / load
    def save(self, directory: str | os.PathLike, *, overwrite: bool = True) -> Path:
        """Write the selection folder (``indices.npy``, optional arrays, ``selection.json``).

        The folder is replaced as a whole (crash-safe). A folder that already holds a saved
        selection is replaced only with ``overwrite=True`` (else
        :class:`SelectionExistsError`); a non-empty folder that is not a selection is never
        touched (``FileExistsError``).
        """
        d = Path(directory)
        _recover(d)
        self.check_target(d, overwrite=overwrite)
        d.parent.mkdir(parents=True, exist_ok=True)
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
        arrays: dict[str, bytes] = {}
        for name, arr in (
            (INDICES_FILE, self.indices),
            (ORDER_FILE, self.order),
            (WEIGHTS_FILE, self.weights),
            (EXAMPLE_IDS_FILE, self.example_ids),
        ):
            if arr is not None:
                buf = io.BytesIO()
                np.save(buf, np.asarray(arr), allow_pickle=False)
                arrays[name] = buf.getvalue()
        # load() checks the arrays against these: ids and indices edited apart are caught
        meta["files_sha256"] = {n: hashlib.sha256(b).hexdigest() for n, b in arrays.items()}
        text = json.dumps(meta, indent=2, default=json_default)  # fails before anything is written
        _clean_stale_temps(d)
        tmp = make_temp_dir(d.parent, prefix=_temp_prefix(d))
        try:
            for name, data in arrays.items():
                with open(tmp / name, "wb") as f:
                    f.write(data)
            (tmp / SELECTION_META_FILE).write_text(text)
            _fsync_dir_files(tmp)
            _swap_in(tmp, d, overwrite=overwrite)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # after an exchange: the old folder
        for stale in d.parent.glob(f".{d.name}.old-*"):  # left by an interrupted fallback swap
            shutil.rmtree(stale, ignore_errors=True)
        return d

    @staticmethod
    def check_target(directory: str | os.PathLike, *, overwrite: bool = True) -> None:
        """Raise if :meth:`save` could not write ``directory`` (checked before selecting).

        :class:`SelectionExistsError` if it holds a saved selection and ``overwrite`` is off;
        ``FileExistsError`` if it is a file or a non-empty folder that is not a selection.
        """
        d = Path(directory)
        if not d.exists():
            return
        if not d.is_dir():
            raise FileExistsError(f"{d} exists and is not a directory; choose another directory")
        if (d / SELECTION_META_FILE).is_file():
            if not overwrite:
                raise SelectionExistsError(
                    f"{d} already holds a saved selection; pass overwrite=True "
                    "(hf-s2l select --overwrite) to replace it, or choose another directory"
                )
        elif any(d.iterdir()):
            raise FileExistsError(
                f"{d} is not empty and holds no saved selection; choose another directory "
                "(a selection folder is replaced as a whole)"
            )

    @classmethod
    def load(cls, directory: str | os.PathLike, *, trust_unverified: bool = False) -> Selection:
        """Load a selection written by :meth:`save`, checking its files against each other.

        ``selection.json`` is validated field by field and the arrays against its digests
        (:class:`SelectionCorruptError`); ``trust_unverified=True`` loads a selection whose
        digests were removed (nothing then shows whether its ids or indices were edited).
        """
        d = Path(directory)
        if not d.exists():
            old = _interrupted_old(d)
            if old is not None:  # a save was killed between its two renames: the old one
                d = old
        meta_path = d / SELECTION_META_FILE
        if not meta_path.is_file():
            raise FileNotFoundError(f"{d} is not a saved Selection (no {SELECTION_META_FILE})")
        with _reader(d) as read:
            meta = parse_selection_meta(read(SELECTION_META_FILE), meta_path)
            check_digests_present(meta, meta_path, trust_unverified)

            found: dict[str, str | None] = {}  # sha256 of each array file as read

            def arr(name: str, required: bool = False) -> np.ndarray | None:
                try:
                    data = read(name)
                except FileNotFoundError:
                    if required:
                        raise SelectionCorruptError(d / name, "is missing") from None
                    return None
                found[name] = hashlib.sha256(data).hexdigest()
                try:
                    return np.load(io.BytesIO(data), allow_pickle=False)
                except (ValueError, OSError, EOFError) as e:
                    raise SelectionCorruptError(d / name, f"is not a readable .npy ({e})") from None

            indices = arr(INDICES_FILE, required=True)
            arrays = {
                "order": arr(ORDER_FILE),
                "weights": arr(WEIGHTS_FILE),
                "example_ids": arr(EXAMPLE_IDS_FILE),
            }
            _check_counts(d, meta, indices, arrays)
        try:
            sel = cls(
                indices=indices,
                method=meta["method"],
                params=meta.get("params", {}),
                budget=meta.get("budget", 0),
                seed=meta.get("seed", 0),
                num_examples=meta.get("num_examples", 0),
                store_fingerprint=meta.get("store_fingerprint"),
                dataset_fingerprint=meta.get("dataset_fingerprint"),
                stats=meta.get("stats", {}),
                provenance=meta.get("provenance", {}),
                **arrays,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise SelectionCorruptError(d, f"does not hold a valid selection ({e})") from None
        _check_digests(d, meta, found)  # after the checks with the more precise messages
        return sel

    def __repr__(self) -> str:
        return (
            f"Selection(method={self.method!r}, selected={len(self.indices)}/{self.num_examples}, "
            f"seed={self.seed}, params={self.params})"
        )


# old name of the JSON hook (store.jsonable.json_default: numpy values and paths)
_jsonable = json_default


def _check_counts(d: Path, meta: dict[str, Any], indices: np.ndarray, arrays: dict) -> None:
    """Every array has one entry per selected example, as selection.json counts them."""
    n = meta.get("num_selected")
    if not isinstance(n, int) or isinstance(n, bool):
        raise SelectionCorruptError(
            d / SELECTION_META_FILE, f"has num_selected = {n!r}, expected an integer"
        )
    if indices.ndim != 1 or len(indices) != n or indices.dtype.kind not in "iu":
        raise SelectionCorruptError(
            d / INDICES_FILE,
            f"holds {indices.dtype} values of shape {indices.shape} but selection.json counts "
            f"{n} selected examples",
        )
    files = {"order": ORDER_FILE, "weights": WEIGHTS_FILE, "example_ids": EXAMPLE_IDS_FILE}
    for key, a in arrays.items():
        if a is not None and a.shape != (n,):
            raise SelectionCorruptError(
                d / files[key],
                f"has shape {a.shape} but selection.json counts {n} selected examples",
            )
    if arrays["order"] is not None and not np.array_equal(np.sort(arrays["order"]), indices):
        raise SelectionCorruptError(d / ORDER_FILE, "is not a permutation of indices.npy")


def _check_digests(d: Path, meta: dict[str, Any], found: dict[str, str | None]) -> None:
    """The arrays are the ones saved with ``selection.json`` (selections saved since the
    digests exist; older ones have none). Catches e.g. ``example_ids.npy`` naming other
    rows than ``indices.npy`` (the published rows would differ from the counted ones)."""
    digests = meta.get("files_sha256")
    if digests is None:
        return
    if not isinstance(digests, dict):
        raise SelectionCorruptError(
            d / SELECTION_META_FILE, f"has files_sha256 = {digests!r}, expected a mapping"
        )
    for name in (INDICES_FILE, ORDER_FILE, WEIGHTS_FILE, EXAMPLE_IDS_FILE):
        want, got = digests.get(name), found.get(name)
        if got is None:
            if want is not None:
                raise SelectionCorruptError(d / name, "is missing")
            continue
        if want is None:
            raise SelectionCorruptError(
                d / name, "was not saved with this selection (selection.json does not list it)"
            )
        if got != want:
            what = (
                "no longer matches indices.npy: its ids would name other rows than the "
                "selected indices"
                if name in (EXAMPLE_IDS_FILE, INDICES_FILE)
                else "no longer matches indices.npy"
            )
            raise SelectionCorruptError(
                d / name, f"differs from the file saved with selection.json and {what}"
            )
