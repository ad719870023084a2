"""What a valid ``selection.json`` looks like, checked whenever a selection is loaded.

As the store's ``meta.json`` (:mod:`hf_s2l.store.schema`): anything that does not parse or
does not fit (deep nesting, integers beyond int64, ``NaN`` counts, a string where an object
belongs) raises one :class:`~hf_s2l.selection.SelectionCorruptError` naming the file and the
field, before any of it is used.

Schema versions: 1 (before the ``files_sha256`` digests existed, or with them) and 2 (every
save since: the digests are required, so a ``selection.json`` without them was edited).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers.utils import logging

from ..store.schema import _is_int, _type_name
from ._folder import SELECTION_FORMAT, SELECTION_SCHEMA_VERSION, SelectionCorruptError

logger = logging.get_logger(__name__)

DIGESTS_SINCE_SCHEMA = 2
"""The first schema version whose saves always carry ``files_sha256``."""


def parse_selection_meta(data: bytes, path: Path) -> dict[str, Any]:
    """``selection.json``'s bytes as a checked dict (:func:`check_selection_meta`)."""
    try:
        meta = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise SelectionCorruptError(path, f"is not UTF-8 text ({e})") from None
    except json.JSONDecodeError as e:
        raise SelectionCorruptError(path, f"is not valid JSON ({e})") from None
    except RecursionError:
        raise SelectionCorruptError(path, "is nested too deeply to be a selection.json") from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise SelectionCorruptError(path, f"is not valid JSON ({e})") from None
    check_selection_meta(meta, path)
    return meta


def check_selection_meta(meta: Any, path: Path) -> None:
    """Check the type of every field of a ``selection.json`` (``SelectionCorruptError``)."""

    def bad(problem: str) -> SelectionCorruptError:
        return SelectionCorruptError(path, problem)

    if not isinstance(meta, dict):
        raise bad(f"holds a JSON {_type_name(meta)}, expected an object")
    if meta.get("format") != SELECTION_FORMAT:
        raise ValueError(f"{path} is not an hf-s2l selection (format {meta.get('format')!r})")
    version = meta.get("schema_version")
    if not _is_int(version) or version < 1:
        raise bad(f"has schema_version {version!r}, expected a positive integer")
    if version > SELECTION_SCHEMA_VERSION:
        raise ValueError(
            f"{path}: selection schema version {version} is newer than this hf-s2l "
            f"({SELECTION_SCHEMA_VERSION}); upgrade hf-s2l"
        )

    def field(key: str, ok: Any, expected: str, optional: bool = True) -> Any:
        if key not in meta:
            if optional:
                return None
            raise bad(f"lacks {key!r}")
        if not ok(meta[key]):
            raise bad(
                f"has {key!r} = {_short(meta[key])} ({_type_name(meta[key])}), expected {expected}"
            )
        return meta[key]

    def count(v: Any) -> bool:
        return _is_int(v) and v >= 0

    def is_dict(v: Any) -> bool:
        return isinstance(v, dict)

    def str_or_none(v: Any) -> bool:
        return v is None or isinstance(v, str)

    field("method", lambda v: isinstance(v, str) and v != "", "a method name", optional=False)
    field("num_selected", count, "a non-negative integer", optional=False)
    for key in ("budget", "num_examples"):
        field(key, count, "a non-negative integer")
    field("seed", _is_int, "an integer")
    for key in ("params", "stats", "provenance"):
        field(key, is_dict, "an object")
    for key in ("library_version", "store_fingerprint", "dataset_fingerprint"):
        field(key, str_or_none, "a string or null")
    digests = field("files_sha256", is_dict, "an object (file name -> sha256)")
    for name, digest in (digests or {}).items():
        if not (isinstance(digest, str) and len(digest) == 64):
            raise bad(f"has files_sha256[{name!r}] = {_short(digest)}, expected a sha256 digest")


def check_digests_present(meta: dict[str, Any], path: Path, trust_unverified: bool) -> None:
    """A selection saved with digests (schema >= 2) must still have them.

    Without them nothing shows whether ``indices.npy`` / ``example_ids.npy`` were edited
    apart from each other (published rows would then differ from the selected ones):
    ``SelectionCorruptError`` unless ``trust_unverified``.
    """
    if "files_sha256" in meta or meta["schema_version"] < DIGESTS_SINCE_SCHEMA:
        return
    if not trust_unverified:
        raise SelectionCorruptError(
            path,
            f"lacks files_sha256, the digests every selection of schema_version "
            f"{meta['schema_version']} is saved with: nothing shows whether its indices or "
            "example ids were edited (an export would publish whatever rows they now name). "
            "Run the selection again, or load it with trust_unverified=True "
            "(hf-s2l export/push --trust-unverified) if you know its files are intact",
        )
    logger.warning(
        f"{path} lacks files_sha256: its array files cannot be checked; used anyway "
        "(trust_unverified=True)"
    )


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
