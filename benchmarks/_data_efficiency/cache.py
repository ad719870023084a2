"""The cache under ``--out``: where things live, what is done, everything collected.

Layout of ``--out``::

    <pool>/tokenizer/                BPE trained on the pool's training rows
    <pool>/proxy/trajectories/       probe store (+ in_step/ store: mode="both")
    <pool>/proxy/proxy.json          proxy size, time, its own held-out losses
    <pool>/proxy_s<seed>/            the same for the second proxy (``proxy_seeds[1:]``):
                                     the ceiling of the transfer figures
    <pool>/embeddings.npy            MiniLM embeddings (LP's clusters)
    <pool>/runs/<method>__<budget>__s<seed>.json / .npz   one target run (resume = skip)
    <pool>/target_in_step/s<seed>/   the full-data target's free in-step store
                                     (``mode="in_step"``): the target of the transfer figures

Every store carries the rows' ``example_id`` (``<pool>-<row>``), so proxy and target stores
align by id (``hf_s2l.transfer``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .config import BenchConfig, plan, reported_seeds, run_key


def proxy_dir(out: Path, pool: str, seed: int = 0) -> Path:
    """Folder of the pool's proxy of ``seed`` (seed 0: ``proxy/``, the one that selects)."""
    return out / pool / ("proxy" if seed == 0 else f"proxy_s{seed}")


def target_store_dir(out: Path, pool: str, seed: int) -> Path:
    """The full-data target's in-step store of ``seed``."""
    return out / pool / "target_in_step" / f"s{seed}"


def has_store(path: Path) -> bool:
    """A trajectory store with at least one complete column at ``path``."""
    import hf_s2l

    try:
        return len(hf_s2l.TrajectoryStore.open(path).complete_columns()) > 0
    except Exception:
        return False


def run_done(out: Path, task: tuple[str, str, float, int]) -> bool:
    """The run's result is cached (a full-data run: with its in-step target store too)."""
    pool, method, budget, seed = task
    if not (out / pool / "runs" / f"{run_key(method, budget, seed)}.json").exists():
        return False
    return method != "full" or has_store(target_store_dir(out, pool, seed))


def collect(
    cfg: BenchConfig,
    out: Path,
    infos: dict[str, Any],
    proxies: dict[str, Any],
    failures: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything cached under ``out`` for this configuration, as one JSON-able dict."""
    import platform

    for name in infos:
        meta = out / name / "proxy" / "proxy.json"
        if name not in proxies and meta.exists():
            proxies[name] = json.loads(meta.read_text())
    runs, missing = [], []
    for t in plan(cfg, {k: v["multi_source"] for k, v in infos.items()}):
        p = out / t[0] / "runs" / f"{run_key(*t[1:])}.json"
        if p.exists():
            runs.append(json.loads(p.read_text()))
        else:
            missing.append(t)
    # a budget is reported over the seeds that are complete for every pool and method (with
    # their full-data run); a budget without any complete seed is left out
    partial, seeds_by_budget = reported_seeds(cfg, missing)
    runs = [
        r
        for r in runs
        if r["seed"] in seeds_by_budget.get(r["budget"], [])
        or (r["method"] == "full" and r["seed"] in set().union(*seeds_by_budget.values()))
    ]
    inv = []
    if (out / "invocations.jsonl").exists():
        inv = [json.loads(x) for x in (out / "invocations.jsonl").read_text().splitlines() if x]
    res = {
        "version": 2,
        "config": asdict(cfg),
        "pools": infos,
        "proxies": proxies,
        "second_proxies": {
            f"{name}/s{sd}": json.loads((proxy_dir(out, name, sd) / "proxy.json").read_text())
            for name in infos
            for sd in cfg.proxy_seeds[1:]
            if (proxy_dir(out, name, sd) / "proxy.json").exists()
        },
        "runs": runs,
        "missing_runs": [list(t) for t in missing],
        "partial_budgets": partial,
        "reported_seeds": {f"{b:g}": v for b, v in seeds_by_budget.items()},
        "failures": failures or [],
        "invocations": inv,
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }
    (out / "results.json").write_text(json.dumps(res, indent=1, default=str))
    return res


def load_arrays(
    out: Path, pool: str, method: str, budget: float, seed: int
) -> dict[str, np.ndarray]:
    with np.load(out / pool / "runs" / f"{run_key(method, budget, seed)}.npz") as z:
        return {k: z[k] for k in z.files}
