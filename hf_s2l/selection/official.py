"""The official Learning Percentage subset in one call, above :func:`select`.

:func:`official_lp_subset` reproduces ``subset.py`` of dheeraj7596/Small2Large (``ceil`` per
cluster for a percentage) by calling the engine; it lives here, not in the method's file, so
that no method imports the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..store import TrajectoryStore
from .base import build_config
from .context import MethodContext
from .engine import select
from .methods.learning_percentage import _read_columns
from .methods.lp_clusters import cluster_labels
from .quota import official_cluster_quotas
from .registry import get_method
from .unscored import unscored_rows

__all__ = ["official_lp_subset"]


def official_lp_subset(
    store: Any,
    percentage: int,
    *,
    seed: int = 0,
    embeddings: np.ndarray | None = None,
    **params: Any,
) -> Any:
    """The official ``subset.py`` LP subset in one call: ``ceil`` per cluster for ``percentage``.

    ``select(store, "lp", percentage / 100, official=True, percentage=percentage, ...)``:
    clusters (from ``texts`` / ``texts_file`` / ``text_column`` / ``embeddings`` /
    ``clusters`` in ``params``) and takes the official total over all rows, the rows without
    target tokens reading perplexity 1 and LP(1) 0 as in ``dump_pplxs.py``/``subset.py``: the
    paper's sizes and selection. ``unscored="exclude"`` leaves those rows out first (then the
    total is counted over the scored rows, not the paper's size).
    """
    if not isinstance(store, TrajectoryStore):
        store = TrajectoryStore.open(store)
    if not 1 <= int(percentage) <= 100:
        raise ValueError(f"lp: percentage must be in 1..100, got {percentage}")
    if params.get("unscored", "zero") == "zero":
        params.pop("unscored", None)
        return select(
            store,
            "lp",
            max(1, round(int(percentage) * store.num_examples / 100)),
            seed=seed,
            embeddings=embeddings,
            official=True,
            percentage=int(percentage),
            **params,
        )
    # unscored="exclude": cluster all rows once, count the official total over the scored ones
    options = {
        k: params.pop(k) for k in ("column_kinds", "include_initial", "unscored") if k in params
    }
    spec = get_method("lp")
    cfg = build_config(spec, {**params, "cluster_sizes": "official", "percentage": percentage})
    ctx = MethodContext(
        store,
        seed=seed,
        rng=np.random.default_rng(seed),
        embeddings=None if embeddings is None else np.asarray(embeddings, np.float32),
    )
    labels = cluster_labels(ctx, cfg, {})
    if labels is None:
        raise ValueError(
            "official_lp_subset needs texts, texts_file, text_column, embeddings or clusters"
        )
    keep = ~unscored_rows(store, _read_columns(ctx, cfg))  # the rows select() runs LP on
    _, inv = np.unique(labels[keep], return_inverse=True)
    total = int(official_cluster_quotas(np.bincount(inv), percentage).sum())
    rest = {k: v for k, v in params.items() if k not in ("texts", "texts_file", "text_column")}
    rest.pop("clusters", None)
    rest.setdefault("ties", "official")  # equal LP values in subset.py's (pandas') order
    return select(
        store,
        "lp",
        total,
        seed=seed,
        clusters=labels,
        cluster_sizes="official",
        percentage=int(percentage),
        **options,
        **rest,
    )
