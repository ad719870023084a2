"""Learning Percentage's clusters: the texts, their embeddings and the k-means labels.

``clustering.py`` of the official code (k-means over all-MiniLM-L6-v2 sentence embeddings):
:func:`cluster_labels` turns the config's cluster source (``clusters=``, ``embeddings=``,
``texts=``, ``texts_file=``, ``text_column=``) into one cluster id per row. ``cfg`` is a
:class:`~hf_s2l.selection.methods.learning_percentage.LPConfig`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from transformers.utils import logging

from ..context import MethodContext

logger = logging.get_logger(__name__)

# official=True clusters all rows once (official_budget); cluster_labels reuses them
LABELS_KEY = ("lp_official_labels",)


class Texts(Sequence):
    """The training texts given as ``texts=``: a read-only sequence whose ``repr`` (what the
    Selection's params record) is a short digest, not the whole corpus."""

    def __init__(self, texts: Any) -> None:
        if isinstance(texts, str):
            raise ValueError("lp: texts must be a sequence of strings, one per example")
        self._texts = [str(t) for t in texts]

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, i: Any) -> Any:
        return self._texts[i]

    def __repr__(self) -> str:
        h = hashlib.sha1()
        for t in self._texts:
            h.update(t.encode("utf-8", "replace") + b"\0")
        return f"<{len(self._texts)} texts, sha1 {h.hexdigest()[:12]}>"


def cluster_labels(ctx: MethodContext, cfg: Any, stats: dict) -> np.ndarray | None:
    """Cluster id of each row of ``ctx`` from the config's cluster source, or None."""
    cached = ctx._cache.get(LABELS_KEY) if ctx.rows is None else None
    if cached is not None:  # official=True clustered all rows already (official_budget)
        stats.update(cached[1])
        return cached[0]
    if cfg.clusters is not None:
        stats["clustering"] = "given clusters"
        return ctx.take(np.asarray(cfg.clusters))
    emb = ctx.embeddings
    if emb is not None:
        stats["clustering_input"] = "embeddings passed to select"
    else:
        source = _text_source(cfg)
        if source is None:
            return None
        from ..embeddings import default_model_path, embed_texts

        stats["clustering_input"] = source
        # every text embedded once per select() call, shared by the groups (by_column)
        key = ("lp_embeddings", source, repr(cfg.texts), cfg.embedding_model)
        full = ctx._cache.get(key)
        if full is None:
            full = embed_texts(_all_texts(ctx, cfg), model_name_or_path=cfg.embedding_model)
            ctx._cache[key] = full
        emb = ctx.take(full)
        stats["embedding_model"] = cfg.embedding_model or default_model_path()
    return kmeans_labels(emb, cfg, seed=ctx.seed, stats=stats)


def kmeans_labels(emb: np.ndarray, cfg: Any, *, seed: int, stats: dict | None = None) -> np.ndarray:
    """k-means cluster ids of ``emb`` with the config's backend and seed."""
    stats = {} if stats is None else stats
    n = len(emb)
    k = int(cfg.num_clusters)
    if k > n:
        logger.warning("lp: %d clusters asked for %d examples; using %d clusters", k, n, n)
        k = n
    if cfg.kmeans == "sklearn":
        from sklearn.cluster import KMeans

        rs = seed if cfg.kmeans_random_state is None else int(cfg.kmeans_random_state)
        km = KMeans(n_clusters=k, random_state=rs, n_init="auto").fit(
            np.asarray(emb, dtype=np.float32)
        )
        labels = np.asarray(km.labels_, dtype=np.int64)
        stats["clustering"] = f"sklearn KMeans(n_clusters={k}, random_state={rs}, n_init='auto')"
    else:
        from ..kmeans import faiss_kmeans

        labels = faiss_kmeans(emb, k, niter=cfg.niter, seed=seed, what="lp clustering").labels
        stats["clustering"] = f"faiss k-means ({k} clusters, seed {seed})"
    return labels


def _text_source(cfg: Any) -> str | None:
    """Where the texts come from (for the stats), or None when no text source is given."""
    if cfg.texts is not None:
        return "texts passed to select"
    if cfg.texts_file is not None:
        how = f"column {cfg.text_column!r}" if cfg.text_column else "official sentence"
        return f"texts from {cfg.texts_file} ({how})"
    if cfg.text_column is not None:
        return f"store metadata column {cfg.text_column!r}"
    return None


def _all_texts(ctx: MethodContext, cfg: Any) -> list[str]:
    """All N texts, in the store's row order, from the config's text source."""
    from ..embeddings import load_texts

    if cfg.texts is not None:
        texts = list(cfg.texts)
    elif cfg.texts_file is not None:
        texts = load_texts(cfg.texts_file, cfg.text_column)
    else:
        texts = [str(t) for t in ctx.store.metadata(cfg.text_column)]
    if len(texts) != ctx.store.num_examples:
        raise ValueError(
            f"lp: {len(texts)} texts for a store of {ctx.store.num_examples} examples; the texts "
            "must be the training rows in the store's row order"
        )
    return [str(t) for t in texts]
