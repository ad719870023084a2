"""Group quotas: how ``select(..., by_column=...)`` splits the budget over the groups.

* ``"equal"`` — the official S2L rule (``S2L.initialize_labeled_data``): groups visited
  from the smallest, ``remaining // groups_left`` each, a group smaller than its share taken
  whole and the rest rolling over (:func:`~hf_s2l.selection.quota.even_split_smallest_first`;
  the remainder spread at random unless ``group_remainder="last"``). Every group weighs the
  same, whatever its share of the pool.
* ``"proportional"`` — each group keeps its share of the pool: ``floor(budget * size / N)``
  plus the largest remainders, ties to the group that sorts first
  (:func:`~hf_s2l.selection.quota.proportional_split`). Never more than a group holds.
* ``{value: share}`` (floats summing to 1) — the mix you evaluate on: ``budget * share`` by
  the largest remainder (ties: the group that sorts first). A group smaller than its share is
  taken whole and its shortfall is spread over the other groups in proportion to their shares
  (:func:`~hf_s2l.selection.quota.share_split`; logged and recorded in the stats as
  ``short_groups``). Groups not named get 0.
* ``{value: count}`` (ints summing to the budget) — exactly these counts; a count over a
  group's (scored) rows is an error. Groups not named get 0.

The method then runs within each group on its quota, as for ``"equal"``. The rule, and per
group its size, quota and selection, are recorded in ``stats["groups"]`` and the card.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from transformers.utils import logging

from .quota import even_split_smallest_first, proportional_split, share_split, size_order

logger = logging.get_logger(__name__)

__all__ = [
    "DEFAULT_GROUP_QUOTAS",
    "GROUP_QUOTA_RULES",
    "check_group_quotas",
    "parse_group_quotas_arg",
    "resolve_group_quotas",
    "split_groups",
]

GROUP_QUOTA_RULES = ("equal", "proportional")
# The rule of ``select(..., by_column=...)`` when ``group_quotas`` is not given and
# ``official=False`` (``official=True`` always uses ``"equal"``, the official rule). The
# trade-off (README "Which group quotas"): "equal" is the official S2L procedure but over-
# weights small groups, which costs on held-out data that follows the pool's mix (v3
# headline, docs/benchmarks.md); "proportional" keeps the pool's mix.
DEFAULT_GROUP_QUOTAS = "equal"
SHARE_TOLERANCE = 1e-6

GroupQuotas = str | dict[str, int | float]


def _is_count(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def check_group_quotas(value: Any, labels: list[str], budget: int) -> GroupQuotas:
    """``value`` validated against the group ``labels`` (strings) and the ``budget``.

    Returns ``"equal"``, ``"proportional"`` or ``{label: share or count}`` with string keys
    (a group value ``1`` is named ``"1"`` or ``1``). ``ValueError`` naming the cause for an
    unknown rule or value, a negative or non-finite entry, shares that do not sum to 1,
    counts that do not sum to the budget, or a mix of shares and counts.
    """
    if isinstance(value, str):
        if value not in GROUP_QUOTA_RULES:
            raise ValueError(
                f"group_quotas must be one of {GROUP_QUOTA_RULES} or a mapping "
                f"{{group value: share or count}}, got {value!r}"
            )
        return value
    if not isinstance(value, Mapping) or not value:
        raise ValueError(
            f"group_quotas must be one of {GROUP_QUOTA_RULES} or a non-empty mapping "
            f"{{group value: share or count}}, got {value!r}"
        )
    out: dict[str, int | float] = {}
    for k, v in value.items():
        key = str(k.item() if isinstance(k, np.generic) else k)
        if key in out:
            raise ValueError(f"group_quotas names group {key!r} twice")
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
            raise ValueError(f"group_quotas[{key!r}] must be a number, got {v!r}")
        if not math.isfinite(float(v)) or v < 0:
            raise ValueError(f"group_quotas[{key!r}] = {v!r}: shares and counts must be >= 0")
        out[key] = int(v) if _is_count(v) else float(v)
    unknown = [k for k in out if k not in set(labels)]
    if unknown:
        shown = ", ".join(repr(x) for x in labels[:20]) + (" ..." if len(labels) > 20 else "")
        raise ValueError(
            f"group_quotas names values that are not in the group column: "
            f"{', '.join(map(repr, unknown))}; its values are {shown}"
        )
    counts = [_is_count(v) for v in value.values()]
    if all(counts):
        total = sum(out.values())
        if total != budget:
            raise ValueError(
                f"group_quotas gives counts (integers) that sum to {total}, but the budget is "
                f"{budget}: make them sum to the budget, pass budget={total}, or give shares "
                "(floats summing to 1)"
            )
    elif any(counts):
        raise ValueError(
            "group_quotas mixes counts (integers) and shares (floats): give all counts "
            "(summing to the budget) or all shares (summing to 1, e.g. 0.0 rather than 0)"
        )
    else:
        total = sum(out.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(
                f"group_quotas shares sum to {total:g}, not 1: make them sum to 1, or give "
                "counts (integers) that sum to the budget"
            )
    return out


def parse_group_quotas_arg(text: str) -> GroupQuotas:
    """The CLI's ``--group-quotas``: ``equal``, ``proportional``, a JSON object, or
    ``value=share,value=share`` (a number without a point is a count)."""
    text = text.strip()
    if text in GROUP_QUOTA_RULES:
        return text
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"--group-quotas: not a JSON object: {err}") from None
        if not isinstance(parsed, dict):
            raise ValueError("--group-quotas: the JSON must be an object {value: share}")
        return parsed
    out: dict[str, int | float] = {}
    for part in text.split(","):
        key, sep, num = part.rpartition("=")
        if not sep or not key.strip():
            raise ValueError(
                f"--group-quotas expects {' or '.join(GROUP_QUOTA_RULES)}, a JSON object, or "
                f"value=share,value=share; got {text!r}"
            )
        try:
            out[key.strip()] = json.loads(num.strip())
        except json.JSONDecodeError:
            raise ValueError(f"--group-quotas: {num.strip()!r} is not a number") from None
    return out


def split_groups(
    rule: GroupQuotas,
    labels: list[str],
    sizes: np.ndarray,
    budget: int,
    rng: np.random.Generator | None,
    ties: str = "index",
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """``(visit order, quota per group, notes)`` for the groups ``labels`` of ``sizes``.

    Every rule visits the groups from the smallest (ties: label order; ``ties="official"``:
    the official ``np.argsort``), the order the method runs in. ``rng`` spreads the
    remainder of ``"equal"`` (``None``: the official rule).
    ``notes``: ``short_groups`` (share rule: groups smaller than their share).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    notes: dict[str, Any] = {}
    if rule == "equal":
        return (*even_split_smallest_first(sizes, budget, rng, ties), notes)
    order = size_order(sizes, ties)
    if rule == "proportional":
        return order, proportional_split(sizes, budget), notes
    assert isinstance(rule, dict)
    given = np.asarray([rule.get(lab, 0) for lab in labels])
    if all(_is_count(v) for v in rule.values()):
        over = [
            f"{lab!r} ({int(c)} > {int(s)} rows)"
            for lab, c, s in zip(labels, given, sizes)
            if c > s
        ]
        if over:
            raise ValueError(
                "group_quotas asks more rows of a group than it has (scored rows, when "
                f"unscored rows are excluded): {', '.join(over)}; lower those counts"
            )
        if int(given.sum()) != budget:  # unscored rows excluded: the budget was lowered
            raise ValueError(
                f"group_quotas counts sum to {int(given.sum())}, but {budget} examples are "
                "selected (the scored rows); give shares instead"
            )
        return order, given.astype(np.int64), notes
    quotas = share_split(sizes, given.astype(np.float64), budget)
    wanted = budget * given
    short = {
        lab: {"share": float(v), "size": int(s)}
        for lab, v, s, w in zip(labels, given, sizes, wanted)
        if v > 0 and w > s
    }
    if short:
        notes["short_groups"] = short
        logger.warning(
            "group_quotas: %s hold fewer rows than their share of the budget of %d; they are "
            "taken whole and the rest goes to the other groups in proportion to their shares",
            ", ".join(f"{lab!r} ({d['size']} rows)" for lab, d in short.items()),
            budget,
        )
    return order, quotas, notes


def resolve_group_quotas(
    value: Any,
    groups: np.ndarray | None,
    budget: int,
    remainder_given: str | None,
    official: bool,
) -> GroupQuotas | None:
    """The rule :func:`~hf_s2l.select` splits by (``None``: no stratified groups), checked.

    ``groups``: the group column when the budget is split over it. ``ValueError`` for
    ``group_quotas`` without groups, or ``group_remainder`` with a rule other than
    ``"equal"`` (it only places the remainder of the equal split).
    """
    if groups is None:
        if value is not None:
            raise ValueError(
                "group_quotas splits the budget over groups: pass by_column (or groups) with "
                "stratify=True, or drop group_quotas"
            )
        return None
    if value is None:
        value = "equal" if official else DEFAULT_GROUP_QUOTAS
    labels = [str(u.item() if isinstance(u, np.generic) else u) for u in np.unique(groups)]
    rule = check_group_quotas(value, labels, int(budget))
    if rule != "equal" and remainder_given is not None:
        raise ValueError(
            f"group_remainder={remainder_given!r} places the remainder of the equal split; "
            f"group_quotas={rule!r} has none to place: drop group_remainder"
        )
    return rule
