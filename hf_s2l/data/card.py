"""Old import path of the selected-dataset card (until the shims go, issue 21 WP6).

The card lives in :mod:`hf_s2l.hub.card` (rendering a typed
:class:`~hf_s2l.hub.provenance.SelectionProvenance`), its Markdown helpers in
:mod:`hf_s2l.hub.markdown` and the provenance of a ``SelectedDataset`` in
:mod:`hf_s2l.data.provenance`.
"""

from __future__ import annotations

from typing import Any

from ..hub.card import build_card, parse_card, read_provenance, render_body
from ..hub.markdown import code_block as _code_block
from ..hub.markdown import json_block as _json_block
from ..hub.markdown import md_escape, redact
from ..hub.markdown import table as _table
from ..hub.provenance import PROVENANCE_FIELDS, PROVENANCE_KEY, SelectionProvenance
from ..selection.stats import group_tables
from ..store.jsonable import to_jsonable
from .provenance import card_provenance, selection_provenance

__all__ = [
    "PROVENANCE_FIELDS",
    "PROVENANCE_KEY",
    "SelectionProvenance",
    "build_card",
    "card_provenance",
    "md_escape",
    "parse_card",
    "read_provenance",
    "redact",
    "render_body",
    "selection_provenance",
]
_OLD_PRIVATE = (_code_block, _json_block, _table)  # private names other modules imported


def _plain(obj: Any) -> Any:
    """JSON/YAML-safe copy (numpy -> Python, tuples -> lists, others -> str)."""
    return to_jsonable(obj)


def _counts_from_stats(stats: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """``{group: {value: {before, after}}}`` tables of a selection's stats (old shape)."""
    return {
        g: {v: {"before": b, "after": a} for v, (b, a) in t.items()}
        for g, t in group_tables(stats).items()
    }
