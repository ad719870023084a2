"""``hf_s2l.transfer(proxy, target)``: does the proxy's training stand for the target's?

Both stores cover the same examples (the target may cover a subset). The figures:

* ``spearman``: Spearman's rank correlation of per-example losses at matched training
  progress, mean over the matched column pairs (each pair's value in ``spearman_pairs``);
* ``variance_explained``: the share of the target's trajectory variance (its matched
  columns, in nats) that lies between the proxy's S2L clusters (S2L's default K and
  feature columns, faiss k-means as :func:`hf_s2l.select` runs it), and
  ``variance_explained_random`` the same for random partitions with the same cluster sizes
  (mean of ``n_random``): the gap between the two is what S2L's clusters carry over;
* ``lp_hardest_overlap``: Jaccard overlap of the ``lp_fraction`` lowest LP(1) by proxy and
  by target (``None`` unless both stores have a before-training column and two epoch ends).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..selection.kmeans import faiss_kmeans
from ..selection.methods.learning_percentage import find_lp_columns, lp_scores
from ..selection.methods.s2l import S2LConfig, default_columns
from ..store import TrajectoryStore
from .align import (
    RowAlignment,
    StoreLike,
    TransferAlignmentError,
    align_rows,
    check_two_stores,
    feature_columns,
    match_columns,
    open_store,
)
from .metrics import between_share, jaccard, lowest_fraction, random_between_share, spearman

logger = logging.get_logger(__name__)

NUMERIC_KEYS = (
    "spearman",
    "variance_explained",
    "variance_explained_random",
    "lp_hardest_overlap",
    "n_proxy",
    "n_target",
    "n_aligned",
    "k",
)


@dataclass
class TransferReport:
    """What :func:`transfer` found; :meth:`to_dict` is a flat JSON-safe dict."""

    spearman: float
    spearman_pairs: list[dict[str, Any]]
    variance_explained: float
    variance_explained_random: float
    lp_hardest_overlap: float | None
    n_proxy: int
    n_target: int
    n_aligned: int
    k: int
    verdict: str
    alignment: str = "ids"
    seed: int = 0
    n_random: int = 10
    lp_fraction: float = 0.3
    variance_explained_random_std: float = 0.0
    proxy_path: str | None = None
    target_path: str | None = None
    proxy_columns: list[int] = field(default_factory=list)  # S2L's features (clustered)
    target_columns: list[int] = field(default_factory=list)  # matched target columns
    proxy_varies: bool = True  # some matched proxy column varies over the aligned examples
    target_varies: bool = True  # some matched target column does

    def to_dict(self) -> dict[str, Any]:
        """The report as a flat dict (NaN as ``None``), for ``json.dumps``."""
        return {k: _plain(v) for k, v in asdict(self).items()}

    def save_json(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` to ``path`` as JSON; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path


@dataclass
class TransferData:
    """The arrays behind a :class:`TransferReport` (what the report section draws)."""

    report: TransferReport
    rows: RowAlignment
    labels: np.ndarray  # proxy S2L cluster of each aligned row
    target_trajectories: np.ndarray  # n_aligned x matched target columns
    target_progress: np.ndarray  # progress of those columns
    pairs: list[tuple[int, int, float, float]] = field(default_factory=list)


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass(frozen=True)
class TransferOptions:
    """How :func:`transfer` compares two stores (its keyword arguments), checked when made.

    Attributes:
        k: S2L's number of clusters (default: S2L's, 100; capped to the rows).
        seed: seed of the k-means and of the random partitions.
        n_random: random partitions averaged in ``variance_explained_random``.
        lp_fraction: share of hardest (lowest LP(1)) examples compared.
        id_column: align by this store metadata column (else by example ids, else by
            the dataset fingerprint).
    """

    k: int | None = None
    seed: int = 0
    n_random: int = 10
    lp_fraction: float = 0.3
    id_column: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 < float(self.lp_fraction) <= 1.0:
            raise ValueError(f"lp_fraction must be in (0, 1], got {self.lp_fraction}")
        if int(self.n_random) < 1:
            raise ValueError(f"n_random must be >= 1, got {self.n_random}")
        if self.k is not None and int(self.k) < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")


def transfer(proxy: StoreLike, target: StoreLike, **options: Any) -> TransferReport:
    """Check how well the ``proxy`` store's trajectories stand for the ``target``'s.

    Args:
        proxy: the small model's store (a :class:`~hf_s2l.TrajectoryStore` or its path).
        target: the large model's store over the same examples or a subset of them
            (cheap to get: train the target briefly with ``mode="in_step"``).
        **options: :class:`TransferOptions` by keyword: ``k`` (S2L's clusters), ``seed``,
            ``n_random``, ``lp_fraction``, ``id_column``.

    Raises:
        TransferAlignmentError: the stores cannot be aligned (no common ids and different
            datasets, target ids missing from the proxy, duplicate ids, no trained column),
            or they are one store (the same folder, or a copy: the same fingerprint).
    """
    return analyse(proxy, target, **options).report


def analyse(proxy: StoreLike, target: StoreLike, **options: Any) -> TransferData:
    """:func:`transfer` plus the arrays behind it (for plots)."""
    opts = TransferOptions(**options)
    k, seed, n_random, lp_fraction = opts.k, opts.seed, opts.n_random, opts.lp_fraction
    ps, ts = open_store(proxy, "proxy"), open_store(target, "target")
    check_two_stores(ps, ts)
    rows = align_rows(ps, ts, opts.id_column)
    pairs = match_columns(ps, ts)
    feature_columns(ps, "proxy")  # a clear error for a store with no trained column
    pcols = default_columns(ps)  # what select(proxy, "s2l") clusters on: the points
    tcols = np.array(sorted({p[1] for p in pairs}, key=lambda c: [p[1] for p in pairs].index(c)))
    tprog = np.array([next(p[3] for p in pairs if p[1] == c) for c in tcols])

    px = ps.trajectories(pcols)
    p_ok = np.isfinite(px).all(axis=1)
    ty = ts.trajectories(tcols)[rows.target_rows]
    pair_p = ps.trajectories([p[0] for p in pairs])[rows.proxy_rows]
    keep = p_ok[rows.proxy_rows] & np.isfinite(ty).all(axis=1) & np.isfinite(pair_p).all(axis=1)
    if keep.sum() < 3:
        raise TransferAlignmentError(
            f"only {int(keep.sum())} examples have a finite loss in every matched column of "
            "both stores; at least 3 are needed"
        )
    if not keep.all():
        logger.warning(
            "transfer: %d aligned examples without a finite loss in both stores were left out",
            int((~keep).sum()),
        )
    rows = RowAlignment(rows.proxy_rows[keep], rows.target_rows[keep], rows.method)
    ty, pair_p = ty[keep], pair_p[keep]
    n = len(rows.proxy_rows)

    # S2L's clusters of the proxy (all its scored rows, as select() would cluster them)
    cfg = S2LConfig()
    kk = int(cfg.num_clusters if k is None else k)
    scored = np.flatnonzero(p_ok)
    km = faiss_kmeans(
        px[scored],
        kk,
        niter=cfg.niter,
        seed=seed,
        max_points_per_centroid=cfg.max_points_per_centroid,
        what="transfer: s2l k-means",
        warn_capped=False,
    )
    full = np.full(ps.num_examples, -1, dtype=np.int64)
    full[scored] = km.labels
    labels = full[rows.proxy_rows]

    ve = between_share(ty, labels)
    rnd = random_between_share(ty, labels, n_random, np.random.default_rng(seed))

    spear_pairs = []
    tpos = {int(c): j for j, c in enumerate(tcols)}
    for j, (pc, tc, pp, tp) in enumerate(pairs):
        rho = spearman(pair_p[:, j], ty[:, tpos[tc]])
        spear_pairs.append(
            {
                "proxy_column": pc,
                "target_column": tc,
                "proxy_progress": round(pp, 4),
                "progress": round(tp, 4),
                "rho": rho,
            }
        )
    rhos = np.array([p["rho"] for p in spear_pairs], dtype=np.float64)
    rho_mean = float(np.nanmean(rhos)) if np.isfinite(rhos).any() else float("nan")

    overlap = _lp_overlap(ps, ts, rows, lp_fraction)
    report = TransferReport(
        spearman=rho_mean,
        spearman_pairs=spear_pairs,
        variance_explained=ve,
        variance_explained_random=float(np.nanmean(rnd)),
        lp_hardest_overlap=overlap,
        n_proxy=int(ps.num_examples),
        n_target=int(ts.num_examples),
        n_aligned=int(n),
        k=int(km.num_clusters),
        verdict="",
        alignment=rows.method,
        seed=int(seed),
        n_random=int(n_random),
        lp_fraction=float(lp_fraction),
        variance_explained_random_std=float(np.nanstd(rnd)),
        proxy_path=str(ps.path),
        target_path=str(ts.path),
        proxy_columns=[int(c) for c in pcols],
        target_columns=[int(c) for c in tcols],
        proxy_varies=bool((np.ptp(pair_p, axis=0) > 0).any()),
        target_varies=bool((np.ptp(ty, axis=0) > 0).any()),
    )
    report.verdict = verdict(report)
    return TransferData(report, rows, labels, ty, tprog, pairs)


def _lp_overlap(
    ps: TrajectoryStore, ts: TrajectoryStore, rows: RowAlignment, fraction: float
) -> float | None:
    try:
        lp_p, lp_t = find_lp_columns(ps, "lp1"), find_lp_columns(ts, "lp1")
    except ValueError as e:
        logger.info("transfer: no LP(1) overlap (%s)", str(e).split(";")[0])
        return None

    def scores(store: TrajectoryStore, cols: dict, r: np.ndarray) -> np.ndarray:
        vals = [np.asarray(store.column_values(cols[key]))[r] for key in ("p0", "p1", "pn")]
        return lp_scores(*vals)

    a = lowest_fraction(scores(ps, lp_p, rows.proxy_rows), fraction)
    b = lowest_fraction(scores(ts, lp_t, rows.target_rows), fraction)
    return jaccard(a, b)


def verdict(r: TransferReport) -> str:
    """One sentence in plain words on whether the proxy stands for the target."""
    rho, ve, rnd = r.spearman, r.variance_explained, r.variance_explained_random
    if not (math.isfinite(rho) and math.isfinite(ve)):
        if not r.target_varies:
            return (
                f"No verdict: the target's losses ({r.target_path}) do not vary across the "
                "aligned examples, so there is nothing for the proxy to predict."
            )
        if not r.proxy_varies:
            return (
                f"No verdict: the proxy's losses ({r.proxy_path}) do not vary across the "
                "aligned examples in the matched columns, so it ranks nothing (a proxy that "
                "learned nothing, or a store recorded wrongly): record the proxy again."
            )
        return (
            "No verdict: in every matched pair of columns one store's losses do not vary "
            "across the aligned examples, so the rankings cannot be compared."
        )
    numbers = (
        f"(Spearman {rho:.2f} at matched progress; the proxy's {r.k} S2L clusters hold "
        f"{ve:.0%} of the target's trajectory variance vs {rnd:.0%} for random clusters of "
        f"the same sizes, over {r.n_aligned} examples)"
    )
    if 1.0 - rnd < 0.1:  # ~one example per cluster: any partition "explains" everything
        numbers = numbers[:-1] + (
            "; too few examples per cluster to judge the clusters: pass a smaller k or "
            "record the target on more rows)"
        )
        gain = None
    else:
        gain = (ve - rnd) / (1.0 - rnd)
    if gain is None:
        if rho >= 0.6:
            head = "The proxy's ranking of the examples stands for the target's"
        elif rho >= 0.3:
            head = "The proxy's ranking of the examples stands for the target's only in part"
        else:
            head = "The proxy's ranking of the examples does not stand for the target's"
    elif rho >= 0.6 and gain >= 0.3:
        head = "The proxy stands for the target: examples rank alike and S2L's clusters carry over"
    elif rho >= 0.3 or gain >= 0.1:
        head = (
            "The proxy stands for the target only in part: S2L can use its clusters, but "
            "expect a weaker advantage than on a well-matched pair"
        )
    else:
        head = (
            "The proxy does not stand for the target: what the proxy finds hard or easy says "
            "little about the target, so S2L's clusters are close to random for it"
        )
    return f"{head} {numbers}."
