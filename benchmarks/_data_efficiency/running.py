"""One target run: select its rows, train the target, evaluate, cache the result."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from .cache import target_store_dir
from .config import BenchConfig, indices_sha1, run_key
from .evaluation import evaluate
from .methods import METHODS, selection_kwargs
from .prepare import (
    PoolState,
    _model,
    _num_params,
    _trainer,
    ensure_embeddings,
    stamp_ids,
    training_args,
)


def select_rows(
    cfg: BenchConfig, st: PoolState, out: Path, method: str, budget: float, seed: int
) -> tuple[np.ndarray, dict[str, Any], Any]:
    """The rows ``method`` picks (via the :mod:`.methods` table), selection info and the
    :class:`~hf_s2l.Selection`."""
    import hf_s2l

    pdir = out / st.pool.name / "proxy" / "trajectories"
    probe = hf_s2l.TrajectoryStore.open(pdir)
    opt = METHODS[method]
    kind, reg, kw = selection_kwargs(
        method,
        seed=seed,
        sources=st.sources,
        embeddings=ensure_embeddings(st, out) if opt.embeddings else None,
        s2l_k=cfg.s2l_num_clusters,
        lp_k=max(2, int(round(len(st.sources) / cfg.lp_rows_per_cluster))),
    )
    store = probe if kind == "probe" else hf_s2l.TrajectoryStore.open(pdir / "in_step")
    sel = hf_s2l.select(store, reg, budget, **kw)
    info = {
        "store": kind,
        "columns_used": sel.provenance.get("columns_used"),
        "params": sel.params,
    }
    return np.asarray(sel.indices), info, sel


def run_one(
    cfg: BenchConfig, st: PoolState, out: Path, method: str, budget: float, seed: int
) -> dict[str, Any]:
    """Select, train the target 3 epochs, evaluate; write the run's .json/.npz; return it."""
    from transformers import set_seed

    from hf_s2l.experiments import loop

    rdir = out / st.pool.name / "runs"
    rdir.mkdir(parents=True, exist_ok=True)
    key = run_key(method, budget, seed)
    t0, cpu0 = time.perf_counter(), time.process_time()
    if method == "full":
        idx, info, sel = np.arange(len(st.train)), {}, None
    else:
        idx, info, sel = select_rows(cfg, st, out, method, budget, seed)
    t_sel = time.perf_counter() - t0
    # the proxy's rows in its order (same pool build; ids are checked where the store has them)
    ds = loop.target_dataset(st.train, sel, verify=False)
    set_seed(seed)
    target = _model(cfg, st, cfg.target, seed=1000 + seed)
    callbacks = []
    if method == "full":  # the free in-step losses: the target of the transfer figures
        import hf_s2l

        callbacks.append(
            hf_s2l.TrajectoryCallback(
                target_store_dir(out, st.pool.name, seed),
                mode="in_step",
                metadata_columns=("source",),
                log_to_trainer=False,
                overwrite=True,
            )
        )
    t1 = time.perf_counter()
    tmp = rdir / f".tmp_{key}_{os.getpid()}"
    _trainer(target, training_args(cfg, tmp, seed, cfg.epochs), ds, st, callbacks).train()
    shutil.rmtree(tmp, ignore_errors=True)
    if method == "full":
        stamp_ids(target_store_dir(out, st.pool.name, seed), ds)
    t_train = time.perf_counter() - t1
    t2 = time.perf_counter()
    ev = evaluate(cfg, st, target)
    t_eval = time.perf_counter() - t2
    rec = {
        "pool": st.pool.name,
        "method": method,
        "budget": budget,
        "seed": seed,
        "examples": int(len(idx)),
        "per_source": dict(sorted(Counter(st.sources[idx].tolist()).items())),
        "indices_sha1": indices_sha1(idx),
        "metrics": {k: round(v[0], 6) for k, v in ev.items()},
        "target_parameters": _num_params(target),
        "select_seconds": round(t_sel, 2),
        "train_seconds": round(t_train, 2),
        "eval_seconds": round(t_eval, 2),
        "seconds": round(time.perf_counter() - t0, 2),
        "cpu_seconds": round(time.process_time() - cpu0, 2),  # this process, all threads
        "selection": info,
    }
    arrays = {f"{k}__num": v[1] for k, v in ev.items()} | {f"{k}__den": v[2] for k, v in ev.items()}
    np.savez(rdir / f"{key}.tmp.npz", **arrays)
    os.replace(rdir / f"{key}.tmp.npz", rdir / f"{key}.npz")
    (rdir / f"{key}.tmp.json").write_text(json.dumps(rec, indent=1, default=str))
    os.replace(rdir / f"{key}.tmp.json", rdir / f"{key}.json")  # written last: marks done
    return rec
