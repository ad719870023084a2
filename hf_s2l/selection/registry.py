"""The method registry and :func:`select`, the one entry point of every selection method.

A method is a function ``fn(ctx, budget, cfg) -> MethodResult`` registered under a name
with :func:`register_method`. :func:`select` resolves the budget, the optional group
column (budget split evenly over groups, smallest first, as the official S2L code does
for MathInstruct's ``source``) and builds the :class:`~hf_s2l.selection.Selection` with
statistics and provenance. Users add their own method the same way::

    from hf_s2l.selection import register_method, MethodResult

    @register_method("longest_loss", min_columns=1)
    def longest_loss(ctx, budget, cfg):
        final = ctx.column(ctx.complete_columns[-1])
        return MethodResult(indices=np.argsort(-final, kind="stable")[:budget])
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import os
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..store import TrajectoryStore
from ..version import __version__
from .budget import resolve_budget
from .selection import Selection

logger = logging.get_logger(__name__)

_BUILTIN_MODULES = (
    "random",
    "s2l",
    "learning_percentage",
    "least_confidence",
    "middle_perplexity",
    "high_learnability",
    "curriculum",
    "facility_location",
    "cartography",
)


@dataclass
class MethodResult:
    """What a method returns.

    Attributes:
        indices: chosen rows, as positions ``0..ctx.num_rows-1`` of the context it was given.
        order_key: optional, aligned with ``indices``: the Selection's ``order`` lists the
            chosen examples by ascending key (e.g. a curriculum).
        weights: optional per-example weights aligned with ``indices``.
        stats: method statistics (per-cluster counts, score summaries…), JSON-serialisable.
    """

    indices: np.ndarray
    order_key: np.ndarray | None = None
    weights: np.ndarray | None = None
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class MethodSpec:
    """A registered method: its function, config dataclass and input requirements."""

    name: str
    fn: Callable[..., MethodResult]
    config: type | None = None
    min_columns: int = 0
    orders: bool = False
    description: str = ""


# The only global mutable state of the package: name -> MethodSpec.
_REGISTRY: dict[str, MethodSpec] = {}
_BUILTINS_LOADED = False


def register_method(
    name: str,
    fn: Callable[..., MethodResult] | None = None,
    *,
    config: type | None = None,
    min_columns: int = 0,
    orders: bool = False,
    overwrite: bool = False,
) -> Any:
    """Register a selection method under ``name`` (usable as a decorator).

    Args:
        name: the name passed to :func:`select` / ``hf-s2l select --method``.
        fn: ``fn(ctx: MethodContext, budget: int, cfg) -> MethodResult``; ``cfg`` is an
            instance of ``config`` built from the user's params (or a plain ``dict`` of them
            when ``config`` is None).
        config: a dataclass of the method's parameters (unknown params are rejected).
        min_columns: complete store columns the method needs (checked before it runs).
        orders: True when the method's ``order_key`` matters (it is then also called for
            groups that are taken whole).
        overwrite: replace an existing method of the same name.
    """

    def deco(f: Callable[..., MethodResult]) -> Callable[..., MethodResult]:
        if name in _REGISTRY and not overwrite and _REGISTRY[name].fn is not f:
            raise ValueError(f"a selection method named {name!r} is already registered")
        doc = (f.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = MethodSpec(
            name=name,
            fn=f,
            config=config,
            min_columns=min_columns,
            orders=orders,
            description=doc[0] if doc else "",
        )
        return f

    return deco(fn) if fn is not None else deco


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        for mod in _BUILTIN_MODULES:
            importlib.import_module(f"{__package__}.{mod}")
        _BUILTINS_LOADED = True


def available_methods() -> list[str]:
    """Names of all registered selection methods (built-in and user-registered)."""
    _load_builtins()
    return sorted(_REGISTRY)


def get_method(name: str) -> MethodSpec:
    """The :class:`MethodSpec` registered under ``name``."""
    _load_builtins()
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown selection method {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[name]


# ---------------------------------------------------------------------------------- context
class MethodContext:
    """A method's view of the store: a subset of rows (a group), the RNG, shared caches."""

    def __init__(
        self,
        store: TrajectoryStore,
        *,
        seed: int,
        rng: np.random.Generator,
        rows: np.ndarray | None = None,
        embeddings: np.ndarray | None = None,
        _cache: dict[Any, np.ndarray] | None = None,
    ) -> None:
        self.store = store
        self.seed = int(seed)
        self.rng = rng
        self.rows = rows
        self._embeddings = embeddings
        self._cache = {} if _cache is None else _cache

    @property
    def num_rows(self) -> int:
        return self.store.num_examples if self.rows is None else len(self.rows)

    @property
    def complete_columns(self) -> np.ndarray:
        return self.store.complete_columns()

    def take(self, per_example: np.ndarray) -> np.ndarray:
        """The entries of a length-N per-example array that belong to this context's rows."""
        arr = np.asarray(per_example)
        if len(arr) != self.store.num_examples:
            raise ValueError(
                f"per-example array has length {len(arr)} but the store has "
                f"{self.store.num_examples} examples"
            )
        return arr if self.rows is None else arr[self.rows]

    def trajectories(
        self, columns: Sequence[int] | np.ndarray | None = None, nan: float | None = None
    ) -> np.ndarray:
        """``num_rows x len(columns)`` float32 losses (default: all complete columns).

        With ``nan`` set, NaN cells are replaced by that value. The full N-row matrix is
        read once per call of :func:`select` and shared by every group.
        """
        cols = self.complete_columns if columns is None else np.asarray(columns, dtype=np.int64)
        key = ("traj", tuple(int(c) for c in cols), nan)
        full = self._cache.get(key)
        if full is None:
            full = self.store.trajectories(cols)
            if nan is not None:
                np.nan_to_num(full, copy=False, nan=nan, posinf=np.inf, neginf=-np.inf)
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    def all_nan_rows(self, columns: Sequence[int] | np.ndarray) -> np.ndarray:
        """Boolean mask (this context's rows) of examples whose loss is NaN in every column."""
        cols = tuple(int(c) for c in columns)
        key = ("nanrows", cols)
        full = self._cache.get(key)
        if full is None:
            full = np.ones(self.store.num_examples, dtype=bool)
            for c in cols:
                full &= np.isnan(self.store.column_values(c))
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    def column(self, column: int) -> np.ndarray:
        """One store column (float64 copy) for this context's rows."""
        key = ("col", int(column))
        full = self._cache.get(key)
        if full is None:
            full = np.asarray(self.store.column_values(int(column)), dtype=np.float64)
            self._cache[key] = full
        return full if self.rows is None else full[self.rows]

    @property
    def embeddings(self) -> np.ndarray | None:
        """Per-example embeddings passed to :func:`select` (this context's rows), or None."""
        if self._embeddings is None:
            return None
        return self._embeddings if self.rows is None else self._embeddings[self.rows]

    def subset(self, local_rows: np.ndarray) -> MethodContext:
        """A context over ``local_rows`` (positions in this context) sharing RNG and caches."""
        local_rows = np.asarray(local_rows, dtype=np.int64)
        rows = local_rows if self.rows is None else self.rows[local_rows]
        return MethodContext(
            self.store,
            seed=self.seed,
            rng=self.rng,
            rows=rows,
            embeddings=self._embeddings,
            _cache=self._cache,
        )


# ---------------------------------------------------------------------------------- helpers
def build_config(spec: MethodSpec, params: dict[str, Any]) -> Any:
    """Instantiate the method's config dataclass from ``params`` (clear error on unknowns)."""
    if spec.config is None:
        return dict(params)
    names = {f.name for f in dataclasses.fields(spec.config)}
    unknown = sorted(set(params) - names)
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for method {spec.name!r}; "
            f"it accepts: {sorted(names) or 'none'}"
        )
    cfg = spec.config(**params)
    check = getattr(cfg, "validate", None)
    if check is not None:
        check()
    return cfg


def _jsonable(value: Any) -> Any:
    """Params as JSON: arrays become a short summary (shape, dtype, sha1)."""
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value) > 64):
        arr = np.asarray(value)
        digest = hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest()[:12]
        return {"array": list(arr.shape), "dtype": str(arr.dtype), "sha1": digest}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _is_arraylike(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value) > 64)


def cli_command(
    store_path: str | os.PathLike,
    method: str,
    budget: int | float,
    seed: int,
    by_column: str | None,
    stratify: bool,
    params: dict[str, Any],
    out: str = "OUT_DIR",
    embeddings_file: str | None = None,
) -> str:
    """The ``hf-s2l select`` command line that reproduces a selection."""
    import json

    cmd = ["hf-s2l", "select", str(store_path), "--method", method, "--budget", repr(budget)]
    cmd += ["--seed", str(seed), "--out", out]
    if by_column:
        cmd += ["--by-column", by_column]
        if not stratify:
            cmd += ["--no-stratify"]
    if embeddings_file:
        cmd += ["--embeddings", embeddings_file]
    for k, v in params.items():
        cmd += ["--param", f"{k}={v if isinstance(v, str) else json.dumps(v)}"]
    return shlex.join(cmd)


# ---------------------------------------------------------------------------------- select
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
        chosen, order_key, weights, gstats = _run_stratified(spec, ctx, cfg, b, group_arr)
        stats["groups"] = gstats
    else:
        res = spec.fn(ctx, b, cfg)
        chosen, order_key, weights = _check_result(res, ctx.num_rows, b, method)
        stats.update(res.stats)
        if group_arr is not None:
            stats["groups"] = _group_counts(group_arr, chosen, quotas=None)

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
    arrays_given = any(_is_arraylike(v) for v in user_params.values()) or (
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
        "embeddings": None if embeddings is None else _jsonable(embeddings),
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
            **_jsonable(cfg_dict),
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
        stats=_jsonable(stats),
        provenance=provenance,
    )


def _check_result(
    res: MethodResult, num_rows: int, budget: int, method: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    if not isinstance(res, MethodResult):
        raise TypeError(f"method {method!r} must return a MethodResult, got {type(res).__name__}")
    idx = np.asarray(res.indices, dtype=np.int64).ravel()
    if len(idx) != budget:
        raise RuntimeError(
            f"method {method!r} returned {len(idx)} examples for a budget of {budget}"
        )
    if len(idx) and (idx.min() < 0 or idx.max() >= num_rows):
        raise RuntimeError(f"method {method!r} returned out-of-range indices")
    if len(np.unique(idx)) != len(idx):
        raise RuntimeError(f"method {method!r} returned duplicate indices")
    key = None if res.order_key is None else np.asarray(res.order_key, dtype=np.float64)
    w = None if res.weights is None else np.asarray(res.weights, dtype=np.float32)
    return idx, key, w


def _group_label(value: Any) -> str:
    return str(value.item() if isinstance(value, np.generic) else value)


def _group_counts(groups: np.ndarray, chosen: np.ndarray, quotas: np.ndarray | None) -> dict:
    uniq, inv = np.unique(groups, return_inverse=True)
    sizes = np.bincount(inv, minlength=len(uniq))
    sel = np.bincount(inv[chosen], minlength=len(uniq))
    out = {}
    for g, u in enumerate(uniq):
        entry = {"size": int(sizes[g]), "selected": int(sel[g])}
        if quotas is not None:
            entry["quota"] = int(quotas[g])
        out[_group_label(u)] = entry
    return out


def _run_stratified(
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
        label = _group_label(uniq[g])
        if len(rows) > q or (spec.orders and len(rows) > 0):
            take = min(q, len(rows))
            if take == 0:
                res = MethodResult(indices=np.zeros(0, dtype=np.int64))
            else:
                res = spec.fn(ctx.subset(rows), take, cfg)
            idx, key, w = _check_result(res, len(rows), take, spec.name)
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
        "visit_order": [_group_label(uniq[g]) for g in visit],
        "counts": _group_counts(groups, chosen, quotas),
        "per_group": per_group,
    }
    return (
        chosen,
        np.concatenate(key_parts) if any_key else None,
        np.concatenate(w_parts) if any_w else None,
        gstats,
    )
