"""Facility location (greedy submodular coverage; Mirzasoleiman et al., 2020 "CRAIG"; the S2L
paper's "Facility Locations" baseline), on loss trajectories or on given embeddings.

Objective over a k-nearest-neighbour similarity graph (never a dense N x N matrix)::

    F(S) = sum_i max_{j in S ∩ N(i)} s_ij          (0 if S ∩ N(i) is empty)
    s_ij = exp(-||x_i - x_j||^2 / h)               j in N(i): i itself + its k nearest rows
    h    = mean squared distance to the k neighbours (over all rows)

``F`` is monotone submodular; the greedy rule adds ``argmax_j F(S + j) - F(S)`` ``budget``
times, with the gain ``sum_{i: j in N(i)} max(0, s_ij - cur_i)`` (``cur_i`` = current
coverage of ``i``). Lazy greedy (Minoux, 1978) keeps stale gains in a max-heap and only
re-evaluates the top: same result as plain greedy (ties: lower row index first). Neighbours
come from faiss: exact ``IndexFlatL2`` up to ``exact_knn_max_rows`` rows, else
``IndexIVFFlat`` (``nlist = sqrt(N)``, ``nprobe``) — approximate but O(N sqrt(N) d).
Trajectories use the feature columns (no step-0 column unless ``include_initial``), as S2L.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from transformers.utils import logging

from ..base import MethodResult, register_method
from ..columns import resolve_columns
from ..context import MethodContext

logger = logging.get_logger(__name__)


@dataclass
class FacilityLocationConfig:
    """Parameters of :func:`facility_location`.

    Attributes:
        k_neighbors: neighbours per row in the similarity graph.
        use_embeddings: use the ``embeddings`` given to :func:`select` (default: when given).
        columns: store columns of the trajectories (default: every complete column recorded
            after training started; the before-training column is left out, as in S2L).
        exact_knn_max_rows: exact k-NN search up to this many rows, IVF above.
        nprobe: IVF lists probed per query.
    """

    k_neighbors: int = 10
    use_embeddings: bool | None = None
    columns: list[int] | None = None
    exact_knn_max_rows: int = 20000
    nprobe: int = 8

    def validate(self) -> None:
        if int(self.k_neighbors) < 1:
            raise ValueError(f"facility_location: k_neighbors must be >= 1, got {self.k_neighbors}")


def knn_graph(
    x: np.ndarray,
    k: int,
    *,
    seed: int = 0,
    exact_max_rows: int = 20000,
    nprobe: int = 8,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(neighbors, sims)``, both ``n x (k+1)``: column 0 is the row itself (similarity 1).

    ``rows``: the store rows of ``x``'s rows, named by the input check's errors.
    """
    import faiss

    from ..kmeans import check_faiss_input

    x = np.ascontiguousarray(x, dtype=np.float32)
    check_faiss_input(x, "facility_location k-NN", rows=rows)
    n, d = x.shape
    k = min(int(k), n - 1)
    if k <= 0:
        return np.arange(n, dtype=np.int64)[:, None], np.ones((n, 1), dtype=np.float32)
    if n <= exact_max_rows:
        index = faiss.IndexFlatL2(d)
    else:
        nlist = int(np.sqrt(n))
        quantizer = faiss.IndexFlatL2(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist)
        index.cp.seed = int(seed) % (2**31)
        index.cp.min_points_per_centroid = 1
        index.train(x)
        index.nprobe = int(nprobe)
    index.add(x)
    dist = np.empty((n, k + 1), dtype=np.float32)
    nbr = np.empty((n, k + 1), dtype=np.int64)
    chunk = 1 << 16
    for s in range(0, n, chunk):
        dist[s : s + chunk], nbr[s : s + chunk] = index.search(x[s : s + chunk], k + 1)
    # Put each row itself first, then its k nearest other rows (faiss may miss itself or
    # return -1 with IVF; those slots are dropped / kept invalid).
    rows = np.arange(n)[:, None]
    is_self = nbr == rows
    others = np.argsort(is_self | (nbr < 0), axis=1, kind="stable")[:, :k]
    o_nbr = np.take_along_axis(nbr, others, axis=1)
    o_dist = np.take_along_axis(dist, others, axis=1)
    valid = o_nbr >= 0
    h = float(o_dist[valid].mean()) if valid.any() else 1.0
    h = h if h > 0 else 1.0
    sims = np.where(valid, np.exp(-np.maximum(o_dist, 0) / h), 0.0).astype(np.float32)
    o_nbr = np.where(valid, o_nbr, -1)  # invalid slot: -1, skipped by the greedy
    return (
        np.concatenate([np.broadcast_to(rows, (n, 1)).astype(np.int64), o_nbr], axis=1),
        np.concatenate([np.ones((n, 1), np.float32), sims], axis=1),
    )


def lazy_greedy_facility_location(
    neighbors: np.ndarray, sims: np.ndarray, budget: int
) -> tuple[np.ndarray, float]:
    """Lazy greedy maximisation of the k-NN facility-location objective; returns
    ``(chosen rows in pick order, F(S))``."""
    n = neighbors.shape[0]
    # Reverse graph in CSR form: for candidate j, the rows i with j in N(i) and s_ij.
    cand = neighbors.ravel()
    pts = np.repeat(np.arange(n, dtype=np.int64), neighbors.shape[1])
    sv = sims.ravel().astype(np.float64)
    keep = cand >= 0
    cand, pts, sv = cand[keep], pts[keep], sv[keep]
    order = np.argsort(cand, kind="stable")
    rev_pts, rev_sims = pts[order], sv[order]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(cand, minlength=n))])
    init = np.bincount(cand, weights=sv, minlength=n)
    cur = np.zeros(n, dtype=np.float64)
    heap = [(-float(g), j) for j, g in enumerate(init.tolist())]
    heapq.heapify(heap)
    chosen: list[int] = []
    total = 0.0
    ptr_l = ptr.tolist()
    while len(chosen) < budget:
        neg, j = heapq.heappop(heap)
        a, b = ptr_l[j], ptr_l[j + 1]
        p = rev_pts[a:b]
        gain_vec = rev_sims[a:b] - cur[p]
        gain = float(gain_vec[gain_vec > 0].sum())
        # (-gain, j) <= top: j would be popped again right away (ties: lower row first).
        if not heap or (-gain, j) <= heap[0]:
            chosen.append(j)
            cur[p] = np.maximum(cur[p], rev_sims[a:b])  # each i lists j once: no duplicates
            total += gain
        else:
            heapq.heappush(heap, (-gain, j))
    return np.asarray(chosen, dtype=np.int64), total


def _trajectory_columns(ctx: MethodContext, cfg: FacilityLocationConfig) -> np.ndarray:
    return resolve_columns(
        ctx, cfg.columns, method="facility_location", minimum=2, exclude_train_begin=True
    )


def _used_columns(ctx: MethodContext, cfg: FacilityLocationConfig) -> np.ndarray | None:
    use_emb = cfg.use_embeddings if cfg.use_embeddings is not None else ctx.embeddings is not None
    return None if use_emb else _trajectory_columns(ctx, cfg)


@register_method(
    "facility_location", config=FacilityLocationConfig, min_columns=0, columns=_used_columns
)
def facility_location(ctx: MethodContext, budget: int, cfg: FacilityLocationConfig) -> MethodResult:
    """Greedy facility location (k-NN graph, lazy greedy) on trajectories or embeddings."""
    use_emb = cfg.use_embeddings if cfg.use_embeddings is not None else ctx.embeddings is not None
    if use_emb:
        if ctx.embeddings is None:
            raise ValueError("facility_location: use_embeddings=True but no embeddings were passed")
        x = ctx.embeddings
        space = "embeddings"
    else:
        cols = _trajectory_columns(ctx, cfg)
        x = ctx.trajectories(cols, nan=0.0)
        space = f"trajectories (columns {cols.tolist()})"
    nbr, sims = knn_graph(
        x,
        cfg.k_neighbors,
        seed=ctx.seed,
        exact_max_rows=cfg.exact_knn_max_rows,
        nprobe=cfg.nprobe,
        rows=ctx.rows,
    )
    chosen, value = lazy_greedy_facility_location(nbr, sims, budget)
    n = len(x)
    return MethodResult(
        indices=chosen,
        stats={
            "space": space,
            "k_neighbors": int(nbr.shape[1] - 1),
            "objective": value,
            "coverage": value / n if n else 0.0,
        },
    )
