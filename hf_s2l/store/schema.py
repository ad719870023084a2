"""What a valid store looks like: ``meta.json``'s schema and the data files' shapes and sizes.

:func:`load_meta` and :func:`check_files` run whenever a store is opened (and refreshed);
anything that does not fit raises one :class:`~hf_s2l.store.errors.StoreCorruptError` naming
the file and the problem, so no method ever runs on a damaged store.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ._fs import atomic_write_json
from .errors import StoreCorruptError
from .json_checks import JsonFields, is_int, is_number, parse_json, type_name
from .jsonable import json_default
from .npy_columns import SYMLINK_PROBLEM, ColumnFile, check_npy

SCHEMA_VERSION = 1
STORE_FORMAT = "hf-s2l-trajectory-store"
LOSSES_FILE = "losses.npy"
NUM_TOKENS_FILE = "num_tokens.npy"
CELL_STEPS_FILE = "cell_steps.npy"
EXAMPLE_IDS_FILE = "example_ids.npy"
META_FILE = "meta.json"
METADATA_DIR = "metadata"
# what a store's columns measure: a probe pass, or the training forward (``cell_steps.npy``)
STORE_MODES = ("probe", "in_step")


def is_store(path: str | os.PathLike) -> bool:
    """True if ``path`` is a directory holding a trajectory store."""
    return (Path(path) / META_FILE).is_file() and (Path(path) / LOSSES_FILE).is_file()


def save_meta(path: Path, meta: dict[str, Any]) -> None:
    """Write ``meta`` to ``path`` (a ``meta.json``) atomically: temporary file + rename."""
    atomic_write_json(path, meta, default=json_default)


# metadata column names become file names (metadata/NAME.npy): no separators, no leading dot
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")


def check_metadata_name(name: Any) -> str:
    """``name`` if it can name a metadata column (and its file), else ``ValueError``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid metadata column name {name!r}: use 1-128 letters, digits, '_', '-' or '.' "
            "(not first); it becomes the file name metadata/NAME.npy"
        )
    return name


def load_meta(store_dir: Path) -> dict[str, Any]:
    """Read and check ``meta.json``."""
    path = store_dir / META_FILE
    meta = parse_json(path.read_bytes(), path, StoreCorruptError, "a store's meta.json")
    check_meta(meta, path)
    return meta


def check_meta(meta: Any, path: Path) -> None:
    """Check the types of every field of a store's ``meta.json`` content."""
    fields = JsonFields(path, StoreCorruptError)
    bad, field = fields.bad, fields.field
    fields.require_object(meta)
    if meta.get("format") != STORE_FORMAT:
        raise bad(
            f"is not the meta.json of an hf-s2l trajectory store (format {meta.get('format')!r})"
        )
    fields.schema_version(meta, SCHEMA_VERSION, "store")

    is_str = lambda v: isinstance(v, str)  # noqa: E731
    str_or_none = lambda v: v is None or isinstance(v, str)  # noqa: E731
    field(meta, "store_id", is_str, "a string")
    n = field(meta, "num_examples", lambda v: is_int(v) and v > 0, "a positive integer")
    field(meta, "mode", lambda v: v in STORE_MODES, " or ".join(map(repr, STORE_MODES)))
    for key in ("library_version", "loss_definition"):
        field(meta, key, str_or_none, "a string", optional=True)
    field(meta, "created_at", lambda v: v is None or is_number(v), "a number", optional=True)
    ds = field(meta, "dataset", lambda v: isinstance(v, dict), "an object")
    field(ds, "length", is_int, "an integer", "dataset ")
    field(ds, "fingerprint", str_or_none, "a string or null", "dataset ", optional=True)
    model = field(meta, "model", lambda v: isinstance(v, dict), "an object")
    for key in ("name_or_path", "revision"):
        field(model, key, str_or_none, "a string or null", "model ", optional=True)
    field(meta, "has_example_ids", lambda v: isinstance(v, bool), "true or false", optional=True)
    field(meta, "extra", lambda v: isinstance(v, dict), "an object", optional=True)
    names = field(
        meta, "metadata_columns", lambda v: isinstance(v, list), "an array", optional=True
    )
    for name in names or []:
        try:
            check_metadata_name(name)
        except ValueError as e:
            raise bad(f"lists an {e}") from None
    if names and len(set(names)) != len(names):
        raise bad(f"lists a metadata column twice ({names})")
    cols = field(meta, "columns", lambda v: isinstance(v, list), "an array")
    for i, c in enumerate(cols):
        where = f"columns[{i}] "
        if not isinstance(c, dict):
            raise bad(f"has {where}= {c!r} ({type_name(c)}), expected an object")
        field(c, "global_step", lambda v: is_int(v) and v >= 0, "a non-negative integer", where)
        field(c, "epoch", is_number, "a number", where)
        field(c, "kind", is_str, "a string", where)
        field(c, "complete", lambda v: isinstance(v, bool), "true or false", where)
        field(c, "wall_time", lambda v: v is None or is_number(v), "a number or null", where, True)
    del n


def check_files(store_dir: Path, meta: dict[str, Any]) -> tuple[ColumnFile, ColumnFile | None]:
    """Check every data file against ``meta``; return the (parsed) column files."""
    n = int(meta["num_examples"])
    t = len(meta["columns"])
    column_files = []
    for name, dtype in ((LOSSES_FILE, np.float32), (CELL_STEPS_FILE, np.int64)):
        path = store_dir / name
        if name == CELL_STEPS_FILE and not path.exists():
            column_files.append(None)
            continue
        cf = ColumnFile(path)
        check_column_file(cf, n, t, np.dtype(dtype))
        column_files.append(cf)
    tokens = store_dir / NUM_TOKENS_FILE
    if not tokens.is_file():
        raise StoreCorruptError(tokens, "is missing")
    check_npy(tokens, shape=(n,), dtype=np.int64)
    if meta.get("has_example_ids"):
        ids = store_dir / EXAMPLE_IDS_FILE
        if not ids.is_file():
            raise StoreCorruptError(ids, "is missing (meta.json says the store has example ids)")
        check_npy(ids, shape=(n,), kinds="iuU")
    for name in meta.get("metadata_columns", []):
        p = store_dir / METADATA_DIR / f"{name}.npy"
        if not p.is_file():
            raise StoreCorruptError(p, f"is missing (meta.json lists metadata column {name!r})")
        check_npy(p, shape=(n,), kinds="biufcUS")
    return column_files[0], column_files[1]


def check_not_linked(store_dir: Path, meta: dict[str, Any]) -> None:
    """A store opened for writing: none of its files (nor ``metadata/``) is a symbolic link,
    which writing would follow to a file outside the store (:class:`StoreCorruptError`).
    Read-only opens allow links (the Hugging Face cache links every file to a blob)."""
    names = [META_FILE, LOSSES_FILE, CELL_STEPS_FILE, NUM_TOKENS_FILE, EXAMPLE_IDS_FILE]
    names += [METADATA_DIR, *(f"{METADATA_DIR}/{n}.npy" for n in meta.get("metadata_columns", []))]
    for name in names:
        if (store_dir / name).is_symlink():
            raise StoreCorruptError(store_dir / name, SYMLINK_PROBLEM)


def check_column_file(cf: ColumnFile, n: int, t: int, dtype: np.dtype) -> None:
    """A column file has ``n`` rows of ``dtype`` and at least the ``t`` columns meta.json lists.

    It may hold more: another process is between the two steps of ``add_column`` (file grown,
    meta.json not yet written), or crashed there; readers ignore such columns.
    """
    if cf.dtype != dtype:
        raise StoreCorruptError(cf.path, f"holds {cf.dtype} values, expected {dtype}")
    if cf.num_rows != n:
        raise StoreCorruptError(cf.path, f"has {cf.num_rows} rows but meta.json says {n}")
    if cf.num_columns < t:
        raise StoreCorruptError(cf.path, f"has {cf.num_columns} columns but meta.json lists {t}")
