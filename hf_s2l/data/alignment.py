"""Map a :class:`~hf_s2l.Selection` (made on the proxy's training set) onto a target dataset.

Alignment is verified, never assumed. :func:`align` returns the target's row positions of
the selected examples or raises :class:`AlignmentError` saying what to do.

**With ``id_column``** (robust; the target may be reordered, filtered, or tokenized
differently): the selection's ``example_ids`` (recorded by the callback from the proxy
dataset's id column, see :func:`~hf_s2l.add_example_ids`) are looked up in the target's
``id_column``. Errors: the column is missing; the selection has no ids; the target's ids or
the selected ids contain duplicates; any selected id is absent from the target (the error
gives how many and the first few — never a silently smaller set).

**Without ``id_column``** (positional: row ``i`` of the target is row ``i`` of the proxy):

1. ``len(dataset)`` must equal ``selection.num_examples`` and every index must be in range.
2. If the selection (or its store) recorded a dataset fingerprint and it equals
   ``dataset._fingerprint`` → aligned (``method="fingerprint"``). This is the case when
   the target is the very dataset the proxy trained on (e.g. same tokenizer).
3. Otherwise (the usual case: the proxy's set was tokenized, the target's is raw or
   tokenized differently, so fingerprints differ), if the selection has ``example_ids``
   and the target has a ``"example_id"`` column, the ids of the rows at the selected
   positions must equal the recorded ids (``method="example_ids"``); any mismatch → error
   (the order differs: pass ``id_column``).
4. Otherwise nothing proves the rows are the same → :class:`AlignmentError`, unless
   ``verify=False``: then only step 1 is checked, a warning is logged, and the result is
   marked ``method="unverified"`` (publishing refuses such a dataset by default).

If a :class:`~hf_s2l.TrajectoryStore` is given, its fingerprint must equal
``selection.store_fingerprint`` ("selection from another store"), and it supplies the
dataset fingerprint / example ids when the selection lacks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from transformers.utils import logging

from .ids import DEFAULT_ID_COLUMN

if TYPE_CHECKING:  # pragma: no cover
    import datasets

    from ..selection.selection import Selection
    from ..store.trajectory_store import TrajectoryStore

logger = logging.get_logger(__name__)

_SHOW = 5


class AlignmentError(ValueError):
    """The selection cannot be proven to refer to the rows of the given dataset."""


@dataclass(frozen=True)
class Alignment:
    """How a selection was mapped onto a dataset.

    Attributes:
        rows: positions in the target dataset, in presentation order.
        proxy_indices: the selection's indices (rows of the proxy's set / store), same order.
        method: ``"id_column"``, ``"fingerprint"``, ``"example_ids"`` or ``"unverified"``.
        id_column: the id column used (``None`` for positional alignment).
        ordered: whether rows follow ``selection.order`` (curriculum) instead of index order.
    """

    rows: np.ndarray
    proxy_indices: np.ndarray
    method: str
    id_column: str | None = None
    ordered: bool = False

    @property
    def verified(self) -> bool:
        return self.method != "unverified"


def _normalize_ids(values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = arr.astype(str)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuU":
        arr = arr.astype(str)
    if arr.dtype.kind == "u":
        arr = arr.astype(np.int64)
    return arr


def _comparable(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if (a.dtype.kind == "U") != (b.dtype.kind == "U"):
        return a.astype(str), b.astype(str)
    return a, b


def column_values(dataset: datasets.Dataset, column: str) -> np.ndarray:
    """The values of one column of ``dataset`` (after its indices mapping) as a numpy array."""
    table = dataset.select_columns([column]).with_format("arrow")[:]
    return _normalize_ids(table.column(column).to_numpy(zero_copy_only=False))


def _first(values: np.ndarray) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in values[:_SHOW]]


def _duplicates(ids: np.ndarray) -> np.ndarray:
    s = np.sort(ids, kind="stable")
    return np.unique(s[1:][s[1:] == s[:-1]])


def selection_ids(selection: Selection, store: TrajectoryStore | None = None) -> np.ndarray | None:
    """Ids of the selected examples aligned with ``selection.indices`` (or ``None``)."""
    if selection.example_ids is not None:
        ids = _normalize_ids(selection.example_ids)
        if len(ids) != len(selection.indices):
            raise AlignmentError(
                f"selection has {len(ids)} example ids for {len(selection.indices)} indices"
            )
        recorded = store.example_ids if store is not None else None
        if (
            recorded is not None
            and len(selection.indices)
            and selection.indices[-1] < len(recorded)
        ):
            a, b = _comparable(_normalize_ids(recorded)[selection.indices], ids)
            wrong = np.flatnonzero(a != b)
            if len(wrong):
                raise AlignmentError(
                    f"the selection's example_ids disagree with its indices: {len(wrong)} of "
                    f"{len(ids)} ids are not the store's ids of the selected rows (first at rows "
                    f"{_first(selection.indices[wrong])}); the selection files were changed "
                    "after saving: run the selection again"
                )
        return ids
    if store is not None:
        all_ids = store.example_ids
        if all_ids is not None:
            return _normalize_ids(all_ids)[selection.indices]
    return None


def _presentation(selection: Selection, ordered: bool) -> tuple[np.ndarray, np.ndarray]:
    """(proxy indices in presentation order, positions of those in ``selection.indices``)."""
    if not ordered:
        return selection.indices, np.arange(len(selection.indices))
    if selection.order is None:
        raise ValueError(
            f"ordered=True but the {selection.method!r} selection carries no order "
            "(only curriculum methods such as confidence curriculum record one)"
        )
    order = np.asarray(selection.order, dtype=np.int64)
    return order, np.searchsorted(selection.indices, order)


def check_store(selection: Selection, store: TrajectoryStore | None) -> None:
    """Raise :class:`AlignmentError` if ``store`` is not the store ``selection`` was made from."""
    if store is None or not selection.store_fingerprint:
        return
    if store.fingerprint != selection.store_fingerprint:
        raise AlignmentError(
            f"the selection was made from another trajectory store (store fingerprint "
            f"{selection.store_fingerprint}, but {store.path} has {store.fingerprint}); "
            "re-run the selection on this store or pass the store it was made from"
        )


def align(
    dataset: datasets.Dataset,
    selection: Selection,
    *,
    id_column: str | None = None,
    ordered: bool = False,
    verify: bool = True,
    store: TrajectoryStore | None = None,
) -> Alignment:
    """Find the rows of ``dataset`` holding the selected examples (see the module docstring)."""
    check_store(selection, store)
    proxy_order, pos = _presentation(selection, ordered)
    n_sel = len(selection.indices)
    if id_column is not None:
        return _align_by_ids(dataset, selection, id_column, proxy_order, pos, ordered, store)

    n = len(dataset)
    expected = selection.num_examples or (store.num_examples if store is not None else 0)
    if not expected:
        if verify:
            raise AlignmentError(
                "the selection does not record the size of the dataset it was made on "
                "(num_examples=0); pass id_column=... or verify=False"
            )
    elif n != expected:
        raise AlignmentError(
            f"the dataset has {n} rows but the selection was made on a training set of "
            f"{expected} rows. If the target set is filtered or reordered, add ids with "
            "hf_s2l.add_example_ids before tokenizing and pass id_column='example_id'"
        )
    if n_sel and (selection.indices[0] < 0 or selection.indices[-1] >= n):
        bad = selection.indices[(selection.indices < 0) | (selection.indices >= n)]
        raise AlignmentError(
            f"{len(bad)} selection indices are out of range for a dataset of {n} rows "
            f"(first: {_first(bad)})"
        )

    recorded_fp = selection.dataset_fingerprint or (
        store.dataset_fingerprint if store is not None else None
    )
    current_fp = getattr(dataset, "_fingerprint", None)
    ids = selection_ids(selection, store)
    id_checked = False
    if ids is not None and DEFAULT_ID_COLUMN in dataset.column_names:
        target = column_values(dataset, DEFAULT_ID_COLUMN)[selection.indices]
        a, b = _comparable(target, ids)
        wrong = np.flatnonzero(a != b)
        if len(wrong):
            raise AlignmentError(
                f"{len(wrong)} of {n_sel} selected rows carry a different {DEFAULT_ID_COLUMN!r} "
                f"than recorded (first at rows {_first(selection.indices[wrong])}): the target's "
                f"rows are in another order than the proxy's; pass id_column={DEFAULT_ID_COLUMN!r}"
            )
        id_checked = True
    if recorded_fp is not None and current_fp == recorded_fp:
        method = "fingerprint"
    elif id_checked:
        method = "example_ids"
    elif verify:
        why = (
            f"the dataset's fingerprint {current_fp} differs from the recorded {recorded_fp}"
            if recorded_fp is not None
            else "the selection recorded no dataset fingerprint"
        )
        raise AlignmentError(
            f"cannot verify that this dataset's rows are the proxy's training rows: {why} "
            "(expected when the proxy's set was tokenized differently) and no example ids "
            "are available to check. Fix: call hf_s2l.add_example_ids(raw) before tokenizing "
            "for the proxy and the target, record the proxy run with that column, then pass "
            "id_column='example_id'. If you are sure both sets hold the same rows in the same "
            "order, pass verify=False (only the row count is then checked)."
        )
    else:
        logger.warning(
            f"SelectedDataset: alignment NOT verified (verify=False): only the row count ({n}) "
            "was checked; rows are assumed to be in the proxy's order"
        )
        method = "unverified"
    return Alignment(
        rows=proxy_order.copy(),
        proxy_indices=proxy_order.copy(),
        method=method,
        id_column=None,
        ordered=ordered,
    )


def _align_by_ids(
    dataset: datasets.Dataset,
    selection: Selection,
    id_column: str,
    proxy_order: np.ndarray,
    pos: np.ndarray,
    ordered: bool,
    store: TrajectoryStore | None,
) -> Alignment:
    if id_column not in dataset.column_names:
        raise AlignmentError(
            f"the dataset has no id column {id_column!r} (columns: {dataset.column_names}); "
            "add one with hf_s2l.add_example_ids on the raw data and keep it through tokenization"
        )
    ids = selection_ids(selection, store)
    if ids is None:
        raise AlignmentError(
            "the selection carries no example ids, so it cannot be mapped through "
            f"{id_column!r}: the proxy run's store recorded none. Record the proxy on a dataset "
            "with an id column (hf_s2l.add_example_ids) or use positional alignment (no id_column)"
        )
    dup_sel = _duplicates(ids)
    if len(dup_sel):
        raise AlignmentError(
            f"the selection's example ids contain {len(dup_sel)} duplicated values "
            f"(first: {_first(dup_sel)}); ids must be unique"
        )
    target = column_values(dataset, id_column)
    dup = _duplicates(target)
    if len(dup):
        raise AlignmentError(
            f"the dataset's id column {id_column!r} has {len(dup)} duplicated values "
            f"(first: {_first(dup)}); ids must be unique (add_example_ids suffixes duplicate rows)"
        )
    target, ids = _comparable(target, ids)
    wanted = ids[pos]
    sorter = np.argsort(target, kind="stable")
    loc = np.searchsorted(target, wanted, sorter=sorter)
    loc_c = np.minimum(loc, max(len(target) - 1, 0))
    found = (
        (loc < len(target)) & (target[sorter[loc_c]] == wanted)
        if len(target)
        else np.zeros(len(wanted), dtype=bool)
    )
    if not found.all():
        missing = wanted[~found]
        raise AlignmentError(
            f"{len(missing)} of {len(wanted)} selected example ids are missing from the "
            f"dataset's {id_column!r} column (first: {_first(missing)}; proxy rows "
            f"{_first(proxy_order[~found])}). The target set was filtered or comes from other "
            "raw data; refusing to return a smaller set"
        )
    return Alignment(
        rows=sorter[loc].astype(np.int64),
        proxy_indices=proxy_order.copy(),
        method="id_column",
        id_column=id_column,
        ordered=ordered,
    )
