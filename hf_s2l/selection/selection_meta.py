"""What a valid ``selection.json`` looks like, checked whenever a selection is loaded.

As the store's ``meta.json`` (:mod:`hf_s2l.store.schema`): anything that does not parse or
does not fit (deep nesting, integers beyond int64, ``NaN`` counts, a string where an object
belongs) raises one :class:`~hf_s2l.selection.SelectionCorruptError` naming the file and the
field, before any of it is used.

Schema versions: 1 (before the ``files_sha256`` digests existed, or with them) and 2 (every
save since: the digests are required, so a ``selection.json`` without them was edited).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers.utils import logging

from ..store.json_checks import JsonFields, is_int, parse_json, short_repr
from ._folder import SELECTION_FORMAT, SELECTION_SCHEMA_VERSION, SelectionCorruptError

logger = logging.get_logger(__name__)

DIGESTS_SINCE_SCHEMA = 2
"""The first schema version whose saves always carry ``files_sha256``."""


def parse_selection_meta(data: bytes, path: Path) -> dict[str, Any]:
    """``selection.json``'s bytes as a checked dict (:func:`check_selection_meta`)."""
    meta = parse_json(data, path, SelectionCorruptError, "a selection.json")
    check_selection_meta(meta, path)
    return meta


def check_selection_meta(meta: Any, path: Path) -> None:
    """Check the type of every field of a ``selection.json`` (``SelectionCorruptError``)."""
    fields = JsonFields(path, SelectionCorruptError, render=short_repr)
    bad = fields.bad
    fields.require_object(meta)
    if meta.get("format") != SELECTION_FORMAT:
        raise ValueError(f"{path} is not an hf-s2l selection (format {meta.get('format')!r})")
    fields.schema_version(meta, SELECTION_SCHEMA_VERSION, "selection")

    def field(key: str, ok: Any, expected: str, optional: bool = True) -> Any:
        return fields.field(meta, key, ok, expected, optional=optional)

    def count(v: Any) -> bool:
        return is_int(v) and v >= 0

    def is_dict(v: Any) -> bool:
        return isinstance(v, dict)

    def str_or_none(v: Any) -> bool:
        return v is None or isinstance(v, str)

    field("method", lambda v: isinstance(v, str) and v != "", "a method name", optional=False)
    field("num_selected", count, "a non-negative integer", optional=False)
    for key in ("budget", "num_examples"):
        field(key, count, "a non-negative integer")
    field("seed", is_int, "an integer")
    for key in ("params", "stats", "provenance"):
        field(key, is_dict, "an object")
    for key in ("library_version", "store_fingerprint", "dataset_fingerprint"):
        field(key, str_or_none, "a string or null")
    digests = field("files_sha256", is_dict, "an object (file name -> sha256)")
    for name, digest in (digests or {}).items():
        if not (isinstance(digest, str) and len(digest) == 64):
            raise bad(
                f"has files_sha256[{name!r}] = {short_repr(digest)}, expected a sha256 digest"
            )


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
