"""Content keys of token sequences: map a batch row (or a packed segment) back to dataset rows.

Every sequence is normalised the same way on both sides (dataset and batch) before hashing:
tokens outside the attention mask are dropped, then leading and trailing padding tokens
(``pad_token_id``) are stripped. What is left is hashed with two independent 64-bit
polynomial hashes (wrapping ``uint64`` arithmetic, vectorised with numpy, no Python loop per
row) plus the length, so two different sequences share a key with probability ~2**-128.

:class:`ContentTable` groups the dataset rows by key; rows of one group (duplicated examples)
are kept in index order so the k-th occurrence of a content within an epoch can be assigned
to the k-th row holding it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_LEN_MIX = np.uint64(0x165667B19E3779F9)
_POWERS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``P**k mod 2**64`` for ``k < n`` (both primes), cached and grown in powers of two."""
    size = 1 << max(6, int(n - 1).bit_length())
    if size not in _POWERS:
        with np.errstate(over="ignore"):
            p1 = np.cumprod(np.full(size, _P1, dtype=np.uint64))
            p2 = np.cumprod(np.full(size, _P2, dtype=np.uint64))
        p1 = np.concatenate([np.ones(1, np.uint64), p1[:-1]])
        p2 = np.concatenate([np.ones(1, np.uint64), p2[:-1]])
        _POWERS.clear()
        _POWERS[size] = (p1, p2)
    return _POWERS[size]


def hash_segments(
    tokens: np.ndarray,
    starts: np.ndarray,
    keep: np.ndarray | None = None,
    pad_token_id: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys of the segments of a flat token array.

    ``tokens`` is 1-D; segment ``i`` spans ``tokens[starts[i]:starts[i + 1]]`` (the last one
    runs to the end; every segment is non-empty). ``keep`` (same shape, bool) marks tokens
    inside the attention mask. Returns ``(h1, h2, length)``; ``length`` counts the tokens
    left after normalisation (0 = nothing but padding: no key).
    """
    n = tokens.shape[0]
    nseg = starts.shape[0]
    if nseg == 0:
        e = np.zeros(0, np.uint64)
        return e, e.copy(), np.zeros(0, np.int64)
    seg_len = np.diff(np.append(starts, n))
    seg = np.repeat(np.arange(nseg), seg_len)
    pos = np.arange(n) - starts[seg]
    keep = np.ones(n, bool) if keep is None else keep.astype(bool, copy=False)
    real = keep if pad_token_id is None else keep & (tokens != pad_token_id)
    first = np.minimum.reduceat(np.where(real, pos, n + 1), starts)
    last = np.maximum.reduceat(np.where(real, pos, -1), starts)
    k = keep & (pos >= first[seg]) & (pos <= last[seg])
    ck = np.cumsum(k) - k
    newpos = ck - ck[starts][seg]
    length = np.add.reduceat(k.astype(np.int64), starts)
    p1, p2 = _powers(int(seg_len.max()) + 1)
    tok = tokens.astype(np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        c1 = np.where(k, tok * p1[newpos], np.uint64(0))
        c2 = np.where(k, tok * p2[newpos], np.uint64(0))
        h1 = np.add.reduceat(c1, starts)
        h2 = np.add.reduceat(c2, starts) ^ (length.astype(np.uint64) * _LEN_MIX)
    return h1, h2, length


def hash_rows(
    rows: Sequence[Sequence[int]], masks: Sequence[Sequence[int]] | None, pad_token_id: int | None
):
    """Keys of a list of token rows (optionally with attention masks); see :func:`hash_segments`."""
    lens = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    out_h1 = np.zeros(len(rows), np.uint64)
    out_h2 = np.zeros(len(rows), np.uint64)
    out_len = np.zeros(len(rows), np.int64)
    nz = np.flatnonzero(lens > 0)
    if len(nz) == 0:
        return out_h1, out_h2, out_len
    tokens = np.concatenate([np.asarray(rows[i], dtype=np.int64) for i in nz])
    keep = None
    if masks is not None:
        keep = np.concatenate([np.asarray(masks[i], dtype=np.int64) for i in nz]) != 0
    starts = np.concatenate([[0], np.cumsum(lens[nz])[:-1]]).astype(np.int64)
    h1, h2, ln = hash_segments(tokens, starts, keep, pad_token_id)
    out_h1[nz], out_h2[nz], out_len[nz] = h1, h2, ln
    return out_h1, out_h2, out_len


def _arrow_list_column(dataset: Any, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(flat values, offsets) of a list column of an un-indexed ``datasets.Dataset``, else None."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover
        return None
    if getattr(dataset, "_indices", "missing") is not None or not hasattr(dataset, "data"):
        return None
    try:
        col = dataset.data.column(name)
    except (KeyError, AttributeError):
        return None
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        return None
    if arr.null_count:
        return None
    offsets = np.asarray(arr.offsets, dtype=np.int64)
    values = arr.flatten().to_numpy(zero_copy_only=False)
    return values, offsets - offsets[0]


def dataset_keys(
    dataset: Any, pad_token_id: int | None, chunk: int = 4096, column: str = "input_ids"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keys ``(h1, h2, length)`` of every row's ``column`` (``input_ids`` masked by its
    ``attention_mask``; ``labels`` unmasked, ``pad_token_id`` then is the label padding)."""
    n = len(dataset)
    cols = getattr(dataset, "column_names", None)
    masked = column == "input_ids"
    ids = _arrow_list_column(dataset, column)
    if ids is not None:
        values, offsets = ids
        mask = (
            _arrow_list_column(dataset, "attention_mask")
            if masked and "attention_mask" in cols
            else None
        )
        keep = None
        if mask is not None and len(mask[0]) == len(values):
            keep = mask[0] != 0
        lens = np.diff(offsets)
        h1 = np.zeros(n, np.uint64)
        h2 = np.zeros(n, np.uint64)
        ln = np.zeros(n, np.int64)
        nz = lens > 0
        if nz.all():
            return hash_segments(
                values.astype(np.int64, copy=False), offsets[:-1], keep, pad_token_id
            )
        sel = np.repeat(nz, lens)
        starts = np.concatenate([[0], np.cumsum(lens[nz])[:-1]]).astype(np.int64)
        r = hash_segments(
            values[sel].astype(np.int64), starts, None if keep is None else keep[sel], pad_token_id
        )
        h1[nz], h2[nz], ln[nz] = r
        return h1, h2, ln
    parts = []
    for lo in range(0, n, chunk):
        rows, masks = _fetch_rows(dataset, range(lo, min(n, lo + chunk)), column)
        masks = masks if masked else None
        parts.append(hash_rows(rows, masks, pad_token_id))
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]


def _fetch_rows(
    dataset: Any, idx: Iterable[int], column: str = "input_ids"
) -> tuple[list[Any], list[Any] | None]:
    idx = list(idx)
    if hasattr(dataset, "column_names") and hasattr(dataset, "select"):  # datasets.Dataset
        batch = dataset[idx[0] : idx[-1] + 1]
        rows = batch[column]
        masks = batch.get("attention_mask")
    else:
        items = [dataset[i] for i in idx]
        if not all(isinstance(it, dict) and column in it for it in items):
            raise ValueError(f"in-step recording needs dataset items with an {column!r} field")
        rows = [it[column] for it in items]
        masks = (
            [it["attention_mask"] for it in items]
            if all("attention_mask" in it for it in items)
            else None
        )
    rows = [np.asarray(r).reshape(-1) for r in rows]
    if masks is not None:
        masks = [np.asarray(m).reshape(-1) for m in masks]
    return rows, masks


class ContentTable:
    """Dataset rows grouped by content key; rows of a group in ascending index order."""

    def __init__(self, h1: np.ndarray, h2: np.ndarray, length: np.ndarray) -> None:
        self.num_rows = len(h1)
        rows = np.flatnonzero(length > 0)
        self.unkeyed = np.flatnonzero(length == 0)  # empty rows: can never be matched
        order = rows[np.lexsort((rows, h2[rows], h1[rows]))]
        s1, s2 = h1[order], h2[order]
        new = np.ones(len(order), bool)
        new[1:] = (s1[1:] != s1[:-1]) | (s2[1:] != s2[:-1])
        self.group_start = np.flatnonzero(new)
        self.group_size = np.diff(np.append(self.group_start, len(order)))
        self.group_h1 = s1[self.group_start]
        self.group_h2 = s2[self.group_start]
        self.rows = order

    @property
    def num_groups(self) -> int:
        return len(self.group_start)

    def group_rows(self, g: int) -> np.ndarray:
        s = self.group_start[g]
        return self.rows[s : s + self.group_size[g]]

    def lookup(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """Group id of every key (-1 where no dataset row has that content)."""
        if not len(self.group_h1):
            return np.full(len(h1), -1, np.int64)
        i = np.searchsorted(self.group_h1, h1)
        ok = i < len(self.group_h1)
        i = np.where(ok, i, 0)
        ok &= self.group_h1[i] == h1
        out = np.where(ok & (self.group_h2[i] == h2), i, -1)
        # Different contents sharing h1 (astronomically rare): scan the run of equal h1.
        for q in np.flatnonzero(ok & (out < 0)):
            j = int(i[q]) + 1
            while j < len(self.group_h1) and self.group_h1[j] == h1[q]:
                if self.group_h2[j] == h2[q]:
                    out[q] = j
                    break
                j += 1
        return out.astype(np.int64)
