"""The group loop: split the budget over groups and run a method in each.

The official S2L source loop (``schedules/s2l.py``, ``S2L.initialize_labeled_data``), for
any method: groups are visited by ascending size; each gets its quota (``group_quotas``:
``"equal"``, the official ``remaining // groups_left`` with the remainder spread at random by
default; ``"proportional"``; or a mapping, see :mod:`hf_s2l.selection.group_quotas`), a
group with no more rows than its quota is taken whole, and the method runs within each
group larger than its quota.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from transformers.utils import logging

from .base import MethodResult, MethodSpec, check_result
from .context import MethodContext
from .group_quotas import GroupQuotas, split_groups

logger = logging.get_logger(__name__)

REMAINDER_POLICIES = ("random", "last")


def group_label(value: Any) -> str:
    """A group value as the string used in statistics."""
    return str(value.item() if isinstance(value, np.generic) else value)


def group_counts(groups: np.ndarray, chosen: np.ndarray, quotas: np.ndarray | None) -> dict:
    """``{group: {"size", "selected"[, "quota"]}}`` for the chosen rows."""
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
    spec: MethodSpec,
    ctx: MethodContext,
    cfg: Any,
    budget: int,
    groups: np.ndarray,
    split_rng: np.random.Generator | None,
    rule: GroupQuotas = "equal",
    ties: str = "index",
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, dict[str, Any], list[str]]:
    """Run ``spec`` within each group of ``groups`` (one label per row of ``ctx``).

    ``rule``: the group quotas (checked by
    :func:`~hf_s2l.selection.group_quotas.check_group_quotas`). ``split_rng``: with
    ``"equal"``, the generator spreading the budget remainder over groups (``None``: the
    official rule, remainder to the last groups). ``ties``: the order of equal-size groups
    (``"official"``: the official code's ``np.argsort``). Returns ``(chosen rows of ctx, order key,
    weights, group statistics, warnings of every group)``.
    """
    uniq, inv = np.unique(groups, return_inverse=True)
    sizes = np.bincount(inv, minlength=len(uniq))
    labels = [group_label(u) for u in uniq]
    visit, quotas, notes = split_groups(rule, labels, sizes, budget, split_rng, ties)
    members = np.argsort(inv, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    chosen_parts, key_parts, w_parts = [], [], []
    per_group: dict[str, Any] = {}
    warnings: list[str] = []
    any_key = any_w = ran = False
    whole: list[np.ndarray] = []  # rows of the groups taken whole, the method never saw them
    for g in visit:
        rows = members[bounds[g] : bounds[g + 1]]
        take = int(quotas[g])
        label = group_label(uniq[g])
        if len(rows) > take or (spec.orders and len(rows) > 0):
            if take == 0:
                res = MethodResult(indices=np.zeros(0, dtype=np.int64))
            else:
                res = spec.fn(ctx.subset(rows), take, cfg)
            ran |= take > 0
            idx, key, w = check_result(res, len(rows), take, spec.name)
            picked = rows[idx]
            per_group[label] = res.stats
            warnings.extend(res.warnings)
        else:
            picked, key, w = rows, None, None
            per_group[label] = {"taken_whole": True}
            whole.append(rows)
        chosen_parts.append(picked)
        key_parts.append(key if key is not None else np.zeros(len(picked)))
        w_parts.append(w if w is not None else np.ones(len(picked), dtype=np.float32))
        any_key |= key is not None
        any_w |= w is not None
        logger.info("group %s: %d of %d examples selected", label, len(picked), len(rows))
    chosen = np.concatenate(chosen_parts) if chosen_parts else np.zeros(0, dtype=np.int64)
    if whole and budget > 0:
        # Groups taken whole (all of them at a 100% budget): run the method once on their
        # rows anyway, so that its own checks (columns it needs, inputs, e.g. a loss too
        # large for faiss) hold for every row, whatever the budget; its choice is all of
        # those rows, so the result is unchanged.
        if not ran:  # on every row, as without groups
            res = spec.fn(ctx, budget, cfg)
            check_result(res, ctx.num_rows, budget, spec.name)
            warnings.extend(res.warnings)
        else:
            rows = np.sort(np.concatenate(whole))
            check_result(spec.fn(ctx.subset(rows), len(rows), cfg), len(rows), len(rows), spec.name)
    if len(chosen) != budget:  # cannot happen for budget <= N; guard against silent errors
        raise RuntimeError(f"group split selected {len(chosen)} examples for a budget of {budget}")
    gstats = {
        "quotas": rule,
        "visit_order": [labels[g] for g in visit],
        **({"remainder": "random" if split_rng is not None else "last"} if rule == "equal" else {}),
        **notes,
        "counts": group_counts(groups, chosen, quotas),
        "per_group": per_group,
    }
    return (
        chosen,
        np.concatenate(key_parts) if any_key else None,
        np.concatenate(w_parts) if any_w else None,
        gstats,
        warnings,
    )
