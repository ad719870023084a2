"""Markdown tables of the benchmark: values, paired differences, per-source counts, transfer."""

from __future__ import annotations

import math

from .methods import LABELS, METHODS
from .summary import _find, cluster_margin

ORDER = [*METHODS, "full"]


def _f(x: float, signed: bool = False, nd: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    s = f"{x:+.{nd}f}" if signed else f"{x:.{nd}f}"
    return s.replace("-", "−")


def _cmp_cell(c: dict | None) -> str:
    if c is None:
        return ""
    s, b = c["seeds"], c["bootstrap"]
    mark = {"better": " **better**", "worse": " **worse**"}.get(c["verdict"], "")
    return (
        f"{_f(s['mean'], True)} (t {_f(s['low'], True)}…{_f(s['high'], True)}; "
        f"b {_f(b['low'], True)}…{_f(b['high'], True)}){mark}"
    )


def value_table(res: dict, summ: dict, pool: str, ev: str) -> str:
    vals = summ["values"][(pool, ev)]
    budgets = sorted({b for (_, b) in vals if b < 1.0})
    lines = [
        "| method | " + " | ".join(f"{b:.0%}" for b in budgets) + " |",
        "|---|" + "---:|" * len(budgets),
    ]
    for m in ORDER:
        if m == "full":
            iv = vals.get(("full", 1.0))
            if iv:
                cell = f"{_f(iv.mean)} [{_f(iv.low)}, {_f(iv.high)}]"
                lines.append("| Full data (100%) | " + " | ".join([cell] * len(budgets)) + " |")
            continue
        cells = []
        for b in budgets:
            iv = vals.get((m, b))
            cells.append(f"{_f(iv.mean)} [{_f(iv.low)}, {_f(iv.high)}]" if iv else "")
        if any(cells):
            lines.append(f"| {LABELS[m]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def diff_table(res: dict, summ: dict, pool: str, ev: str, base: str = "random") -> str:
    vals = summ["values"][(pool, ev)]
    budgets = sorted({b for (_, b) in vals if b < 1.0})
    lines = [
        "| method − " + LABELS[base] + " | " + " | ".join(f"{b:.0%}" for b in budgets) + " |",
        "|---|" + "---|" * len(budgets),
    ]
    for m in METHODS:
        if m == base:
            continue
        cells = [_cmp_cell(_find(summ, pool, ev, m, base, b)) for b in budgets]
        if any(cells):
            lines.append(f"| {LABELS[m]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pair_table(res: dict, summ: dict, a: str, b: str) -> str:
    budgets = sorted({c["budget"] for c in summ["comparisons"]})
    rows = []
    for pool, info in res["pools"].items():
        for ev, e in info["evals"].items():
            cells = [_cmp_cell(_find(summ, pool, ev, a, b, bb)) for bb in budgets]
            if any(cells):
                rows.append(f"| {pool} | {e['title']} | " + " | ".join(cells) + " |")
    if not rows:
        return ""
    head = "| pool | evaluation | " + " | ".join(f"{x:.0%}" for x in budgets) + " |"
    return "\n".join([head, "|---|---|" + "---|" * len(budgets), *rows])


def source_table(res: dict, pool: str, seed: int) -> str:
    """Rows per source of every run of ``seed`` on ``pool`` (full data first; with several
    budgets, budget by budget, each row named with its budget)."""
    runs = [r for r in res["runs"] if r["pool"] == pool and r["seed"] == seed]
    order = {m: i for i, m in enumerate(ORDER)}
    runs.sort(key=lambda r: (r["method"] != "full", r.get("budget", 0), order.get(r["method"], 99)))
    several = len({r.get("budget") for r in runs if r["method"] != "full"}) > 1
    srcs = sorted({k for r in runs for k in r.get("per_source", {})})
    if not runs or not srcs:
        return ""
    lines = ["| method | " + " | ".join(srcs) + " |", "|---|" + "---:|" * len(srcs)]
    for r in runs:
        name = LABELS.get(r["method"], r["method"])
        if several and r["method"] != "full":
            name += f" at {r['budget']:.0%}"
        cells = [f"{r['per_source'].get(k, 0):,}" for k in srcs]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def transfer_table(figs: dict[str, dict]) -> str:
    """One pool's transfer rows (``transfer.ROWS`` order) as a markdown table."""
    from .transfer import ROWS

    lines = [
        "| stores | Spearman | variance explained | (random clusters) | margin | LP hardest overlap |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in ROWS:
        f = figs.get(key)
        if f is None:
            continue
        if "error" in f:
            lines.append(f"| {label} | failed: {f['error'][:120]} | | | | |")
            continue
        lp = f.get("lp_hardest_overlap")
        lines.append(
            f"| {label} | {_f(f['spearman'], nd=2)} | {_f(f['variance_explained'], nd=2)} | "
            f"{_f(f['variance_explained_random'], nd=2)} | {_f(cluster_margin(f), True, 2)} | "
            f"{_f(lp, nd=2) if lp is not None else 'n/a'} |"
        )
    return "\n".join(lines)


def glance_table(res: dict, summ: dict, pool: str, budget: float, base: str = "random") -> str:
    """Every method − ``base`` at ``budget`` on every evaluation of ``pool`` (one row per
    method): the paired mean, **better**/**worse** when both intervals exclude zero."""
    evs = [ev for ev in res["pools"][pool]["evals"] if summ["values"].get((pool, ev))]
    lines = [
        f"| method − {LABELS[base]} at {budget:.0%} | "
        + " | ".join(res["pools"][pool]["evals"][ev]["title"] for ev in evs)
        + " |",
        "|---|" + "---:|" * len(evs),
    ]
    for m in METHODS:
        cells = []
        for ev in evs:
            c = _find(summ, pool, ev, m, base, budget)
            mark = (
                {"better": " **better**", "worse": " **worse**"}.get(c["verdict"], "") if c else ""
            )
            cells.append(f"{_f(c['seeds']['mean'], True)}{mark}" if c else "")
        if m != base and any(cells):
            lines.append(f"| {LABELS[m]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) if len(lines) > 2 else ""


def goal_table(res: dict, summ: dict, pool: str, budgets: list[float], base: str = "random") -> str:
    """Per evaluation (the pool's own mix first, then the other tasks) and budget: the
    methods that beat ``base`` (both intervals), best first, with their paired mean."""
    evs = [ev for ev in res["pools"][pool]["evals"] if summ["values"].get((pool, ev))]
    lines = [
        "| evaluated on | "
        + " | ".join(f"beats {LABELS[base].lower()} at {b:.0%}" for b in budgets)
        + " |",
        "|---|" + "---|" * len(budgets),
    ]
    for ev in evs:
        cells = []
        for b in budgets:
            cs = [
                c
                for m in METHODS
                if (c := _find(summ, pool, ev, m, base, b)) and c["verdict"] == "better"
            ]
            cs.sort(key=lambda c: c["seeds"]["mean"])
            cells.append(
                "; ".join(f"{LABELS[c['a']]} {_f(c['seeds']['mean'], True)}" for c in cs) or "none"
            )
        title = res["pools"][pool]["evals"][ev]["title"]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
