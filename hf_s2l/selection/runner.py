"""``select()``: the one entry point of every selection method.

Resolves the budget and the optional group column (budget split evenly over groups,
smallest first, as the official S2L code does for MathInstruct's ``source``), runs the
registered method and builds the :class:`~hf_s2l.selection.Selection` with statistics and
provenance.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..store import TrajectoryStore
from ..version import __version__
from .budget import resolve_budget
from .context import MethodContext
from .provenance import cli_command, is_arraylike, jsonable
from .registry import build_config, check_result, get_method
from .selection import Selection
from .stratified import group_counts, run_stratified

logger = logging.get_logger(__name__)


def select(
    store: TrajectoryStore | str | os.PathLike,
    method: str,
    budget: int | float,
    seed: int = 0,
    *,
    by_column: str | None = None,
    groups: Sequence[Any] | np.ndarray | None = None,
    embeddings: np.ndarray | None = None,
    stratify: bool = True,
    **params: Any,
) -> Selection:
    """Choose ``budget`` training examples from a trajectory store with ``method``.

    Args:
        store: a :class:`TrajectoryStore` or its directory.
        method: a registered method name (see :func:`available_methods`).
        budget: number of examples (int) or a fraction of the store in (0, 1] (float).
        seed: random seed; the result is deterministic for a given seed.
        by_column: name of a per-example store metadata column (e.g. ``"source"``) to
            stratify by; or pass the values directly as ``groups``.
        groups: per-example group labels (length N), instead of ``by_column``.
        embeddings: per-example vectors (N x d) for methods that can use them
            (facility location, Learning Percentage's cluster stratification).
        stratify: with groups, split the budget evenly over groups (smallest first, a
            group smaller than its share is taken whole, the rest rolls over) and run the
            method within each group — the official S2L procedure. With False the groups
            only feed the per-group statistics.
        **params: the method's own parameters (see its config dataclass).

    Returns:
        A :class:`Selection` with sorted indices, per-group/per-method stats and provenance.
    """
    t0 = time.perf_counter()
    if not isinstance(store, TrajectoryStore):
        store = TrajectoryStore.open(store)
    spec = get_method(method)
    n = store.num_examples
    b = resolve_budget(budget, n)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    seed = int(seed)

    ncomplete = len(store.complete_columns())
    if ncomplete < spec.min_columns:
        raise ValueError(
            f"method {method!r} needs at least {spec.min_columns} complete trajectory columns "
            f"but the store at {store.path} has {ncomplete} (of {store.num_columns} recorded); "
            "record more points (e.g. TrajectoryCallback(num_points=12)) or wait for the run "
            "to finish"
        )

    if by_column is not None and groups is not None:
        raise ValueError("pass either by_column or groups, not both")
    group_name = by_column
    if by_column is not None:
        groups = store.metadata(by_column)
    group_arr: np.ndarray | None = None
    if groups is not None:
        group_arr = np.asarray(groups)
        if group_arr.ndim != 1 or len(group_arr) != n:
            raise ValueError(
                f"group column {group_name or 'groups'!s} has shape {group_arr.shape} but the "
                f"store has {n} examples: it must hold one label per training example, in the "
                "store's row order"
            )
        group_name = group_name or "groups"

    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[0] != n:
            raise ValueError(
                f"embeddings have shape {embeddings.shape}; expected ({n}, d), one row per "
                "training example in the store's row order"
            )
        if not np.isfinite(embeddings).all():
            raise ValueError("embeddings contain NaN or infinite values")

    cfg = build_config(spec, params)
    rng = np.random.default_rng(seed)
    ctx = MethodContext(store, seed=seed, rng=rng, embeddings=embeddings)

    stats: dict[str, Any] = {"method": method, "num_examples": n, "budget": b}
    order_key: np.ndarray | None = None
    weights: np.ndarray | None = None
    if group_arr is not None and stratify:
        chosen, order_key, weights, gstats = run_stratified(spec, ctx, cfg, b, group_arr)
        stats["groups"] = gstats
    else:
        res = spec.fn(ctx, b, cfg)
        chosen, order_key, weights = check_result(res, ctx.num_rows, b, method)
        stats.update(res.stats)
        if group_arr is not None:
            stats["groups"] = group_counts(group_arr, chosen, quotas=None)

    if order_key is not None:
        order = chosen[np.lexsort((chosen, order_key))]
    else:
        order = None
    if weights is not None:
        srt = np.argsort(chosen, kind="stable")
        weights = weights[srt]
    ids = store.example_ids
    sorted_idx = np.sort(chosen)

    user_params = {k: v for k, v in params.items()}
    cfg_dict = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg)
    arrays_given = any(is_arraylike(v) for v in user_params.values()) or (
        groups is not None and by_column is None
    )
    command = None
    if not arrays_given and embeddings is None:
        command = cli_command(store.path, method, budget, seed, by_column, stratify, user_params)
    provenance = {
        "store_path": str(Path(store.path).resolve()),
        "store_mode": store.mode,
        "model_name_or_path": store.model_name_or_path,
        "columns": [
            {
                "index": i,
                "global_step": c["global_step"],
                "epoch": c["epoch"],
                "kind": c.get("kind"),
                "complete": bool(c["complete"]),
            }
            for i, c in enumerate(store.columns)
        ],
        "group_column": group_name,
        "stratified": bool(group_arr is not None and stratify),
        "embeddings": None if embeddings is None else jsonable(embeddings),
        "command": command
        or "not reproducible from the CLI alone: arrays were passed in Python "
        "(groups/embeddings/per-example params)",
        "library_version": __version__,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return Selection(
        indices=sorted_idx,
        method=method,
        params={
            **jsonable(cfg_dict),
            **({"by_column": by_column} if by_column else {}),
            **({"stratify": stratify} if group_arr is not None else {}),
            "requested_budget": budget,
        },
        budget=b,
        seed=seed,
        num_examples=n,
        store_fingerprint=store.fingerprint,
        dataset_fingerprint=store.dataset_fingerprint,
        example_ids=None if ids is None else ids[sorted_idx],
        order=order,
        weights=weights,
        stats=jsonable(stats),
        provenance=provenance,
    )
