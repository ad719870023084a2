"""Group counts in a selection's ``stats``: the one reader of the shapes methods write.

:func:`group_tables` returns plain ``{group: {value: (before, after)}}`` (counts in the whole
dataset and in the selection), so hub/card code needs no selection types. Shapes understood,
at the top level or one level down (``stats[g]``, ``stats[g]["counts"]``,
``stats[g]["clusters"]``):

1. ``{"before": {v: n}, "after": {v: n}}`` (top level: group ``"group"``);
2. ``{v: {"before": n, "after": m}}``;
3. ``{v: {"size": n, "selected": m}}`` (``stratified.group_counts``; extra keys like
   ``quota`` ignored);
4. ``[{"cluster": v, "size": n, "selected": m}, ...]`` (label from ``cluster``/``group``/
   ``label``/``value``, else the position);
5. parallel lists ``cluster_sizes`` / ``cluster_selected`` (group ``"clusters"``).

Moved from ``data/card.py`` (``_counts_table`` / ``_counts_from_stats``), same tables.
"""

from __future__ import annotations

from typing import Any

__all__ = ["group_tables"]


def _table(val: Any) -> dict[str, tuple[Any, Any]] | None:
    """One ``{value: (before, after)}`` table, or ``None`` if ``val`` has no known shape."""
    if isinstance(val, dict):
        b, a = val.get("before"), val.get("after")
        if isinstance(b, dict) and isinstance(a, dict):  # shape 1
            keys = sorted(set(map(str, b)) | set(map(str, a)))
            bs, as_ = {str(k): v for k, v in b.items()}, {str(k): v for k, v in a.items()}
            return {k: (bs.get(k, 0), as_.get(k, 0)) for k in keys}
        if val and all(isinstance(v, dict) for v in val.values()):
            if all("before" in v and "after" in v for v in val.values()):  # shape 2
                return {str(k): (v["before"], v["after"]) for k, v in val.items()}
            if all("size" in v and "selected" in v for v in val.values()):  # shape 3
                return {str(k): (v["size"], v["selected"]) for k, v in val.items()}
    if (
        isinstance(val, list)
        and val
        and all(isinstance(v, dict) and "size" in v and "selected" in v for v in val)
    ):  # shape 4
        out = {}
        for i, v in enumerate(val):
            label = next((v[k] for k in ("cluster", "group", "label", "value") if k in v), i)
            out[str(label)] = (v["size"], v["selected"])
        return out
    return None


def group_tables(stats: Any) -> dict[str, dict[str, tuple[int, int]]]:
    """``{group: {value: (before, after)}}`` read from a selection's ``stats`` (see module doc).

    Counts are returned as stored (ints in every selection.json written by the library).
    """
    out: dict[str, dict[str, tuple[int, int]]] = {}
    if not isinstance(stats, dict):
        return out
    top = _table(stats)
    if top and "before" in stats:
        out["group"] = top
    sizes, chosen = stats.get("cluster_sizes"), stats.get("cluster_selected")
    if isinstance(sizes, list) and isinstance(chosen, list) and len(sizes) == len(chosen):
        out["clusters"] = {str(i): (b, a) for i, (b, a) in enumerate(zip(sizes, chosen))}
    for name, val in stats.items():
        table = _table(val)
        if table is None and isinstance(val, dict):
            for sub in ("counts", "clusters"):
                table = _table(val.get(sub))
                if table is not None:
                    break
        if table is not None:
            out[str(name)] = table
    return out
