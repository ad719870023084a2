"""The method contract: what a selection method is, returns, and how it is registered.

A method is a function ``fn(ctx, budget, cfg) -> MethodResult`` registered with
:func:`register_method` (one file per built-in method in :mod:`hf_s2l.selection.methods`);
the engine (:func:`hf_s2l.selection.select`, ``engine.py``) looks it up
(:func:`hf_s2l.selection.registry.get_method`), builds its config with :func:`build_config`
and checks what it returns with :func:`check_result`. This module imports no method. Users add their own method the same way::

    from hf_s2l.selection import register_method, MethodResult

    @register_method("longest_loss", min_columns=1)
    def longest_loss(ctx, budget, cfg):
        final = ctx.column(ctx.complete_columns[-1])
        return MethodResult(indices=np.argsort(-final, kind="stable")[:budget])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .context import MethodContext


@dataclass
class MethodResult:
    """What a method returns.

    Attributes:
        indices: chosen rows, as positions ``0..ctx.num_rows-1`` of the context it was given.
        order_key: optional, aligned with ``indices``: the Selection's ``order`` lists the
            chosen examples by ascending key (e.g. a curriculum).
        weights: optional per-example weights aligned with ``indices``.
        stats: method statistics (per-cluster counts, score summaries…), JSON-serialisable.
        warnings: things the user should know (e.g. "K capped to the rows of a group");
            :func:`select` logs each distinct message once, however many groups raised it,
            and lists them with their counts in ``Selection.stats["warnings"]``.
    """

    indices: np.ndarray
    order_key: np.ndarray | None = None
    weights: np.ndarray | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class MethodSpec:
    """A registered method: its function, config dataclass and input requirements."""

    name: str
    fn: Callable[[MethodContext, int, Any], MethodResult]
    config: type | None = None
    min_columns: int = 0
    orders: bool = False
    description: str = ""
    columns: Callable[[MethodContext, Any], Sequence[int] | None] | None = None
    official: dict[str, Any] | None = None
    official_budget: Callable[[MethodContext, Any, int], int] | None = None


# The only global mutable state of the package: name -> MethodSpec.
_REGISTRY: dict[str, MethodSpec] = {}


def register_method(
    name: str,
    fn: Callable[..., MethodResult] | None = None,
    *,
    config: type | None = None,
    min_columns: int = 0,
    orders: bool = False,
    columns: Callable[[MethodContext, Any], Sequence[int] | None] | None = None,
    official: dict[str, Any] | None = None,
    official_budget: Callable[[MethodContext, Any, int], int] | None = None,
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
        columns: ``columns(ctx, cfg)`` -> the store columns the method reads, for the
            unscored-row policy (:mod:`hf_s2l.selection.unscored`: a row with a NaN/±inf
            loss in them is excluded by default). ``None`` (or a hook returning ``None``):
            every complete column of the chosen kinds.
        official: the settings ``select(..., official=True)`` pins, to reproduce the
            method's official code: ``select`` options (``unscored``, ``group_remainder``,
            ``column_kinds``, ``include_initial``) and the method's own parameters.
            ``None``: the method has no official reference (``official=True`` is an error).
        official_budget: ``official_budget(ctx, cfg, budget) -> size``: with
            ``official=True``, the selection size the official code gives for ``budget``
            (e.g. Learning Percentage's ``ceil`` per cluster); may set fields of ``cfg``.
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
            columns=columns,
            official=official,
            official_budget=official_budget,
        )
        return f

    return deco(fn) if fn is not None else deco


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


def check_result(
    res: MethodResult, num_rows: int, budget: int, method: str
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Validate a method's result: a MethodResult of ``budget`` distinct in-range rows."""
    if not isinstance(res, MethodResult):
        raise TypeError(f"method {method!r} must return a MethodResult, got {type(res).__name__}")
    idx = np.asarray(res.indices, dtype=np.int64).ravel()
    if len(idx) != budget:
        raise RuntimeError(
            f"method {method!r} returned {len(idx)} examples for a budget of {budget}"
        )
    if len(idx) and (idx.min() < 0 or idx.max() >= num_rows):
        raise RuntimeError(f"method {method!r} returned out-of-range indices")
    seen = np.zeros(num_rows, dtype=bool)  # O(N) bits, no sort of the chosen rows
    seen[idx] = True
    if int(np.count_nonzero(seen)) != len(idx):
        raise RuntimeError(f"method {method!r} returned duplicate indices")
    key = None if res.order_key is None else np.asarray(res.order_key, dtype=np.float64)
    w = None if res.weights is None else np.asarray(res.weights, dtype=np.float32)
    return idx, key, w
