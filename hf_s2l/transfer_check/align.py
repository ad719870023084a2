"""Aligning a proxy store with a target store: which rows and which columns correspond.

Rows: by example ids (both stores carry them; the target may cover a subset of the
proxy's ids) or, without ids, by the dataset fingerprint (same dataset, same row order).
Columns: by training progress, the fraction of its run at which a column was recorded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers.utils import logging

from ..selection.columns import choose_columns
from ..store import TrajectoryStore

logger = logging.get_logger(__name__)

StoreLike = TrajectoryStore | str | os.PathLike


class TransferAlignmentError(ValueError):
    """The proxy and target stores cannot be put side by side (rows or columns)."""


def open_store(store: StoreLike, role: str) -> TrajectoryStore:
    """``store`` itself, or the store opened read-only from a path."""
    if isinstance(store, TrajectoryStore):
        return store
    if isinstance(store, (str, os.PathLike)):
        return TrajectoryStore.open(store, mode="r")
    raise TypeError(
        f"the {role} must be a TrajectoryStore or a store path, got {type(store).__name__}"
    )


def check_two_stores(proxy: TrajectoryStore, target: TrajectoryStore) -> None:
    """Refuse to compare a store with itself (same folder) or with a copy of itself (same
    content fingerprint): the figures would say "stands" (Spearman 1) and mean nothing."""
    same_path = os.path.realpath(proxy.path) == os.path.realpath(target.path)
    if same_path or proxy.fingerprint == target.fingerprint:
        how = (
            "the same folder"
            if same_path
            else f"copies of one store (fingerprint {proxy.fingerprint})"
        )
        raise TransferAlignmentError(
            f"the proxy and target stores are {how}: {proxy.path} and {target.path}. A store "
            "compared with itself gives Spearman 1 and says nothing about the target; pass the "
            'target model\'s own store (record it with TrajectoryCallback(mode="in_step") '
            "while the target trains)"
        )


@dataclass(frozen=True)
class RowAlignment:
    """``proxy_rows[i]`` and ``target_rows[i]`` hold the same example."""

    proxy_rows: np.ndarray
    target_rows: np.ndarray
    method: str  # "ids" | "fingerprint"


def _ids(store: TrajectoryStore, id_column: str | None) -> np.ndarray | None:
    if id_column is not None and id_column in store.metadata_columns:
        return np.asarray(store.metadata(id_column))
    return store.example_ids


def _comparable(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.dtype.kind != b.dtype.kind and not (a.dtype.kind in "iu" and b.dtype.kind in "iu"):
        return a.astype(str), b.astype(str)
    return a, b


def _check_unique(ids: np.ndarray, role: str, path: Any) -> None:
    uniq, counts = np.unique(ids, return_counts=True)
    if len(uniq) != len(ids):
        dup = uniq[counts > 1][:5].tolist()
        raise TransferAlignmentError(
            f"the {role} store at {path} has duplicate example ids (e.g. {dup}); ids must "
            "identify one example each to align two stores"
        )


def align_rows(
    proxy: TrajectoryStore, target: TrajectoryStore, id_column: str | None = None
) -> RowAlignment:
    """Match the target's rows to the proxy's (by ids, else by the dataset fingerprint).

    Raises :class:`TransferAlignmentError` when ids repeat, when the target has ids the
    proxy lacks, or when there are no ids and the two stores are not of the same dataset.
    """
    pid, tid = _ids(proxy, id_column), _ids(target, id_column)
    if id_column is not None and (pid is None or tid is None):
        which = [r for r, i in (("proxy", pid), ("target", tid)) if i is None]
        raise TransferAlignmentError(
            f"id_column={id_column!r}: the {' and '.join(which)} store(s) carry no ids (neither "
            f"a metadata column {id_column!r} nor example ids). Record both with "
            f"TrajectoryCallback(..., id_column={id_column!r}) on a dataset with that column"
        )
    if pid is not None and tid is not None:
        pid, tid = _comparable(np.asarray(pid).ravel(), np.asarray(tid).ravel())
        _check_unique(pid, "proxy", proxy.path)
        _check_unique(tid, "target", target.path)
        order = np.argsort(pid, kind="stable")
        pos = np.searchsorted(pid[order], tid)
        pos = np.minimum(pos, len(pid) - 1)
        found = pid[order][pos] == tid
        if not found.all():
            missing = tid[~found]
            raise TransferAlignmentError(
                f"{len(missing)} of the target's {len(tid)} example ids are not in the proxy "
                f"store (e.g. {missing[:5].tolist()}); the target must cover the proxy's "
                "examples or a subset of them (train it on rows of the proxy's dataset, "
                "with the same id column)"
            )
        return RowAlignment(order[pos].astype(np.int64), np.arange(len(tid)), "ids")
    fp_p, fp_t = proxy.dataset_fingerprint, target.dataset_fingerprint
    if fp_p is not None and fp_p == fp_t and proxy.num_examples == target.num_examples:
        n = proxy.num_examples
        return RowAlignment(np.arange(n), np.arange(n), "fingerprint")
    has = f"proxy ids: {'yes' if pid is not None else 'no'}, target ids: " + (
        "yes" if tid is not None else "no"
    )
    raise TransferAlignmentError(
        "cannot align the proxy and target stores: they carry no common example ids "
        f"({has}) and their datasets differ (fingerprints {fp_p} vs {fp_t}, "
        f"{proxy.num_examples} vs {target.num_examples} rows). Record both runs with the "
        "same id column (TrajectoryCallback(..., id_column='example_id'); "
        "hf_s2l.add_example_ids adds one), or on the same dataset"
    )


def _recorded_max_steps(store: TrajectoryStore) -> int:
    rec = store.meta.get("extra", {}).get("recorder") or {}
    try:
        return int(rec.get("max_steps") or 0)
    except (TypeError, ValueError):
        return 0


def column_progress(store: TrajectoryStore, columns: np.ndarray) -> np.ndarray:
    """The fraction of the run (0..1] at which each of ``columns`` was recorded.

    A probe column sits at its global step; an in-step column (kind ``epoch``) spans its
    epoch, from its first step to ``last_step``, and sits at the middle. The run's length is
    the recorder's ``max_steps`` when the store has it, else the last step recorded. Stores
    without steps fall back to epochs, then to column order.
    """
    cols = [int(c) for c in columns]
    info = store.columns
    in_step = [store.column_has_kind(c, "epoch") for c in cols]
    start = np.array([float(info[c]["global_step"]) for c in cols])
    end = np.array([float(info[c].get("last_step") or info[c]["global_step"]) for c in cols])
    end = np.maximum(start, end)
    total = max(float(_recorded_max_steps(store)), float(end.max(initial=0.0)))
    if total > 0 and (end > 0).any():
        return (start + end) / 2.0 / total
    epochs = np.array([float(info[c]["epoch"]) for c in cols])
    pos = np.where(in_step, epochs + 0.5, epochs)
    span = np.where(in_step, epochs + 1.0, epochs).max(initial=0.0)
    if span > 0:
        return pos / span
    return (np.arange(len(cols)) + 1.0) / max(len(cols), 1)


def feature_columns(store: TrajectoryStore, role: str) -> np.ndarray:
    """The complete columns recorded after training starts (S2L's feature columns)."""
    cols = choose_columns(store).features
    if len(cols) == 0:
        raise TransferAlignmentError(
            f"the {role} store at {store.path} has no complete column recorded after training "
            f"started (columns: {[c.get('kind') for c in store.columns]})"
        )
    return cols


def match_columns(
    proxy: TrajectoryStore, target: TrajectoryStore
) -> list[tuple[int, int, float, float]]:
    """Pairs ``(proxy column, target column, proxy progress, target progress)``.

    Every column of the store with fewer feature columns is paired with the column of the
    other store nearest in training progress; pairs are in progress order, no pair twice.
    """
    pc, tc = feature_columns(proxy, "proxy"), feature_columns(target, "target")
    pp, tp = column_progress(proxy, pc), column_progress(target, tc)
    pairs: list[tuple[int, int, float, float]] = []
    if len(tc) <= len(pc):
        for j, c in enumerate(tc):
            i = int(np.argmin(np.abs(pp - tp[j])))
            pairs.append((int(pc[i]), int(c), float(pp[i]), float(tp[j])))
    else:
        for i, c in enumerate(pc):
            j = int(np.argmin(np.abs(tp - pp[i])))
            pairs.append((int(c), int(tc[j]), float(pp[i]), float(tp[j])))
    seen: set[tuple[int, int]] = set()
    out = []
    for p in sorted(pairs, key=lambda p: (p[3], p[2])):
        if (p[0], p[1]) not in seen:
            seen.add((p[0], p[1]))
            out.append(p)
    return out
