"""The options of :func:`~hf_s2l.selection.select` around the method: the settings
``official=True`` pins, the columns that make a row unscored, the non-default options the CLI
records, warnings logged once, and the message for a store that recorded nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from transformers.utils import logging

from ..store import TrajectoryStore
from .base import MethodSpec
from .context import MethodContext
from .group_quotas import DEFAULT_GROUP_QUOTAS
from .registry import available_methods, get_method
from .stratified import group_label

logger = logging.get_logger(__name__)


def same_setting(given: Any, value: Any) -> bool:
    """Whether a user's argument equals an official setting (``"point"`` == ``["point"]``)."""

    def norm(v: Any) -> Any:
        if isinstance(v, str):
            return [v]
        if isinstance(v, (list, tuple)):
            return list(v)
        return v

    return norm(given) == norm(value)


def official_choices(
    spec: MethodSpec, options: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """The settings ``official=True`` pins for ``spec``; a ``ValueError`` naming every
    argument given that contradicts one (``options``: the select options, None = not given)."""
    if spec.official is None:
        having = [m for m in available_methods() if get_method(m).official is not None]
        raise ValueError(
            f"official=True: method {spec.name!r} has no official reference implementation "
            f"to reproduce; official=True applies to: {', '.join(having)}"
        )
    conflicts = []
    for key, value in spec.official.items():
        given = options.get(key) if key in options else params.get(key, value)
        if given is not None and not same_setting(given, value):
            conflicts.append(f"{key}={given!r} (official: {value!r})")
        elif key in params and value is None and params[key] is not None:
            conflicts.append(f"{key}={params[key]!r} (official: not set)")
    if conflicts:
        raise ValueError(
            f"official=True sets every official choice of {spec.name!r} "
            f"({', '.join(f'{k}={v!r}' for k, v in spec.official.items())}); these arguments "
            f"contradict it: {'; '.join(conflicts)}. Drop them, or drop official=True"
        )
    return dict(spec.official)


def check_flags(**flags: Any) -> None:
    """``TypeError`` for a flag of :func:`~hf_s2l.selection.select` that is not a bool:
    ``official="false"`` (a string from a config file) is truthy and would turn it ON."""
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(
                f"select(): {name} must be True or False, got {value!r} "
                f"({type(value).__name__}); a string such as 'false' read from a config file "
                "is not a flag: convert it to a bool first"
            )


def unscored_groups(group_arr: np.ndarray, bad: np.ndarray) -> dict[str, int]:
    """``{group label: size}`` of the groups whose rows are all unscored."""
    uniq, inv = np.unique(group_arr, return_inverse=True)
    sizes = np.bincount(inv, minlength=len(uniq))
    scored = np.bincount(inv[~bad], minlength=len(uniq))
    return {group_label(uniq[g]): int(sizes[g]) for g in np.flatnonzero(scored == 0)}


def used_columns(spec: MethodSpec, ctx: MethodContext, cfg: Any) -> np.ndarray:
    """The columns whose non-finite values make a row unscored for this method."""
    cols = spec.columns(ctx, cfg) if spec.columns is not None else None
    if cols is None:
        cols = ctx.complete_columns
    return np.asarray(cols, dtype=np.int64)


def cli(options: dict[str, Any]) -> dict[str, Any]:
    """The non-default selection options, as ``--param`` entries."""
    defaults = {
        "column_kinds": None,
        "include_initial": False,
        "unscored": "exclude",
        "group_remainder": "random",
        "group_quotas": DEFAULT_GROUP_QUOTAS,
    }
    return {k: v for k, v in options.items() if v != defaults[k]}


def log_once(messages: list[str]) -> list[dict[str, Any]]:
    """Log each distinct message once; ``[{"message", "count"}]`` in first-seen order."""
    counts = Counter(messages)
    out = []
    for msg in dict.fromkeys(messages):
        k = counts[msg]
        logger.warning("%s%s", msg, f" ({k} groups)" if k > 1 else "")
        out.append({"message": msg, "count": k})
    return out


def recorded_nothing(store: TrajectoryStore) -> str:
    """Why a store without a single column cannot be selected from."""
    why = (
        "its in-step recorder never wrote an epoch column (training stopped before its "
        "first flush, or the recorder was not attached to the Trainer that trained)"
        if store.mode == "in_step"
        else "no recording point was reached (training stopped before the first point, or "
        "the callback was not attached to the Trainer that trained)"
    )
    return (
        f"the trajectory store at {store.path} recorded nothing: it has 0 columns for its "
        f"{store.num_examples} examples; {why}. Record it again (hf_s2l.TrajectoryCallback on "
        "the proxy run) before selecting"
    )
