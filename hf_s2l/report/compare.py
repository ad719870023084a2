"""Several selections side by side: who they are, what they chose, and outcomes joined by method.

:func:`named_selections` turns ``build_report``'s ``selection``/``compare`` arguments into
``{label: Selection}``, :func:`run_methods` adds selections made on the spot,
:func:`load_results` reads outcome rows, and :func:`comparison` computes the rows the page
shows (laid out by :func:`hf_s2l.report.outcomes.comparison_table`, as the demo's
``results.md``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from transformers.utils import logging

if TYPE_CHECKING:  # pragma: no cover
    from ..selection.selection import Selection
    from ..store.trajectory_store import TrajectoryStore

logger = logging.get_logger(__name__)

SelectionLike = Union["Selection", str, os.PathLike]


def open_selection(selection: Selection | str | os.PathLike | None) -> Selection | None:
    if selection is None:
        return None
    from ..selection.selection import Selection

    return selection if isinstance(selection, Selection) else Selection.load(selection)


def named_selections(
    selection: Any, compare: Sequence[SelectionLike] | Mapping[str, SelectionLike] | None
) -> dict[str, Selection]:
    """``{label: Selection}`` of ``selection`` (one, a list or a dict) then ``compare``."""
    items: list[tuple[str | None, Any]] = []
    for group in (selection, compare):
        if group is None:
            continue
        if isinstance(group, Mapping):
            items += [(str(k), v) for k, v in group.items()]
        elif isinstance(group, (list, tuple)):
            items += [(None, v) for v in group]
        else:
            items.append((None, group))
    named: dict[str, Selection] = {}
    for label, value in items:
        sel = open_selection(value)
        assert sel is not None
        name = label or sel.method
        base, i = name, 2
        while name in named:
            name, i = f"{base} ({i})", i + 1
        named[name] = sel
    return named


def run_methods(
    store: TrajectoryStore,
    named: dict[str, Selection],
    ref: Selection,
    methods: Sequence[str],
) -> tuple[dict[str, Selection], dict[str, str]]:
    """Add a selection per method (``ref``'s budget and seed); failures are kept as text."""
    from ..selection import select

    named, failures = dict(named), {}
    for m in methods:
        if m in named:
            continue
        try:
            named[m] = select(store, m, len(ref.indices), seed=ref.seed)
        except (ValueError, KeyError, RuntimeError) as e:
            logger.warning("report: selection with %s failed: %s", m, e)
            failures[m] = str(e)
    return named, failures


def load_results(
    results: Sequence[Mapping[str, Any]] | str | os.PathLike | None,
) -> list[dict[str, Any]]:
    if results is None:
        return []
    if isinstance(results, (str, os.PathLike)):
        payload = json.loads(Path(results).read_text())
        results = payload.get("results", []) if isinstance(payload, dict) else payload
    rows = [dict(r) for r in results]  # type: ignore[union-attr]
    for r in rows:
        if "method" not in r:
            raise ValueError(f"every results row needs a 'method' key, got {sorted(r)}")
    return rows


def comparison(
    store: TrajectoryStore,
    named: dict[str, Selection],
    failures: dict[str, str],
    outcome: list[dict[str, Any]],
    group_col: str | None,
) -> dict[str, Any]:
    """One row per selection (and per outcome row without one) plus pairwise overlaps."""
    n = store.num_examples
    complete = store.complete_columns()
    last = np.asarray(store.column_values(int(complete[-1]))) if len(complete) else None
    scored = (
        ~np.isnan(store.trajectories(complete)).all(axis=1) if len(complete) else np.ones(n, bool)
    )
    groups = np.asarray(store.metadata(group_col)).astype(str) if group_col else None
    by_method = {str(r["method"]): r for r in outcome}
    rows: list[dict[str, Any]] = []
    sets: dict[str, np.ndarray] = {}
    for label, sel in named.items():
        idx = np.asarray(sel.indices, dtype=np.int64)
        row: dict[str, Any] = {"label": label, "method": sel.method}
        if sel.num_examples not in (0, n):
            row["error"] = f"made for {sel.num_examples} examples, the store has {n}"
            rows.append(row)
            continue
        sets[label] = idx
        row.update(
            examples=int(len(idx)),
            fraction=round(len(idx) / max(n, 1), 4),
            seed=sel.seed,
            mean_last_loss=(None if last is None or not len(idx) else _nanmean(last[idx])),
            unscored=int((~scored[idx]).sum()),
        )
        if groups is not None:
            names, counts = np.unique(groups[idx], return_counts=True)
            row["groups"] = {str(k): int(v) for k, v in zip(names, counts)}
        extra = by_method.pop(label, None) or by_method.pop(sel.method, None)
        if extra:
            row["results"] = {k: v for k, v in extra.items() if k != "method"}
        rows.append(row)
    for m, err in failures.items():
        rows.append({"label": m, "method": m, "error": err})
    for m, extra in by_method.items():
        row = {
            "label": m,
            "method": m,
            "results": {k: v for k, v in extra.items() if k not in ("method", "error")},
        }
        if extra.get("error"):  # e.g. a selection that failed: shown as such
            row["error"] = str(extra["error"])
        # an outcome without a selection (e.g. full data) may give its own per-group counts
        own = extra.get(f"per_{group_col}") if group_col else None
        if isinstance(own, Mapping):
            row["groups"] = {str(k): int(v) for k, v in own.items()}
        rows.append(row)
    overlap = {
        a: {
            b: round(len(np.intersect1d(ia, ib)) / max(len(np.union1d(ia, ib)), 1), 4)
            for b, ib in sets.items()
        }
        for a, ia in sets.items()
    }
    return {
        "rows": rows,
        "overlap_jaccard": overlap,
        "mean_last_loss_all": None if last is None else _nanmean(last),
        "last_column_step": int(store.steps[complete[-1]]) if len(complete) else None,
        "group_column": group_col,
        "group_sizes": (
            None
            if groups is None
            else {str(k): int(v) for k, v in zip(*np.unique(groups, return_counts=True))}
        ),
    }


def _nanmean(v: np.ndarray) -> float | None:
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    return round(float(v.mean()), 5) if len(v) else None
