"""The group loop: split the budget over groups (smallest first) and run a method in each."""

from __future__ import annotations

from typing import Any

import numpy as np
from transformers.utils import logging

from .context import MethodContext
from .registry import MethodResult, MethodSpec, check_result

logger = logging.get_logger(__name__)


def group_label(value: Any) -> str:
    return str(value.item() if isinstance(value, np.generic) else value)


def group_counts(groups: np.ndarray, chosen: np.ndarray, quotas: np.ndarray | None) -> dict:
    uniq, inv = np.unique(groups, return_inverse=True)
    sizes = np.bincount(inv, minlength=len(uniq))
    sel = np.bincount(inv[chosen], minlength=len(uniq))
    out = {}
    for g, u in enumerate(uniq):
        entry = {"size": int(sizes[g]), "selected": int(sel[g])}
        if quotas is not None:
            entry["quota"] = int(quotas[g])
        out[group_label(u)] = entry
    return out


def run_stratified(
    spec: MethodSpec, ctx: MethodContext, cfg: Any, budget: int, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, dict[str, Any]]:
    """The official S2L source loop (``schedules/s2l.py``, ``query``), for any method."""
    uniq, inv = np.unique(groups, return_inverse=True)
    sizes = np.bincount(inv, minlength=len(uniq))
    visit = np.argsort(sizes, kind="stable")
    members = np.argsort(inv, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    remaining = budget
    chosen_parts, key_parts, w_parts = [], [], []
    per_group: dict[str, Any] = {}
    quotas = np.zeros(len(uniq), dtype=np.int64)
    any_key = any_w = False
    for i, g in enumerate(visit):
        rows = members[bounds[g] : bounds[g + 1]]
        q = remaining // (len(visit) - i)
        quotas[g] = q
        label = group_label(uniq[g])
        if len(rows) > q or (spec.orders and len(rows) > 0):
            take = min(q, len(rows))
            if take == 0:
                res = MethodResult(indices=np.zeros(0, dtype=np.int64))
            else:
                res = spec.fn(ctx.subset(rows), take, cfg)
            idx, key, w = check_result(res, len(rows), take, spec.name)
            picked = rows[idx]
            per_group[label] = res.stats
        else:
            picked, key, w = rows, None, None
            per_group[label] = {"taken_whole": True}
        chosen_parts.append(picked)
        key_parts.append(key if key is not None else np.zeros(len(picked)))
        w_parts.append(w if w is not None else np.ones(len(picked), dtype=np.float32))
        any_key |= key is not None
        any_w |= w is not None
        remaining -= len(picked)
        logger.info("group %s: %d of %d examples selected", label, len(picked), len(rows))
    chosen = np.concatenate(chosen_parts) if chosen_parts else np.zeros(0, dtype=np.int64)
    if len(chosen) != budget:  # cannot happen for budget <= N; guard against silent errors
        raise RuntimeError(f"group split selected {len(chosen)} examples for a budget of {budget}")
    gstats = {
        "visit_order": [group_label(uniq[g]) for g in visit],
        "counts": group_counts(groups, chosen, quotas),
        "per_group": per_group,
    }
    return (
        chosen,
        np.concatenate(key_parts) if any_key else None,
        np.concatenate(w_parts) if any_w else None,
        gstats,
    )
