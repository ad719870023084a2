"""The engine: ``select()``, the one entry point of every selection method.

Resolves the budget, the columns (kinds, before-training column), the unscored rows
(NaN/±inf losses, :mod:`hf_s2l.selection.unscored`) and the optional group column (budget
split evenly over groups, smallest first, as the official S2L code does for MathInstruct's
``source``), runs the registered method and builds the
:class:`~hf_s2l.selection.Selection` with statistics and provenance.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..store import TrajectoryStore
from ..store.caveats import recording_caveats
from ..version import __version__
from . import options as _opts
from .base import build_config, check_result
from .budget import resolve_budget
from .columns import choose_columns
from .context import MethodContext
from .group_quotas import resolve_group_quotas
from .provenance import cli_command, is_arraylike, jsonable
from .registry import get_method
from .selection import Selection
from .stratified import REMAINDER_POLICIES, group_counts, run_stratified
from .unscored import check_policy, unscored_rows

logger = logging.get_logger(__name__)

# Independent random streams derived from the seed, so that the method's own draws
# (``ctx.rng = default_rng(seed)``) are the same whatever the split/fill draws are.
_SPLIT_STREAM = 1
_FILL_STREAM = 2


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
    column_kinds: str | Sequence[str] | None = None,
    include_initial: bool = False,
    unscored: str | None = None,
    group_remainder: str | None = None,
    group_quotas: str | Mapping[Any, int | float] | None = None,
    official: bool = False,
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
        stratify: with groups, split the budget over the groups (``group_quotas``) and run
            the method within each group — the official S2L procedure. With False the
            groups only feed the per-group statistics.
        column_kinds: only use the complete columns of these kinds (``"point"``,
            ``"epoch_end"``, ``"interval"``, ``"train_begin"``, in-step ``"epoch"``, or the
            aliases ``"probe"`` / ``"in_step"``); default: every kind.
        include_initial: let trajectory methods (S2L, facility location, cartography,
            curriculum) use the before-training (step-0) column as a feature. Default
            False, as the official S2L code (trajectories = checkpoints saved during
            training). See :mod:`hf_s2l.selection.columns`.
        unscored: ``"exclude"`` (default): rows with a NaN/±inf loss in the columns the
            method uses never get selected while scored rows remain; ``"zero"``: read
            those cells as 0 (the official S2L code's NaN -> 0). See
            :mod:`hf_s2l.selection.unscored`.
        group_remainder: with groups, ``"random"`` (default): the remainder of the even
            split goes to groups drawn at random (seeded); ``"last"``: the official rule,
            the remainder rolls over to the last (largest) groups. Only for
            ``group_quotas="equal"``.
        group_quotas: with groups, how the budget is split over them: ``"equal"`` (the
            official S2L rule: smallest group first, ``remaining // groups_left`` each, a
            group smaller than its share taken whole), ``"proportional"`` (each group keeps
            its share of the pool, largest remainder) or ``{value: share}`` (floats summing
            to 1; a group smaller than its share is taken whole, the rest spread over the
            others by their shares) / ``{value: count}`` (ints summing to the budget).
            Default: ``DEFAULT_GROUP_QUOTAS`` (``"equal"``), always ``"equal"`` with
            ``official=True``. See :mod:`hf_s2l.selection.group_quotas`.
        official: reproduce the method's official code: every official choice at once
            (S2L: ``kmeans_seed=1234, unscored="zero", group_remainder="last",
            column_kinds="point"``, faiss' defaults; Learning Percentage: the official
            clusters and ``subset.py`` sizes, ``unscored="zero"``), recorded in
            ``provenance["official"]`` / ``["official_choices"]``. An argument that
            contradicts one of them is a ``ValueError``. See the method pages.
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
    _opts.check_flags(official=official, stratify=stratify, include_initial=include_initial)
    official_choices: dict[str, Any] = {}
    if official:
        opts = {
            "column_kinds": column_kinds,
            "include_initial": include_initial or None,
            "unscored": unscored,
            "group_remainder": group_remainder,
            "group_quotas": group_quotas,
        }
        official_choices = _opts.official_choices(spec, opts, params)
        column_kinds = official_choices.get("column_kinds", column_kinds)
        unscored = official_choices.get("unscored", unscored)
        group_remainder = official_choices.get("group_remainder", group_remainder)
        params = {**params, **{k: v for k, v in official_choices.items() if k not in opts}}
    unscored = "exclude" if unscored is None else unscored
    remainder_given = group_remainder
    group_remainder = "random" if group_remainder is None else group_remainder
    check_policy(unscored)
    if group_remainder not in REMAINDER_POLICIES:
        raise ValueError(
            f"group_remainder must be one of {REMAINDER_POLICIES}, got {group_remainder!r}"
        )
    if store.num_columns == 0 and spec.min_columns > 0:
        raise ValueError(_opts.recorded_nothing(store))
    choice = choose_columns(store, column_kinds, include_initial)

    ncomplete = len(choice.complete)
    if ncomplete < spec.min_columns:
        kinds_note = "" if choice.kinds is None else f" of kinds {list(choice.kinds)}"
        if official and choice.kinds is not None:
            kinds_note += (
                " (official=True: the official trajectories are the evenly spaced checkpoints)"
            )
        raise ValueError(
            f"method {method!r} needs at least {spec.min_columns} complete trajectory columns "
            f"but the store at {store.path} has {ncomplete}{kinds_note} (of "
            f"{store.num_columns} recorded); record more points (e.g. "
            "TrajectoryCallback(num_points=12)) or wait for the run to finish"
        )

    group_arr, group_name = _groups(store, n, by_column, groups)
    rule = resolve_group_quotas(
        group_quotas, group_arr if stratify else None, b, remainder_given, official
    )
    if embeddings is not None:
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or embeddings.shape[0] != n:
            raise ValueError(
                f"embeddings have shape {embeddings.shape}; expected ({n}, d), one row per "
                "training example in the store's row order"
            )
        if not np.isfinite(embeddings).all():
            raise ValueError("embeddings contain NaN or infinite values")

    if official and spec.official_budget is not None and group_arr is not None:
        raise ValueError(
            f"official=True: the official {method} selection has no groups; drop by_column/"
            "groups, or drop official=True to run it within groups"
        )
    cfg = build_config(spec, params)
    rng = np.random.default_rng(seed)
    ctx = MethodContext(
        store,
        seed=seed,
        rng=rng,
        embeddings=embeddings,
        columns=choice,
        zero_nonfinite=unscored == "zero",
    )

    if official and spec.official_budget is not None:
        official_size = int(spec.official_budget(ctx, cfg, b))
        if official_size != b:
            logger.info(
                "%s: official=True: the official code selects %d examples for a budget of %d",
                method,
                official_size,
                b,
            )
        b = official_size
        official_choices = {
            **official_choices,
            **{k: getattr(cfg, k) for k in ("percentage",) if hasattr(cfg, k)},
        }

    # ---- the unscored-row policy, for every method
    used = _opts.used_columns(spec, ctx, cfg)
    bad = unscored_rows(store, used) if len(used) else None
    num_bad = 0 if bad is None else int(np.count_nonzero(bad))
    if num_bad == n:
        raise ValueError(
            f"{method}: every example's loss is NaN or infinite in the columns used "
            f"({used.tolist()}) of the store at {store.path}; nothing to select from (were any "
            "targets recorded? examples whose labels are all -100 are stored as NaN)"
        )
    run_ctx, b_run = ctx, b
    empty_groups: dict[str, int] = {}
    if num_bad and unscored == "exclude":
        run_ctx = ctx.subset(np.flatnonzero(~bad))
        b_run = min(b, run_ctx.num_rows)
        if group_arr is not None and stratify:
            empty_groups = _opts.unscored_groups(group_arr, bad)
        logger.warning(
            "%s: %d of %d examples are unscored (NaN or infinite loss in columns %s, e.g. "
            "every label -100); they are excluded%s (unscored='zero' keeps them, as the "
            "official S2L code does)%s",
            method,
            num_bad,
            n,
            used.tolist(),
            "" if b_run == b else f" until the {b_run} scored examples are all taken",
            ""
            if not empty_groups
            else f"; {len(empty_groups)} group(s) of {group_name!s} have no scored row at all "
            f"and get no share of the budget, which goes to the other groups: "
            + ", ".join(f"{g!r} ({k} rows)" for g, k in empty_groups.items()),
        )
    elif num_bad:
        logger.warning(
            "%s: %d of %d examples are unscored (NaN or infinite loss in columns %s); their "
            "non-finite losses are read as 0 (unscored='zero')",
            method,
            num_bad,
            n,
            used.tolist(),
        )

    # ---- run the method (within groups or on all rows)
    stats: dict[str, Any] = {"method": method, "num_examples": n, "budget": b}
    order_key: np.ndarray | None = None
    weights: np.ndarray | None = None
    warnings: list[str] = []
    local_groups = None if group_arr is None else run_ctx.take(group_arr)
    if local_groups is not None and stratify:
        ties = "official" if official else "index"  # equal-size groups: np.argsort as official
        split_rng = (
            np.random.default_rng([seed, _SPLIT_STREAM]) if group_remainder == "random" else None
        )
        chosen, order_key, weights, gstats, warnings = run_stratified(
            spec, run_ctx, cfg, b_run, local_groups, split_rng, rule, ties
        )
        stats["groups"] = gstats
    else:
        res = spec.fn(run_ctx, b_run, cfg)
        chosen, order_key, weights = check_result(res, run_ctx.num_rows, b_run, method)
        stats.update(res.stats)
        warnings = list(res.warnings)
    if run_ctx.rows is not None:
        chosen = run_ctx.rows[chosen]
    if b_run < b:  # budget larger than the scored rows: the rest at random among unscored
        fill_rng = np.random.default_rng([seed, _FILL_STREAM])
        extra = fill_rng.choice(np.flatnonzero(bad), b - b_run, replace=False)
        chosen = np.concatenate([chosen, extra])
        if order_key is not None:
            order_key = np.concatenate([order_key, np.full(len(extra), np.inf)])
        if weights is not None:
            weights = np.concatenate([weights, np.ones(len(extra), dtype=np.float32)])
    if group_arr is not None and not stratify:
        stats["groups"] = group_counts(group_arr, chosen, quotas=None)
    if empty_groups:  # groups with no scored row: in the counts too, with what they got
        full = group_counts(group_arr, chosen, quotas=None)
        for g in empty_groups:
            stats["groups"]["counts"][g] = {**full[g], "quota": 0, "scored": 0}
        stats["groups"]["unscored_groups"] = list(empty_groups)
    stats["unscored"] = {
        "policy": unscored,
        "columns": used.tolist(),
        "rows": num_bad,
        "selected": 0 if bad is None else int(np.count_nonzero(bad[chosen])),
    }
    if warnings:
        stats["warnings"] = _opts.log_once(warnings)

    # ---- the Selection
    if order_key is not None:
        order = chosen[np.lexsort((chosen, order_key))]
    else:
        order = None
    if weights is not None:
        srt = np.argsort(chosen, kind="stable")
        weights = weights[srt]
    ids = store.example_ids
    chosen.sort()
    sorted_idx = chosen

    options = {
        "column_kinds": None if choice.kinds is None else list(choice.kinds),
        "include_initial": bool(include_initial),
        "unscored": unscored,
        **(
            {"group_remainder": group_remainder}
            if group_arr is not None and rule in (None, "equal")
            else {}
        ),
        **({"group_quotas": rule} if rule is not None else {}),
    }
    user_params = {k: v for k, v in params.items() if k not in official_choices}
    cfg_dict = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg)
    arrays_given = any(is_arraylike(v) for v in user_params.values()) or (
        groups is not None and by_column is None
    )
    command = None
    if not arrays_given and embeddings is None:
        cli_options = {k: v for k, v in _opts.cli(options).items() if k not in official_choices}
        cli_options.pop("group_quotas", None)
        command = cli_command(
            store.path,
            method,
            budget,
            seed,
            by_column,
            stratify,
            {**user_params, **cli_options},
            official=official,
            group_quotas=None if official else rule,
        )
    provenance = {
        "store_path": str(Path(store.path).resolve()),
        "store_mode": store.mode,
        **({"recording_caveats": caveats} if (caveats := recording_caveats(store.meta)) else {}),
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
        "columns_used": ctx.columns_read,
        "official": bool(official),
        **({"official_choices": jsonable(official_choices)} if official else {}),
        "group_column": group_name,
        "stratified": bool(group_arr is not None and stratify),
        **({"group_quotas": rule} if rule is not None else {}),
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
            **options,
            **({"official": True} if official else {}),
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


def _groups(
    store: TrajectoryStore,
    n: int,
    by_column: str | None,
    groups: Sequence[Any] | np.ndarray | None,
) -> tuple[np.ndarray | None, str | None]:
    if by_column is not None and groups is not None:
        raise ValueError("pass either by_column or groups, not both")
    if by_column is not None:
        groups = store.metadata(by_column)
    if groups is None:
        return None, None
    group_arr = np.asarray(groups)
    name = by_column or "groups"
    if group_arr.ndim != 1 or len(group_arr) != n:
        raise ValueError(
            f"group column {name!s} has shape {group_arr.shape} but the "
            f"store has {n} examples: it must hold one label per training example, in the "
            "store's row order"
        )
    return group_arr, name
