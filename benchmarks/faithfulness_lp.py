#!/usr/bin/env python
"""How close is hf-s2l's default ``lp`` selection to the official Learning Percentage code?

On a trajectory store recorded by ``hf-s2l demo`` (P0 before training + one epoch-end column
per epoch) and its training rows (``hf_s2l/assets/math_demo/train.jsonl``):

* **official**: the line-by-line transcription of dheeraj7596/Small2Large ``subset.py``
  (``tests/selection/test_lp.py::_official_subset_py``) on clusters made as
  ``clustering.py`` makes them: the official sentence, all-MiniLM-L6-v2, sklearn
  ``KMeans(n_clusters=K, random_state=rs, n_init="auto")``;
* **hf-s2l default**: ``select(store, "lp", budget, texts=...)`` (exact budget);
* **hf-s2l official sizes**: ``official_lp_subset(store, percentage, texts=...,
  unscored="zero")`` (rows without target tokens read perplexity 1, as in the official code).

Reported: the Jaccard overlap of each hf-s2l selection with the official one
(``random_state=42``), next to the Jaccard between official runs whose k-means
``random_state`` differs (42 vs 0..4) — the spread the official code itself has.

    python benchmarks/faithfulness_lp.py --store hf-s2l-demo/proxy/trajectories
    python benchmarks/faithfulness_lp.py            # runs `hf-s2l demo` first (a few minutes)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OTHER_SEEDS = (0, 1, 2, 3, 4)


def jaccard(a, b) -> float:
    a, b = set(int(i) for i in a), set(int(i) for i in b)
    return len(a & b) / len(a | b) if a | b else 1.0


def _demo_store(work: Path) -> Path:
    from hf_s2l.experiments.demo import DemoConfig, run_demo

    cfg = DemoConfig(out_dir=str(work), methods=("random",), progress_bars=False)
    run_demo(cfg, progress=lambda m: print(m, flush=True))
    return work / "proxy" / "trajectories"


def main(argv: list[str] | None = None) -> dict:
    from sklearn.cluster import KMeans

    from hf_s2l import TrajectoryStore
    from hf_s2l.experiments.demo import demo_data_dir
    from hf_s2l.selection import official_lp_subset, select
    from hf_s2l.selection.embeddings import embed_texts, load_texts
    from hf_s2l.selection.methods.learning_percentage import find_lp_columns, lp_scores
    from tests.selection.test_lp import _official_subset_py

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", default=None, help="a demo trajectory store (default: run the demo)")
    p.add_argument("--data", default=None, help="its training rows (default: the demo's)")
    p.add_argument("--work", default="/tmp/hf-s2l-faithfulness-lp", help="demo output folder")
    p.add_argument("--percentages", type=int, nargs="+", default=[10, 33])
    p.add_argument("--num-clusters", type=int, nargs="+", default=[1000, 30])
    p.add_argument("--out", default=None, help="write the results as JSON here")
    p.add_argument("--embeddings-cache", default=None, help=".npy file: reuse/save the embeddings")
    p.add_argument(
        "--check-texts-path",
        action="store_true",
        help="also run select(texts=...) once and check it equals the embeddings path",
    )
    args = p.parse_args(argv)

    store_dir = Path(args.store) if args.store else _demo_store(Path(args.work))
    store = TrajectoryStore.open(store_dir)
    data = Path(args.data) if args.data else demo_data_dir() / "train.jsonl"
    texts = load_texts(data)
    n = store.num_examples
    if len(texts) != n:
        raise SystemExit(f"{data} has {len(texts)} rows, the store {n}: pass the matching --data")
    cols = find_lp_columns(store, "lp1")
    losses = [np.asarray(store.column_values(c), np.float64) for c in (cols["p0"], cols["p1"])]
    ln = np.asarray(store.column_values(cols["pn"]), np.float64)
    # P0, P1, Pn as the store holds them; a row without target tokens (NaN) gets perplexity
    # 1, as dump_pplxs.py's loss_per_sample gives it
    held = [np.where(np.isnan(x), 1.0, np.exp(x)) for x in (*losses, ln)]
    # subset.py takes epoch 3 as P_n; give the transcription P_n in the P3 slot (P2 unused)
    p0, p1, pn = held
    nan = np.isnan(lp_scores(losses[0], losses[1], ln))
    t0 = time.perf_counter()
    cache = Path(args.embeddings_cache) if args.embeddings_cache else None
    if cache is not None and cache.is_file():
        emb = np.load(cache)
    else:
        emb = embed_texts(texts)
        if cache is not None:
            np.save(cache, emb)
    emb_s = time.perf_counter() - t0
    results = {
        "store": str(store_dir),
        "data": str(data),
        "num_examples": n,
        "columns": {k: v for k, v in cols.items()},
        "nan_rows": int(nan.sum()),
        "embedding_seconds": round(emb_s, 1),
        "runs": [],
    }
    checked_texts_path = not args.check_texts_path
    for k in args.num_clusters:
        labels = {
            rs: KMeans(n_clusters=min(k, n), random_state=rs, n_init="auto").fit(emb).labels_
            for rs in (42, *OTHER_SEEDS)
        }
        for pct in args.percentages:
            official = {
                rs: _official_subset_py(p0, p1, p1, pn, lab, pct)[0] for rs, lab in labels.items()
            }
            ref = official[42]
            budget = round(pct / 100 * n)
            # texts= embeds them exactly as above; embed once, check the texts path once
            default = select(store, "lp", budget, embeddings=emb, num_clusters=k).indices
            if not checked_texts_path:
                by_texts = select(store, "lp", budget, texts=texts, num_clusters=k).indices
                assert by_texts.tolist() == default.tolist(), "texts= and embeddings= differ"
                checked_texts_path = True
            sizes = official_lp_subset(
                store, pct, embeddings=emb, num_clusters=k, unscored="zero"
            ).indices
            unclustered = select(store, "lp", budget, unclustered=True).indices
            between = [jaccard(ref, official[rs]) for rs in OTHER_SEEDS]
            run = {
                "num_clusters": k,
                "percentage": pct,
                "budget_exact": budget,
                "official_size": len(ref),
                "jaccard_default_vs_official": round(jaccard(default, ref), 4),
                "jaccard_default_upper_bound": round(budget / len(ref), 4),
                "jaccard_official_sizes_vs_official": round(jaccard(sizes, ref), 4),
                "jaccard_unclustered_vs_official": round(jaccard(unclustered, ref), 4),
                "jaccard_official_vs_official_other_seeds": {
                    "mean": round(float(np.mean(between)), 4),
                    "min": round(float(np.min(between)), 4),
                    "max": round(float(np.max(between)), 4),
                },
                "default_inside_official": bool(set(default.tolist()) <= set(ref)),
            }
            results["runs"].append(run)
            print(json.dumps(run), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
