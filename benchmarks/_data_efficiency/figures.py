"""The benchmark's plots (metric vs budget, paired difference to random)."""

from __future__ import annotations

import math
from pathlib import Path

from .methods import LABELS, METHODS
from .summary import _find


def plot(res: dict, summ: dict, pool: str, ev: str, path: Path) -> None:
    """Left: metric vs budget, one line per method, t-interval bands, full data dashed.
    Right: the paired difference to random (same seed) with its t-interval band."""
    from matplotlib.figure import Figure

    vals = summ["values"][(pool, ev)]
    info = res["pools"][pool]["evals"][ev]
    fig = Figure(figsize=(12, 4.8), dpi=100, layout="constrained")
    ax, axd = fig.subplots(1, 2)
    cmap = {m: f"C{i}" for i, m in enumerate(METHODS)}

    def style(m: str) -> tuple[str, float]:
        main = m in ("random", "s2l", "random_by_source", "s2l_in_step")
        return ("-" if main else ":"), (2.2 if m in ("random", "s2l") else 1.3)

    for m in METHODS:
        pts = sorted((b, iv) for (mm, b), iv in vals.items() if mm == m and b < 1.0)
        if not pts:
            continue
        xs = [100 * b for b, _ in pts]
        ls, lw = style(m)
        ax.plot(
            xs, [iv.mean for _, iv in pts], ls, marker="o", lw=lw, color=cmap[m], label=LABELS[m]
        )
        lo = [iv.low if math.isfinite(iv.low) else iv.mean for _, iv in pts]
        hi = [iv.high if math.isfinite(iv.high) else iv.mean for _, iv in pts]
        ax.fill_between(xs, lo, hi, color=cmap[m], alpha=0.10)
        cs = [_find(summ, pool, ev, m, "random", b) for b, _ in pts] if m != "random" else []
        cs = [(100 * c["budget"], c["seeds"]) for c in cs if c]
        if cs:
            dx = [x for x, _ in cs]
            axd.plot(dx, [c["mean"] for _, c in cs], ls, marker="o", lw=lw, color=cmap[m])
            dlo = [c["low"] if math.isfinite(c["low"]) else c["mean"] for _, c in cs]
            dhi = [c["high"] if math.isfinite(c["high"]) else c["mean"] for _, c in cs]
            axd.fill_between(dx, dlo, dhi, color=cmap[m], alpha=0.08)
    if ("full", 1.0) in vals:
        iv = vals[("full", 1.0)]
        ax.axhline(iv.mean, color="black", ls="--", lw=1, label="Full data (100%)")
        if math.isfinite(iv.low):
            ax.axhspan(iv.low, iv.high, color="black", alpha=0.06)
    axd.axhline(0.0, color=cmap["random"], lw=2.2)
    metric = "answer-token loss" if info["lower_is_better"] else "ROUGE-L F1"
    better = "lower is better" if info["lower_is_better"] else "higher is better"
    for a in (ax, axd):
        a.set_xlabel("budget (% of the pool's training rows)")
        a.grid(alpha=0.3)
    ax.set_ylabel(f"{metric} ({better})")
    axd.set_ylabel(f"{metric}: method − random, same seed")
    ax.set_title(f"{res['pools'][pool]['title']}: {info['title']}", fontsize=10)
    axd.set_title("paired difference to random (95% t-interval over seeds)", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.savefig(path)
