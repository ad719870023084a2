"""Statistics of the cached runs: values per (method, budget), paired comparisons."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .cache import load_arrays
from .methods import METHODS
from .stats import Interval, bootstrap_interval, seed_interval, verdict


def _values(res: dict, pool: str, ev: str) -> dict[tuple[str, float], dict[int, float]]:
    out: dict[tuple[str, float], dict[int, float]] = {}
    for r in res["runs"]:
        if r["pool"] == pool and ev in r["metrics"]:
            out.setdefault((r["method"], r["budget"]), {})[r["seed"]] = r["metrics"][ev]
    return out


def _mean_interval(vals: dict[int, float]) -> Interval:
    """Mean over seeds with its t-interval (the plot bands)."""
    return seed_interval(vals, {s: 0.0 for s in vals})


def compare(
    res: dict, out: Path, pool: str, ev: str, a: str, b: str, budget: float
) -> dict[str, Any] | None:
    """Paired comparison ``a - b`` on ``ev`` at ``budget`` (same seeds): both intervals."""
    vals = _values(res, pool, ev)
    va, vb = vals.get((a, budget), {}), vals.get((b, budget), {})
    seeds = sorted(set(va) & set(vb))
    if not seeds:
        return None
    s_iv = seed_interval(va, vb)
    arr_a = [load_arrays(out, pool, a, budget, s) for s in seeds]
    arr_b = [load_arrays(out, pool, b, budget, s) for s in seeds]
    b_iv = bootstrap_interval(
        [x[f"{ev}__num"] for x in arr_a],
        [x[f"{ev}__den"] for x in arr_a],
        [x[f"{ev}__num"] for x in arr_b],
        [x[f"{ev}__den"] for x in arr_b],
        n_boot=res["config"]["n_boot"],
        seed=0,
    )
    lower = res["pools"][pool]["evals"][ev]["lower_is_better"]
    return {
        "pool": pool,
        "eval": ev,
        "budget": budget,
        "a": a,
        "b": b,
        "seeds": s_iv.to_dict(),
        "bootstrap": b_iv.to_dict(),
        "verdict": verdict(s_iv, b_iv, lower_is_better=lower),
    }


#: Paired comparisons beyond "every method vs random": the clustering's effect at the same
#: per-source counts (equal split, proportional split), the free in-step columns, and the
#: quota rule itself (proportional − equal, same method).
EXTRA_PAIRS = (
    ("s2l", "random_by_source"),
    ("s2l_in_step", "s2l"),
    ("s2l_proportional", "random_proportional"),
    ("s2l_proportional", "s2l"),
    ("random_proportional", "random_by_source"),
)


def summarize(res: dict, out: Path) -> dict[str, Any]:
    """Per pool/eval: every (method, budget) mean ± t-interval, every paired comparison."""
    summ: dict[str, Any] = {"values": {}, "comparisons": []}
    for pool, info in res["pools"].items():
        for ev in info["evals"]:
            vals = _values(res, pool, ev)
            summ["values"][(pool, ev)] = {k: _mean_interval(v) for k, v in vals.items()}
            budgets = sorted({b for (_, b) in vals if b < 1.0})
            methods = [m for m in METHODS if any(k[0] == m for k in vals)]
            for b in budgets:
                pairs = [(m, "random") for m in methods if m != "random"]
                pairs += [p for p in EXTRA_PAIRS if p[0] in methods and p[1] in methods]
                for a, bb in pairs:
                    c = compare(res, out, pool, ev, a, bb, b)
                    if c is not None:
                        summ["comparisons"].append(c)
    return summ


def _find(summ: dict, pool: str, ev: str, a: str, b: str, budget: float) -> dict | None:
    for c in summ["comparisons"]:
        if (c["pool"], c["eval"], c["a"], c["b"], c["budget"]) == (pool, ev, a, b, budget):
            return c
    return None


def _verdict_counts(summ: dict, a: str, b: str) -> tuple[list[dict], list[dict], int]:
    cs = [c for c in summ["comparisons"] if c["a"] == a and c["b"] == b]
    return (
        [c for c in cs if c["verdict"] == "better"],
        [c for c in cs if c["verdict"] == "worse"],
        len(cs),
    )


def full_vs_random(res: dict, pool: str, ev: str, budget: float) -> Interval | None:
    """Full data − random at ``budget`` (same seed): does the amount of data show?"""
    vals = _values(res, pool, ev)
    full, rnd = vals.get(("full", 1.0), {}), vals.get(("random", budget), {})
    if not full or not rnd:
        return None
    return seed_interval(full, rnd)


def cluster_margin(fig: dict | None) -> float:
    """``variance_explained - variance_explained_random`` (what S2L's clusters carry over)."""
    if not fig or "error" in fig:
        return math.nan
    a, b = fig.get("variance_explained"), fig.get("variance_explained_random")
    if a is None or b is None:
        return math.nan
    return float(a) - float(b)
