"""Opening a store while another process may replace it: read one *generation* whole.

A read-only store keeps every data file of its generation open (:func:`pin_generation`), so
all its reads come from the generation it opened; :func:`reopen_generation` (``refresh``) and
:func:`check_generation` raise ``StoreChangedError`` once the folder holds another one.

A replace (``TrajectoryStore.create(..., replace=True)``, the callback's ``overwrite=True``)
removes ``meta.json`` first, then swaps the data files, then writes a ``meta.json`` with a new
``store_id`` (see ``_create.swap_in``). An open therefore checks that ``meta.json`` names the
same ``store_id`` before and after it opened the data files, and retries otherwise.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .errors import StoreChangedError, StoreCorruptError
from .npy_columns import ColumnFile, PinnedNpy
from .schema import (
    EXAMPLE_IDS_FILE,
    LOSSES_FILE,
    META_FILE,
    METADATA_DIR,
    NUM_TOKENS_FILE,
    is_store,
    load_meta,
)

OPEN_RETRIES = 100
T = TypeVar("T")


def being_replaced(path: Path, wait_s: float = 2.0) -> bool:
    """True once ``meta.json`` appears within ``wait_s`` in a folder holding the other store
    files (a replace removes it first and writes it last)."""
    if not (path / LOSSES_FILE).is_file():
        return False
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if (path / META_FILE).is_file():
            return True
        time.sleep(0.005)
    return False


def generation(path: Path) -> str | None:
    """``store_id`` of the store's current ``meta.json`` (None if absent or unreadable)."""
    try:
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        return meta.get("store_id") if isinstance(meta, dict) else None
    except (OSError, ValueError, RecursionError):
        return None


def open_one_generation(path: Path, build: Callable[[dict[str, Any]], T]) -> T:
    """``build(meta)`` with ``meta.json`` and the data files of one store generation.

    If ``meta.json`` names the same ``store_id`` before and after the data files were opened
    (a read-only store keeps them open), they belong to that meta.json; otherwise the open is
    retried. Stores of every version have a ``store_id``.
    """
    last: BaseException | None = None
    for attempt in range(OPEN_RETRIES):
        if attempt:
            time.sleep(min(0.001 * attempt, 0.05))
        try:
            meta = load_meta(path)
        except FileNotFoundError as e:  # between a replace's first and last step
            last = e
            continue
        try:
            obj = build(meta)
        except (StoreCorruptError, FileNotFoundError) as e:
            if generation(path) == meta["store_id"]:
                raise  # the store itself is damaged, not being replaced
            last = e
            continue
        if generation(path) == meta["store_id"]:
            return obj
    if isinstance(last, FileNotFoundError) and not (path / META_FILE).exists():
        raise FileNotFoundError(
            f"{path} is not a trajectory store (expected {META_FILE} and {LOSSES_FILE}); "
            "record one with hf_s2l.TrajectoryCallback"
        )
    raise StoreCorruptError(
        path / META_FILE,
        f"kept changing while it was opened ({OPEN_RETRIES} tries): another process is "
        "replacing the store again and again; open it once that is done",
    )


def check_generation(path: Path, store_id: str) -> None:
    """:class:`StoreChangedError` unless ``path``'s ``meta.json`` names ``store_id``."""
    current = generation(path)
    if current != store_id:
        problem = "is gone" if current is None else f"names store {current}"
        raise StoreChangedError(
            path / META_FILE, f"{problem}, not store {store_id} that this object opened"
        )


def reopen_generation(path: Path, store_id: str, build: Callable[[dict[str, Any]], T]) -> T:
    """``build(meta)`` for the store at ``path`` if it still is generation ``store_id`` (a
    refresh), else :class:`StoreChangedError` naming ``meta.json``."""

    def same(meta: dict[str, Any]) -> T:
        if meta["store_id"] != store_id:
            raise StoreChangedError(
                path / META_FILE,
                f"names store {meta['store_id']}, not store {store_id} that this object opened",
            )
        return build(meta)

    if not is_store(path) and not being_replaced(path):
        check_generation(path, store_id)  # gone
    try:
        return open_one_generation(path, same)
    except FileNotFoundError:
        raise StoreChangedError(path / META_FILE, "is gone") from None


def metadata_file(name: str) -> str:
    """The file of metadata column ``name``, relative to the store folder."""
    return f"{METADATA_DIR}/{name}.npy"


def _small_files(meta: dict[str, Any]) -> list[str]:
    names = [NUM_TOKENS_FILE]
    if meta.get("has_example_ids"):
        names.append(EXAMPLE_IDS_FILE)
    return names + [metadata_file(name) for name in meta.get("metadata_columns", [])]


def pin_generation(
    path: Path, meta: dict[str, Any], column_files: tuple[ColumnFile | None, ...]
) -> dict[str, PinnedNpy]:
    """Keep every data file of the store at ``path`` open (the caller makes sure they are the
    generation of ``meta``): all later reads come from these files, whatever replaces the
    store. Returns the small files (``num_tokens``, ids, metadata) by name."""
    for cf in column_files:
        if cf is not None:
            cf.pin()
    return {name: PinnedNpy(path / name) for name in _small_files(meta)}


class LostNpy:
    """A file of a generation that is gone (replaced while its writer had it open, see
    :func:`pin_written_generation`): reading it raises :class:`StoreChangedError`."""

    def __init__(self, file: Path, problem: str) -> None:
        self.file, self.problem = file, problem

    def array(self, *, mmap: bool = False) -> np.ndarray:
        raise StoreChangedError(self.file, self.problem)


def pin_written_generation(
    path: Path, meta: dict[str, Any], column_files: tuple[ColumnFile | None, ...]
) -> dict[str, PinnedNpy | LostNpy]:
    """:func:`pin_generation` for a writer that closes: its generation, unless this process
    replaced the store while the writer had it open (the writer lock is shared within a
    process: the callback's ``overwrite=True`` does so). Its files are then gone: every read
    raises :class:`StoreChangedError` instead of pinning the new generation's files (or
    failing on a file the new one does not have yet)."""
    current = generation(path)
    if current == meta["store_id"]:
        return pin_generation(path, meta, column_files)
    problem = (
        f"{'is gone' if current is None else f'names store {current}'}, not store "
        f"{meta['store_id']} that this object wrote (replaced while it was open)"
    )
    for cf in column_files:
        if cf is not None:
            cf.lose(path / META_FILE, problem)
    return {name: LostNpy(path / META_FILE, problem) for name in _small_files(meta)}


def read_file(
    path: Path, name: str, pinned: dict[str, PinnedNpy], *, writable: bool, mmap: bool = False
) -> np.ndarray:
    """A small data file of a store: from its pinned handle, or (a writer) from ``path``."""
    if name in pinned:
        return pinned[name].array(mmap=mmap)
    if not writable:  # read-only stores pin every file they list when opened
        raise StoreChangedError(path / name, "was not part of the store when it was opened")
    return np.load(path / name, mmap_mode="r" if mmap else None, allow_pickle=False)
