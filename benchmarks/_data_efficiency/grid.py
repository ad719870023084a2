"""Running the grid: one stream of tasks (proxies, embeddings, target runs) over workers."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .cache import collect, proxy_dir, run_done
from .config import BenchConfig, indices_sha1, plan, run_key
from .methods import METHODS
from .prepare import PoolState, _log, ensure_embeddings, ensure_proxy, load_pool
from .running import run_one, select_rows

_STATE: dict[str, Any] = {}


def _init_worker(cfg: BenchConfig, data: str, out: str) -> None:
    import datasets
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    torch.set_num_threads(cfg.threads)
    _STATE.update(cfg=cfg, data=Path(data), out=Path(out), pools={})


def _pool_state(name: str) -> PoolState:
    pools = _STATE["pools"]
    if name not in pools:
        pools[name] = load_pool(_STATE["cfg"], _STATE["data"], _STATE["out"], name)
    return pools[name]


def _any_task(task: tuple) -> dict[str, Any]:
    """One task of the grid's stream: ``("proxy", pool, seed)``, ``("embeddings", pool, 0)``
    or ``("run", pool, method, budget, seed)``."""
    kind, rest = task[0], task[1:]
    if kind == "run":
        return _run_task(rest)
    name, seed = rest
    st = _pool_state(name)
    if kind == "embeddings":
        ensure_embeddings(st, _STATE["out"])
        return {"task": kind, "pool": name}
    meta = ensure_proxy(_STATE["cfg"], st, _STATE["out"], seed)
    return {"task": kind, "pool": name, "seed": seed, "proxy": meta}


def _wait_ready(pool: str, method: str, timeout: float = 4 * 3600) -> None:
    """Block until the selecting proxy (and the embeddings, if ``method`` needs them) of
    ``pool`` are on disk (another worker prepares them)."""
    out, cfg = _STATE["out"], _STATE["cfg"]
    need = [proxy_dir(out, pool, cfg.proxy_seeds[0]) / "proxy.json"]
    if METHODS[method].embeddings:
        need.append(out / pool / "embeddings.npy")
    t0 = time.monotonic()
    while not all(p.exists() for p in need):
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{pool}: waited {timeout:.0f} s for {need}")
        time.sleep(5)


def stale_runs(cfg: BenchConfig, data: Path, out: Path, tasks: list) -> list[tuple]:
    """Cached runs whose selection the installed hf-s2l no longer reproduces (same seed,
    different rows: e.g. the library's defaults changed). They are run again."""
    stale = []
    for t in tasks:
        pool, method, budget, seed = t
        path = out / pool / "runs" / f"{run_key(method, budget, seed)}.json"
        if method == "full" or not path.exists():
            continue
        rec = json.loads(path.read_text())
        idx, *_ = select_rows(cfg, _pool_state(pool), out, method, budget, seed)
        if rec.get("indices_sha1") != indices_sha1(idx):
            stale.append(t)
    return stale


def _run_task(task: tuple[str, str, float, int]) -> dict[str, Any]:
    pool, method, budget, seed = task
    done = _STATE["out"] / pool / "runs" / f"{run_key(method, budget, seed)}.json"
    if run_done(_STATE["out"], task):  # finished meanwhile by another invocation
        return json.loads(done.read_text())
    try:
        if method != "full":
            _wait_ready(pool, method)
        return run_one(_STATE["cfg"], _pool_state(pool), _STATE["out"], method, budget, seed)
    except Exception as e:  # recorded, not fatal: a rerun retries it
        return {"pool": pool, "method": method, "budget": budget, "seed": seed, "error": repr(e)}


def pool_info(cfg: BenchConfig, data: Path, out: Path, name: str) -> dict[str, Any]:
    if _STATE.get("out") == out and _STATE.get("cfg") is cfg:
        st = _pool_state(name)
    else:
        st = load_pool(cfg, data, out, name)
    return {
        "title": st.pool.title,
        "multi_source": st.pool.multi_source,
        "train_rows": len(st.train),
        "dropped_no_target": st.dropped,
        "sources": dict(sorted(Counter(st.sources.tolist()).items())),
        "mean_tokens": round(st.mean_tokens, 1),
        "evals": {
            ev.name: {
                "title": ev.title,
                "rows": len(ev.rows),
                "lower_is_better": ev.lower_is_better,
                "prefix": ev.prefix,
                "generate": ev.generate,
            }
            for ev in st.pool.evals
        },
    }


def run_grid(
    cfg: BenchConfig, data: Path, out: Path, transfer_only: bool = False
) -> dict[str, Any]:
    """Prepare every pool (proxies, embeddings) then run every missing target run.

    ``transfer_only``: the proxies and the first two seeds' full-data targets only (the
    stores of the transfer figures), no selection."""
    import multiprocessing as mp

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    _init_worker(cfg, str(data), str(out))
    infos = {name: pool_info(cfg, data, out, name) for name in cfg.pools}
    todo_all = plan(cfg, {k: v["multi_source"] for k, v in infos.items()}, transfer_only)
    if not transfer_only and any(
        (out / name / "proxy" / "proxy.json").exists() for name in cfg.pools
    ):
        for name in cfg.pools:
            if (out / name / "proxy" / "proxy.json").exists():
                ensure_embeddings(_pool_state(name), out)
        stale = stale_runs(cfg, data, out, todo_all)
        for t in stale:
            _log(f"selection changed since cached: {t}; running it again")
            (out / t[0] / "runs" / f"{run_key(*t[1:])}.json").unlink()
    todo = [t for t in todo_all if not run_done(out, t)]
    # one stream of tasks: proxies, embeddings, then the runs (full data first: they need
    # neither); a selection run waits in its worker for its pool's proxy/embeddings
    prep: list[tuple] = [("proxy", name, s) for name in cfg.pools for s in cfg.proxy_seeds]
    if not transfer_only and any(METHODS[m].embeddings for m in cfg.methods):
        prep += [("embeddings", name, 0) for name in cfg.pools]
    tasks = prep + [("run", *t) for t in todo]
    _log(f"{len(todo_all)} target runs planned, {len(todo)} to run, {cfg.workers} worker(s)")
    failures: list[dict[str, Any]] = []
    proxies: dict[str, Any] = {}
    done = 0

    def handle(r: dict[str, Any]) -> None:
        nonlocal done
        if r.get("task") == "proxy":
            if r["seed"] == cfg.proxy_seeds[0]:
                proxies[r["pool"]] = r["proxy"]
        elif r.get("task") != "embeddings":
            done += 1
            _report(r, done, len(todo), failures)

    if cfg.workers > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(cfg.workers, _init_worker, (cfg, str(data), str(out))) as pool:
            for r in pool.imap_unordered(_any_task, tasks):
                handle(r)
    else:
        for t in tasks:
            handle(_any_task(t))
    wall = time.perf_counter() - t0
    with open(out / "invocations.jsonl", "a") as f:
        f.write(
            json.dumps(
                {
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - wall)),
                    "wall_seconds": round(wall, 1),
                    "runs": len(todo),
                    "load_start": round(load0, 2),
                    "load_end": round(os.getloadavg()[0], 2),
                    "workers": cfg.workers,
                    "transfer_only": transfer_only,
                }
            )
            + "\n"
        )
    return collect(cfg, out, infos, proxies, failures)


def _report(r: dict[str, Any], i: int, n: int, failures: list) -> None:
    tag = f"[{i}/{n}] {r['pool']:9s} {r['method']:18s} {r['budget']:4.0%} seed {r['seed']}"
    if "error" in r:
        failures.append(r)
        _log(f"{tag}: FAILED {r['error'][:300]}")
    else:
        m = ", ".join(f"{k} {v:.4f}" for k, v in r["metrics"].items())
        _log(f"{tag}: n={r['examples']:5d} {m} ({r['seconds']:.0f} s)")
