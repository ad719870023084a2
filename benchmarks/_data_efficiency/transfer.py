"""The transfer figures of every pool (``hf_s2l.transfer``), computed after the fact from the
stores the runner keeps, no retraining:

- ``proxy -> target``: the selecting proxy's probe store vs the full-data target's free
  in-step store (seed of the first benchmark seed);
- ``proxy in-step -> target of another seed``: the proxy's own in-step store (what "S2L on
  in-step losses" clusters) vs the full-data target of the second seed (another data
  order: an in-step loss also depends on when in the epoch the example was seen, so a proxy
  and a target that share the seed share that); ``..._same_order``: vs the first seed's
  target, which shares the proxy's data order (shown to expose that confound);
- ``ceiling``: the proxy vs a second proxy of another seed (same size and data): how well a
  proxy can stand for *any* other run at all;
- ``ceiling_in_step``: the same on the two proxies' in-step stores (like for like with
  ``proxy in-step -> target``: both sides epoch means of training losses);
- ``floor``: the proxy vs the target with its rows permuted (the ids shuffled): what
  the figures read when there is no relation;
- ``target -> target``: the target vs the target of another seed (both in-step), when
  recorded: the target's own seed-to-seed agreement.

S2L's clusters use ``k`` = the benchmark's K per source x the pool's sources (the total
number of clusters of "S2L by source").
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from .cache import has_store, proxy_dir, target_store_dir

#: (key, label) of the rows of a pool's transfer table, in order
ROWS = (
    ("proxy", "proxy → target"),
    ("proxy_in_step", "proxy (in-step) → target of another seed"),
    ("proxy_in_step_same_order", "proxy (in-step) → target, same data order"),
    ("ceiling", "ceiling: proxy → proxy of another seed"),
    ("ceiling_in_step", "ceiling (in-step): proxy → proxy of another seed"),
    ("floor", "floor: proxy → shuffled target"),
    ("target_seeds", "target → target of another seed"),
)
FIGURES = ("spearman", "variance_explained", "variance_explained_random", "lp_hardest_overlap")


def shuffled_copy(store_path: Path, dest: Path, seed: int = 0) -> Path:
    """A copy of the store at ``store_path`` whose example ids are permuted (each row's
    losses now belong to another example): the floor of the transfer figures."""
    import hf_s2l

    shutil.copytree(store_path, dest)
    store = hf_s2l.TrajectoryStore.open(dest, mode="r+")
    try:
        ids = store.example_ids
        if ids is None:
            raise ValueError(f"{store_path}: no example ids to shuffle")
        store.set_example_ids(np.random.default_rng(seed).permutation(ids))
    finally:
        store.close()
    return dest


def _figures(proxy: Path, target: Path, k: int) -> dict[str, Any]:
    import hf_s2l

    r = hf_s2l.transfer(proxy, target, k=k, seed=0)
    d = r.to_dict()
    return {
        **{f: d.get(f) for f in FIGURES},
        "n_aligned": r.n_aligned,
        "k": r.k,
        "verdict": r.verdict,
        "pairs": len(r.spearman_pairs),
    }


def pool_transfer(
    out: Path, pool: str, *, k: int, proxy_seeds: tuple[int, ...], seeds: tuple[int, ...]
) -> dict[str, Any]:
    """Every available transfer row of ``pool`` (``{key: figures}``; a row whose stores are
    missing is absent, one that fails has ``error``); written to ``<pool>/transfer.json``."""
    p0 = proxy_dir(out, pool, proxy_seeds[0]) / "trajectories"
    target = target_store_dir(out, pool, seeds[0])
    pairs: dict[str, tuple[Path, Path]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="de-transfer-"))
    try:
        if has_store(p0) and has_store(target):
            pairs["proxy"] = (p0, target)
            if has_store(p0 / "in_step"):
                for s in seeds[1:2]:
                    if has_store(target_store_dir(out, pool, s)):
                        pairs["proxy_in_step"] = (p0 / "in_step", target_store_dir(out, pool, s))
                pairs["proxy_in_step_same_order"] = (p0 / "in_step", target)
            pairs["floor"] = (p0, shuffled_copy(target, tmp / "shuffled"))
        for s in proxy_seeds[1:2]:
            p1 = proxy_dir(out, pool, s) / "trajectories"
            if has_store(p0) and has_store(p1):
                pairs["ceiling"] = (p0, p1)
            if has_store(p0 / "in_step") and has_store(p1 / "in_step"):
                pairs["ceiling_in_step"] = (p0 / "in_step", p1 / "in_step")
        for s in seeds[1:2]:
            t1 = target_store_dir(out, pool, s)
            if has_store(target) and has_store(t1):
                pairs["target_seeds"] = (target, t1)
        res: dict[str, Any] = {}
        for key, (a, b) in pairs.items():
            try:
                res[key] = _figures(a, b, k)
            except Exception as e:  # reported in the table, not fatal
                res[key] = {"error": repr(e)[:300]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if res:
        (out / pool / "transfer.json").write_text(json.dumps(res, indent=1, default=str))
    return res


def all_transfer(res: dict[str, Any], out: Path) -> dict[str, dict[str, Any]]:
    """:func:`pool_transfer` for every pool of a results dict (``collect``'s)."""
    cfg = res["config"]
    figs = {}
    for pool, info in res["pools"].items():
        k = int(cfg["s2l_num_clusters"]) * max(1, len(info["sources"]))
        f = pool_transfer(
            out,
            pool,
            k=k,
            proxy_seeds=tuple(cfg.get("proxy_seeds", (0, 1))),
            seeds=tuple(cfg["seeds"]),
        )
        if f:
            figs[pool] = f
    return figs
