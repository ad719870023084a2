"""S2L (Yang et al., 2024, "SmallToLarge (S2L): Scalable Data Selection for Fine-tuning Large
Language Models by Summarizing Training Trajectories of Small Models").

Faithful to the official code, ``schedules/s2l.py`` (``S2L.__init__``,
``S2L.initialize_labeled_data`` — the pipeline's selection; ``S2L.query`` runs the same loop
over the unlabeled rows — and ``S2L.faiss_kmeans_selection``) in
https://github.com/BigML-CS-UCLA/S2L:

1. Trajectories: row ``i`` is ``x_i = (L_i(t_1), ..., L_i(t_T))``, the example's loss at every
   recording point (kind ``point``, evenly spaced over training, as the official evenly
   spaced checkpoints; not the step-0 column unless ``include_initial=True``, nor extra
   epoch-end columns; every feature column when the store has fewer than 2 points), or
   ``columns`` / ``column_kinds``; with ``num_loss_ckpts = m`` every ``T // m``-th column,
   as ``num_loss_ckpts`` in the official code. Rows with a NaN/±inf loss in those columns
   are left out by :func:`~hf_s2l.select` (``unscored="zero"``: read as 0, the official
   NaN -> 0).
2. ``faiss.Kmeans(T, K, niter=20)`` (Euclidean) on the trajectories; each example gets its
   nearest centroid ``c(i)``. K is capped to the rows (said once in the stats; the official
   code raises there, and so does ``official=True``).
3. Clusters with more than 2 examples are visited by ascending size; with ``r`` the budget
   left and ``m`` the clusters not yet visited, a cluster of size ``s`` gets
   ``min(s, r // m)`` examples drawn uniformly at random without replacement.
4. Whatever is left, ``r``, is drawn uniformly at random from the union of the clusters of
   size <= 2.

With a group column (``select(..., by_column="source")``) the budget is split over the
groups (``group_quotas="equal"``, the default: the same way, smallest first, ``r // m``
each, the remainder to groups drawn at random unless ``group_remainder="last"``; or
``"proportional"`` / a mapping) and steps 2-4 run within each group that is larger than its
share — the official MathInstruct ``source`` loop.

Every departure from the official code, and why: ``docs/methods/s2l.md``. In short: random
draws use ``numpy.random.default_rng(seed)`` instead of the global ``np.random``; faiss'
k-means seed is ``seed`` or ``kmeans_seed`` (official: faiss' default 1234); size ties are
broken by cluster id (official: numpy's default ``np.argsort``); unscored rows are excluded
and the group remainder is spread at random by default. ``select(..., official=True)`` sets
every official choice at once (:data:`OFFICIAL`) and makes the official calls: it returns the
official selection of the same store on the same machine and numpy, ties included.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers.utils import logging

from ...store.kinds import is_before_training, kinds_of
from ..base import MethodResult, register_method
from ..columns import resolve_columns
from ..context import MethodContext
from ..kmeans import faiss_kmeans
from ..quota import TIES, even_split_smallest_first, size_order

logger = logging.get_logger(__name__)


@dataclass
class S2LConfig:
    """Parameters of :func:`s2l`.

    Attributes:
        num_clusters: K of k-means (official: ``n_components: 100``).
        niter: k-means iterations (official: 20).
        columns: store column indices to use (default: every complete column).
        num_loss_ckpts: keep every ``T // num_loss_ckpts``-th column (official
            ``num_loss_ckpts``; -1 keeps all).
        clusters: precomputed cluster id per example (length N); skips k-means.
        max_points_per_centroid: faiss' training sample size per centroid (faiss default).
        small_cluster_size: clusters of at most this size are only used for the leftover.
        kmeans_seed: faiss' k-means seed (default: the selection's ``seed``; the official
            code leaves faiss' default, 1234: pass 1234 to cluster exactly as it does).
        ties: the visiting order of equal-size clusters: ``"index"`` (default, by cluster
            id, the same on every machine) or ``"official"`` (``np.argsort(counts)``,
            numpy's default sort, as the official code: the order depends on the numpy build
            and the CPU, and equals the official code's on the same machine).
        cap_clusters: a group (or store) with fewer rows than ``num_clusters`` and more than
            its share is clustered with one cluster per row (default); ``False`` raises, as
            faiss does in the official code (``official=True``).
    """

    num_clusters: int = 100
    niter: int = 20
    columns: list[int] | None = None
    num_loss_ckpts: int = -1
    clusters: Any = None
    max_points_per_centroid: int = 256
    small_cluster_size: int = 2
    kmeans_seed: int | None = None
    ties: str = "index"
    cap_clusters: bool = True

    def validate(self) -> None:
        if self.ties not in TIES:
            raise ValueError(f"s2l: ties must be one of {TIES}, got {self.ties!r}")
        if int(self.num_clusters) < 1:
            raise ValueError(f"s2l: num_clusters must be >= 1, got {self.num_clusters}")
        if int(self.niter) < 1:
            raise ValueError(f"s2l: niter must be >= 1, got {self.niter}")


def sample_from_clusters(
    labels: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    small_cluster_size: int = 2,
    ties: str = "index",
) -> tuple[np.ndarray, dict[str, Any]]:
    """Steps 3-4 above: draw ``budget`` rows given each row's cluster ``labels``.

    Visits the clusters larger than ``small_cluster_size`` by ascending size (ties: lower
    cluster id first; ``ties="official"``: the official ``np.argsort(counts)`` order, see
    :func:`~hf_s2l.selection.quota.size_order`); each gets ``remaining // clusters_left`` rows drawn with
    ``rng.choice(members, k, replace=False)`` (members in ascending row order), or all of
    its rows if it is smaller; the leftover is drawn the same way from the union of the small
    clusters. Returns the chosen rows (in drawing order) and per-cluster statistics.
    Memory: a few bytes per row (no sort of the N labels), so N = 100M is fine.
    """
    labels = np.asarray(labels).ravel()
    n = len(labels)
    if budget > n:
        raise ValueError(f"budget {budget} exceeds the {n} rows to sample from")
    clusters, codes, counts = _cluster_codes(labels)
    order = size_order(counts, ties)
    big = order[counts[order] > small_cluster_size]
    selected = np.zeros(len(clusters), dtype=np.int64)
    parts = []
    # the official split (no rng: the remainder rolls over); ``big`` is already in visit order
    _, quotas = even_split_smallest_first(counts[big], int(budget))
    for c, q in zip(big, quotas):
        if counts[c] > q:
            members = np.flatnonzero(codes == c)  # ascending rows, as np.where
            parts.append(rng.choice(members, int(q), replace=False))
        else:
            parts.append(np.flatnonzero(codes == c))
        selected[c] = q
    remaining = int(budget) - int(quotas.sum())
    left_for_small = remaining
    if remaining > 0:
        pool = np.flatnonzero((counts <= small_cluster_size)[codes])
        picked = rng.choice(pool, remaining, replace=False)
        parts.append(picked)
        selected += np.bincount(codes[picked], minlength=len(clusters))
    chosen = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    stats = {
        "num_clusters": len(clusters),
        "num_small_clusters": int((counts <= small_cluster_size).sum()),
        "left_for_small_clusters": int(left_for_small),
        "clusters": [
            {"cluster": _scalar(clusters[c]), "size": int(counts[c]), "selected": int(selected[c])}
            for c in range(len(clusters))
        ],
    }
    return chosen.astype(np.int64, copy=False), stats


def _cluster_codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(cluster ids ascending, code of every row, size of every cluster)``.

    Non-negative integer labels (k-means output) are counted in chunks with ``bincount``
    (no N-sized sort or int64 copy); other labels go through ``np.unique``.
    """
    if labels.dtype.kind in "iu" and len(labels) and labels.min() >= 0 and labels.max() < 2**24:
        size = int(labels.max()) + 1
        counts = np.zeros(size, dtype=np.int64)
        step = 1 << 22
        for s in range(0, len(labels), step):
            counts += np.bincount(labels[s : s + step], minlength=size)
        present = np.flatnonzero(counts)
        if len(present) == size:
            return present, labels, counts
        remap = np.zeros(size, dtype=labels.dtype)
        remap[present] = np.arange(len(present), dtype=labels.dtype)
        return present, remap[labels], counts[present]
    clusters, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return clusters, inv.ravel(), counts


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def s2l_feature_columns(ctx: MethodContext, cfg: S2LConfig) -> tuple[np.ndarray, str]:
    """The trajectory columns before ``num_loss_ckpts``, and the rule that chose them.

    ``columns`` given: those. ``select(..., column_kinds=...)`` given: the feature columns of
    those kinds. Otherwise the *recording points* (kind ``point``, spaced evenly over
    training: the official trajectories are evenly spaced checkpoints), not the extra
    epoch-end / interval columns; a store with fewer than 2 point columns (in-step, or an
    interval-only schedule) uses every feature column.
    """
    if cfg.columns is not None or ctx.columns.kinds is not None:
        cols = resolve_columns(ctx, cfg.columns, method="s2l", minimum=2, exclude_train_begin=True)
        rule = "columns given" if cfg.columns is not None else "feature columns of column_kinds"
        return cols, rule
    feats = ctx.feature_columns
    is_point = [
        "point" in kinds_of(ctx.store, int(c)) or is_before_training(ctx.store, int(c))
        for c in feats
    ]  # a before-training column is a feature only with include_initial=True
    points = feats[np.asarray(is_point, dtype=bool)] if len(feats) else feats
    n_points = sum(not is_before_training(ctx.store, int(c)) for c in points)
    if n_points >= 2:
        return points, POINTS_RULE
    cols = resolve_columns(ctx, None, method="s2l", minimum=2, exclude_train_begin=True)
    return cols, "every feature column (fewer than 2 recording points of kind 'point')"


POINTS_RULE = (
    "the recording points (kind 'point', evenly spaced over training, as the official "
    "checkpoints); other feature columns (epoch ends, intervals) left out"
)


def s2l_columns(ctx: MethodContext, cfg: S2LConfig) -> np.ndarray:
    """The store columns S2L clusters on (``columns`` / ``num_loss_ckpts`` applied).

    Default: the recording points among the feature columns (see
    :func:`s2l_feature_columns`), as the official trajectories.
    """
    cols = s2l_feature_columns(ctx, cfg)[0]
    m = int(cfg.num_loss_ckpts)
    if m > -1 and len(cols) > m:
        if m < 1:
            raise ValueError("s2l: num_loss_ckpts must be -1 (all) or >= 1")
        keep_every = len(cols) // m
        cols = cols[np.arange(0, len(cols), keep_every)]
    return cols


def default_columns(store: Any) -> np.ndarray:
    """The columns ``select(store, "s2l", ...)`` clusters on with its defaults (no
    ``columns`` / ``column_kinds``): the recording points, see :func:`s2l_feature_columns`."""
    return s2l_columns(MethodContext(store, seed=0, rng=np.random.default_rng(0)), S2LConfig())


def _s2l_used_columns(ctx: MethodContext, cfg: S2LConfig) -> np.ndarray | None:
    return None if cfg.clusters is not None else s2l_columns(ctx, cfg)


# ``select(..., official=True)``: every choice of the official code at once (issue 19).
OFFICIAL = {
    "column_kinds": "point",  # the evenly spaced checkpoints, not extra epoch-end columns
    "include_initial": False,  # the checkpoints are saved during training
    "unscored": "zero",  # losses[isnan(losses)] = 0
    "group_remainder": "last",  # n // groups_left, the remainder to the last groups
    "group_quotas": "equal",  # every source the same share (initialize_labeled_data)
    "kmeans_seed": 1234,  # faiss' default seed, which the official code leaves
    "niter": 20,
    "max_points_per_centroid": 256,  # faiss' default
    "small_cluster_size": 2,
    "columns": None,  # every checkpoint (num_loss_ckpts, an official option, stays free)
    "ties": "official",  # np.argsort(counts): numpy's default sort over cluster sizes
    "cap_clusters": False,  # faiss.Kmeans(d, K).train raises on a group of fewer than K rows
}


@register_method(
    "s2l", config=S2LConfig, min_columns=2, columns=_s2l_used_columns, official=OFFICIAL
)
def s2l(ctx: MethodContext, budget: int, cfg: S2LConfig) -> MethodResult:
    """S2L: k-means on loss trajectories, then balanced sampling from small to large clusters."""
    stats: dict[str, Any] = {}
    warnings: list[str] = []
    if cfg.clusters is not None:
        labels = ctx.take(np.asarray(cfg.clusters))
        stats["clustering"] = "given"
    else:
        cols = s2l_columns(ctx, cfg)
        if not cfg.cap_clusters and ctx.num_rows < int(cfg.num_clusters) and budget < ctx.num_rows:
            raise ValueError(
                f"s2l: {ctx.num_rows} rows (a group, or the store) are clustered into "
                f"num_clusters={int(cfg.num_clusters)}: the official code raises here (faiss: "
                f"'Number of training points ({ctx.num_rows}) should be at least as large as "
                f"number of clusters ({int(cfg.num_clusters)})'). Pass num_clusters="
                f"{ctx.num_rows} or fewer, or drop official=True (K is then lowered to the rows "
                "of such a group)"
            )
        x = ctx.trajectory_source(cols)
        t0 = time.perf_counter()
        km = faiss_kmeans(
            x,
            cfg.num_clusters,
            niter=cfg.niter,
            seed=ctx.seed if cfg.kmeans_seed is None else int(cfg.kmeans_seed),
            max_points_per_centroid=cfg.max_points_per_centroid,
            what="s2l k-means",
            warn_capped=False,
            rows=ctx.rows,
        )
        del x
        labels = km.labels
        if km.num_clusters < int(cfg.num_clusters):
            warnings.append(
                f"s2l: num_clusters={int(cfg.num_clusters)} is more than the examples to "
                "cluster (the store, or a group of it); K was capped to the number of "
                "examples there, i.e. one cluster per example"
            )
        stats.update(
            clustering="faiss k-means",
            columns=cols.tolist(),
            columns_rule=s2l_feature_columns(ctx, cfg)[1],
            num_clusters_used=km.num_clusters,
            kmeans_seconds=round(time.perf_counter() - t0, 3),
        )
    chosen, cstats = sample_from_clusters(labels, budget, ctx.rng, cfg.small_cluster_size, cfg.ties)
    stats.update(cstats)
    return MethodResult(indices=chosen, stats=stats, warnings=warnings)
