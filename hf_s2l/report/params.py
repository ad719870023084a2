"""The selection's Parameters table: every parameter in words a user can act on.

A parameter left at ``None`` means "the default", which differs per parameter: the table says
which (``kmeans_seed``: the selection's seed; ``columns``: the columns selection read, listed
from the provenance). A per-group K (S2L run within each ``by_column`` group) is shown with
the number of groups and the clusters in all, the number the report's own k-means uses
(:func:`selection_clusters`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..selection.selection import Selection

__all__ = ["param_rows", "selection_clusters"]

#: What ``None`` means for the parameters that have a default of their own.
NONE_MEANS = {
    "columns": "default: the columns selection reads (complete, after training starts)",
    "column_kinds": "default: every kind",
    "kmeans_seed": "default: the selection's seed",
    "clusters": "none given: k-means computes them",
    "group_remainder": "default: the remainder goes to groups drawn at random (seeded)",
    "group_quotas": "default",
    "embeddings": "none given",
}


def _groups(sel: Selection) -> int | None:
    """How many groups a stratified selection ran in (``None``: not stratified)."""
    params = sel.params or {}
    if not params.get("stratify"):
        return None
    counts = ((sel.stats or {}).get("groups") or {}).get("counts")
    return len(counts) if isinstance(counts, Mapping) and counts else None


def selection_clusters(sel: Selection | None) -> tuple[int, str] | None:
    """``(K in all, why)`` of an S2L selection: its ``num_clusters`` per group times the
    groups it ran in; ``None`` for other methods."""
    if sel is None or sel.method != "s2l":
        return None
    k = (sel.params or {}).get("num_clusters")
    if not isinstance(k, int) or k < 1:
        return None
    g = _groups(sel)
    if g:
        col = sel.params.get("by_column") or "group"
        return k * g, f"the S2L selection's {k} clusters per {col} x {g} {col} groups"
    return k, f"the S2L selection's {k} clusters"


def param_rows(sel: Selection) -> list[list[Any]]:
    """``[[name, value], ...]`` of the selection's (nested) parameters, one readable row each."""
    used = (sel.provenance or {}).get("columns_used")
    rows = _rows(sel.params or {}, "", sel.seed, used)
    total = selection_clusters(sel)
    g = _groups(sel)
    if total and g:
        col = sel.params.get("by_column") or "group"
        for r in rows:
            if r[0] == "num_clusters":
                r[1] = f"{r[1]} per {col} ({g} {col} groups: {total[0]} clusters in all)"
    return rows


def _rows(params: Mapping[str, Any], prefix: str, seed: int, used: Any) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for k, v in params.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            rows += _rows(v, f"{key}.", seed, used)
        elif isinstance(v, (list, tuple)):
            rows.append([key, ", ".join(map(str, v)) if len(v) <= 20 else f"{len(v)} values"])
        elif v is None:
            text = NONE_MEANS.get(k, "not set (the method's default)")
            if k == "kmeans_seed":
                text += f" ({seed})"
            elif k == "columns" and isinstance(used, (list, tuple)) and used:
                shown = ", ".join(map(str, used)) if len(used) <= 20 else f"{len(used)} columns"
                text += f": {shown}"
            rows.append([key, text])
        else:
            rows.append([key, v])
    return rows
