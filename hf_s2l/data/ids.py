"""Stable example ids, so a selection made on one tokenization can be applied to another.

The proxy trains on ``raw.map(tokenize_proxy)``, the target on ``raw.map(tokenize_target)``
(maybe shuffled or filtered too). Their ``datasets`` fingerprints differ, so rows are
matched through an id column added to the RAW dataset *before* tokenization::

    raw = add_example_ids(raw)                    # column "example_id"
    proxy_train = raw.map(tok_proxy)              # keep "example_id" (don't remove it)
    # ... record with hf_s2l.TrajectoryCallback: the store saves the ids ...
    target_train = raw.map(tok_target).shuffle()  # any order, any filtering
    SelectedDataset(target_train, selection, id_column="example_id")

Id schemes:

* ``method="hash"`` (default): ``sha1(canonical_json(row))[:16]`` over the raw row's
  fields (all columns, or ``columns=``). Canonical JSON = ``json.dumps(row,
  sort_keys=True, ensure_ascii=False, separators=(",", ":"))`` with numpy values turned into
  Python ones, bytes into hex and dates into ISO strings. The id depends only on the row's
  content, so the same raw data loaded twice (or from another file format with the same
  values) gets the same ids. Exact duplicate rows get ``"<hash>#1"``, ``"<hash>#2"``… for
  their 2nd, 3rd… occurrence so ids stay unique (duplicates have identical content, so which
  copy is picked never changes the selected data).
* ``method="index"``: the running row index (int64) of the raw dataset. Cheap, but only
  stable if every consumer starts from the same raw row order.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from transformers.utils import logging

if TYPE_CHECKING:  # pragma: no cover
    import datasets

logger = logging.get_logger(__name__)

DEFAULT_ID_COLUMN = "example_id"
ID_HASH_CHARS = 16
_BATCH = 1000


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).hex()
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, decimal.Decimal):
        return str(obj)
    raise TypeError(
        f"cannot hash a value of type {type(obj).__name__} into an example id; "
        "pass columns=[...] with the text/number columns only"
    )


def canonical_json(row: dict[str, Any]) -> str:
    """The canonical JSON text of a row, as hashed by :func:`row_hash`."""
    return json.dumps(
        row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )


def row_hash(row: dict[str, Any]) -> str:
    """``sha1(canonical_json(row))`` truncated to 16 hex characters."""
    return hashlib.sha1(canonical_json(row).encode("utf-8")).hexdigest()[:ID_HASH_CHARS]


def _iter_rows(
    dataset: datasets.Dataset, columns: Sequence[str], batch_size: int = _BATCH
) -> Iterable[dict[str, Any]]:
    ds = dataset.select_columns(list(columns)).with_format(None)
    for batch in ds.iter(batch_size=batch_size):
        keys = list(batch)
        n = len(batch[keys[0]]) if keys else 0
        for i in range(n):
            yield {k: batch[k][i] for k in keys}


def _hash_columns(
    dataset: datasets.Dataset, columns: Sequence[str] | None, exclude: str | None
) -> list[str]:
    names = list(dataset.column_names)
    if columns is None:
        cols = [c for c in names if c != exclude]
    else:
        cols = list(columns)
        missing = [c for c in cols if c not in names]
        if missing:
            raise KeyError(f"columns {missing} not in the dataset (columns: {names})")
    if not cols:
        raise ValueError("no columns to hash: the dataset has no columns besides the id column")
    return cols


def row_hashes(
    dataset: datasets.Dataset, columns: Sequence[str] | None = None, *, exclude: str | None = None
) -> list[str]:
    """Per-row content hashes (:func:`row_hash`) of ``dataset`` (no duplicate handling)."""
    cols = _hash_columns(dataset, columns, exclude)
    return [row_hash(r) for r in _iter_rows(dataset, cols)]


def _dedupe(hashes: list[str]) -> tuple[list[str], int]:
    seen: dict[str, int] = {}
    out: list[str] = []
    dups = 0
    for h in hashes:
        k = seen.get(h, 0)
        seen[h] = k + 1
        if k:
            dups += 1
            out.append(f"{h}#{k}")
        else:
            out.append(h)
    return out, dups


def add_example_ids(
    dataset: datasets.Dataset,
    column: str = DEFAULT_ID_COLUMN,
    method: str = "hash",
    *,
    columns: Sequence[str] | None = None,
    overwrite: bool = False,
) -> datasets.Dataset:
    """Return ``dataset`` with a stable id column (call on the RAW dataset, before tokenizing).

    Args:
        dataset: a ``datasets.Dataset`` (one split).
        column: name of the id column to add.
        method: ``"hash"`` (content hash, see the module docstring) or ``"index"``
            (running row index).
        columns: columns the content hash covers (default: all but ``column``).
        overwrite: replace an existing ``column`` instead of raising.

    The ids survive ``dataset.map(tokenize)`` as long as the column is not removed;
    :class:`~hf_s2l.TrajectoryCallback` records them in the store when present, and
    :class:`~hf_s2l.SelectedDataset` maps a selection through them (``id_column=``).
    """
    import datasets as hfds

    if not isinstance(dataset, hfds.Dataset):
        raise TypeError(
            f"add_example_ids expects a datasets.Dataset (one split), got {type(dataset).__name__}; "
            "for a DatasetDict call it per split"
        )
    if method not in ("hash", "index"):
        raise ValueError(f"method must be 'hash' or 'index', got {method!r}")
    if column in dataset.column_names:
        if not overwrite:
            raise ValueError(
                f"the dataset already has a column {column!r}; pass overwrite=True to replace it"
            )
        dataset = dataset.remove_columns(column)
    if method == "index":
        ids: Any = np.arange(len(dataset), dtype=np.int64)
        feature = hfds.Value("int64")
    else:
        ids, dups = _dedupe(row_hashes(dataset, columns, exclude=column))
        if dups:
            logger.info(
                f"add_example_ids: {dups} exact duplicate rows got suffixed ids ('<hash>#k')"
            )
        feature = hfds.Value("string")
    return dataset.add_column(column, ids, feature=feature)


def content_fingerprint(dataset: datasets.Dataset, columns: Sequence[str] | None = None) -> str:
    """A content fingerprint of ``dataset``: sha1 over its rows' :func:`row_hash`, in order.

    Unlike ``dataset._fingerprint`` (which encodes the processing history), it depends only
    on the values of ``columns`` (default: all) and the row order, so two copies of the same
    data agree however they were loaded. 16 hex characters.
    """
    cols = _hash_columns(dataset, columns, None)
    h = hashlib.sha1()
    h.update(json.dumps(sorted(cols)).encode())
    for r in _iter_rows(dataset, cols):
        h.update(row_hash(r).encode())
    return h.hexdigest()[:ID_HASH_CHARS]
