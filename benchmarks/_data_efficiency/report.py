"""Summaries, tables, plots and the generated ``docs/benchmarks.md`` section of the v2 benchmark."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from .methods import LABELS, METHODS
from .runner import load_arrays
from .stats import Interval, bootstrap_interval, seed_interval, verdict

DOCS_START = "<!-- data-efficiency:start -->"
DOCS_END = "<!-- data-efficiency:end -->"
ORDER = [*METHODS, "full"]


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
                if "s2l" in methods and "random_by_source" in methods:
                    pairs.append(("s2l", "random_by_source"))
                if "s2l" in methods and "s2l_in_step" in methods:
                    pairs.append(("s2l_in_step", "s2l"))
                for a, bb in pairs:
                    c = compare(res, out, pool, ev, a, bb, b)
                    if c is not None:
                        summ["comparisons"].append(c)
    return summ


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


def _find(summ: dict, pool: str, ev: str, a: str, b: str, budget: float) -> dict | None:
    for c in summ["comparisons"]:
        if (c["pool"], c["eval"], c["a"], c["b"], c["budget"]) == (pool, ev, a, b, budget):
            return c
    return None


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


def _verdict_counts(summ: dict, a: str, b: str) -> tuple[list[dict], list[dict], int]:
    cs = [c for c in summ["comparisons"] if c["a"] == a and c["b"] == b]
    return (
        [c for c in cs if c["verdict"] == "better"],
        [c for c in cs if c["verdict"] == "worse"],
        len(cs),
    )


def _where(cs: list[dict], res: dict) -> str:
    return ", ".join(
        f"{c['pool']}/{res['pools'][c['pool']]['evals'][c['eval']]['title']} at {c['budget']:.0%}"
        for c in cs
    )


def reading(res: dict, summ: dict) -> str:
    """The generated plain-words reading (counts of verdicts, where S2L does not win)."""
    parts = []
    for a, b in [("s2l", "random"), ("s2l", "random_by_source"), ("s2l_in_step", "s2l")] + [
        (m, "random") for m in METHODS if m not in ("random", "s2l")
    ]:
        better, worse, n = _verdict_counts(summ, a, b)
        if not n:
            continue
        txt = (
            f"- **{LABELS[a]} vs {LABELS[b]}**: better in {len(better)}, worse in {len(worse)}, "
            f"within the noise in {n - len(better) - len(worse)} of {n} (pool, evaluation, "
            "budget) cells."
        )
        if (a, b) == ("s2l", "random") and n - len(better):
            txt += (
                f" So S2L does **not** beat random in {n - len(better)} of the {n} cells "
                "(worse or no detectable difference)."
            )
        if better:
            txt += f" Better: {_where(better, res)}."
        if worse:
            txt += f" Worse: {_where(worse, res)}."
        parts.append(txt)
    return "\n".join(parts)


def docs_section(res: dict, summ: dict, command: str, png: dict[tuple[str, str], str]) -> str:
    cfg = res["config"]
    inv = res.get("invocations", [])
    wall = sum(i["wall_seconds"] for i in inv)
    compute = sum(r["seconds"] for r in res["runs"]) + sum(
        p.get("seconds", 0) for p in res["proxies"].values()
    )
    with_cpu = [r for r in res["runs"] if "cpu_seconds" in r]
    cpu = sum(r["cpu_seconds"] for r in with_cpu) + sum(
        p.get("cpu_seconds", 0) for p in res["proxies"].values()
    )
    cpu_txt = (
        f" The processes' own CPU time, which the other jobs do not inflate, was {cpu / 60:.0f}"
        f" min for the {len(with_cpu)} runs that recorded it (of {len(res['runs'])}) and the "
        f"proxies: on an idle 2-core machine with 2 workers the grid takes about half of the "
        f"total CPU time, scaled to every run ≈ "
        f"{cpu / max(len(with_cpu), 1) * len(res['runs']) / 2 / 60:.0f} min."
        if with_cpu
        else ""
    )
    loads = [i.get("load_start") for i in inv] + [i.get("load_end") for i in inv]
    loads = [x for x in loads if x is not None]
    tparams = next((r["target_parameters"] for r in res["runs"]), None)
    pparams = {k: v["parameters"] for k, v in res["proxies"].items()}
    pp = max(pparams.values()) if pparams else None
    n_expected = 0
    for info in res["pools"].values():
        ms = [m for m in cfg["methods"] if info["multi_source"] or not METHODS[m].multi_source_only]
        n_expected += len(ms) * len(cfg["budgets"]) * len(cfg["seeds"]) + len(cfg["seeds"])
    partial = res.get("partial_budgets", [])
    missing = len(res.get("missing_runs", []))
    pools_txt = []
    for name, info in res["pools"].items():
        evs = "; ".join(
            f"{e['title']} ({e['rows']} rows"
            + (f", loss on the tokens after “{e['prefix']}”" if e["prefix"] else "")
            + ")"
            for e in info["evals"].values()
        )
        pools_txt.append(
            f"- **{name}** — {info['title']}: {info['train_rows']:,} training rows "
            f"({', '.join(f'{k} {v:,}' for k, v in info['sources'].items())}; mean "
            f"{info['mean_tokens']} tokens; {info['dropped_no_target']} rows whose prompt filled "
            f"max_length dropped). Evaluations: {evs}."
        )
    sections = []
    for pool, info in res["pools"].items():
        sections.append(f"### Pool `{pool}`: {info['title']}\n")
        for ev, e in info["evals"].items():
            if (pool, ev) not in summ["values"] or not summ["values"][(pool, ev)]:
                continue
            unit = (
                "answer-token loss, lower is better"
                if e["lower_is_better"]
                else ("ROUGE-L F1, higher is better")
            )
            sections.append(
                f"**{e['title']}** ({unit}). Mean over seeds [95% t-interval]:\n\n"
                f"{value_table(res, summ, pool, ev)}\n\n"
                f"Paired difference to random (same seed), mean (t: 95% t-interval over seeds; "
                f"b: 95% bootstrap over evaluation examples):\n\n"
                f"{diff_table(res, summ, pool, ev)}\n\n"
                f"![{pool} {e['title']}]({png[(pool, ev)]})\n"
            )
    s2l_rs = pair_table(res, summ, "s2l", "random_by_source")
    free = pair_table(res, summ, "s2l_in_step", "s2l")
    in_better, in_worse, in_n = _verdict_counts(summ, "s2l_in_step", "s2l")
    deltas = [
        c["seeds"]["mean"]
        for c in summ["comparisons"]
        if (c["a"], c["b"]) == ("s2l_in_step", "s2l")
    ]
    free_txt = (
        f"Over {in_n} cells, S2L on the in-step columns is within the noise of S2L on the probe "
        f"columns in {in_n - len(in_better) - len(in_worse)}, better in {len(in_better)}, worse "
        f"in {len(in_worse)} (mean paired difference {_f(float(np.mean(deltas)) if deltas else math.nan, True)})."
        if in_n
        else "Not measured."
    )
    missing_txt = (
        f"\n**Incomplete**: {missing} of {n_expected} planned target runs are missing"
        + (
            f"; budget(s) {', '.join(f'{b:.0%}' for b in partial)} are left out of every table "
            "below, since they lack runs"
            if partial
            else ""
        )
        + " (rerun the command: it resumes).\n"
        if missing > 0
        else ""
    )
    shown = [b for b in cfg["budgets"] if b not in partial]
    return f"""{DOCS_START}
## Data efficiency (v2: official protocol, paired statistics)

*Generated by `benchmarks/data_efficiency.py`; do not edit by hand (rerun with `--write-docs`).*

Does choosing a target's training subset with a small proxy's loss trajectories beat choosing
it at random, **at the same budget, with the same training**? Command (resumable: every
target run is cached, a rerun skips finished ones):

```bash
{command}
```

Runtime: {wall / 60:.0f} min wall time over the {len(inv)} invocation(s) that ran to the end
(an interrupted invocation logs nothing; its finished runs are kept), {compute / 60:.0f} min
of per-run wall time summed over runs, {cfg["workers"]} worker process(es) x {cfg["threads"]} torch thread(s) on
the {res["machine"]["cpu_count"]}-core CPU machine{f", load average {min(loads):.1f}–{max(loads):.1f} from other jobs" if loads else ""}).{cpu_txt}
{missing_txt}
**Protocol (the official S2L one, all from scratch and offline).** Proxy: GPT-NeoX,
{(pp or 0) / 1e6:.3f}M parameters, {cfg["proxy_epochs"]} epochs, recorded with the default
`RecordingSchedule` (step 0, 12 points spread over training, epoch ends) in `mode="both"`
(probe columns + the free in-step losses). Target: GPT-NeoX, {(tparams or 0) / 1e6:.3f}M
parameters ({(tparams or 0) / max(pp or 1, 1):.1f}x the proxy), trained {cfg["epochs"]} epoch(s) on every subset and on the
full data with one set of hyper-parameters (AdamW, learning rate {cfg["learning_rate"]},
{cfg["scheduler"]} schedule, {cfg["warmup_ratio"]:.0%} warm-up, batch {cfg["batch_size"]}, byte-level BPE
vocabulary {cfg["vocab_size"]}, max {cfg["max_length"]} tokens, Alpaca prompt masked).
Budgets {", ".join(f"{b:.0%}" for b in shown)}; seeds {", ".join(map(str, cfg["seeds"]))}
(the seed drives the selection and the target's initialisation and data order; the proxy
and the splits are fixed). No method is tuned.

Pools (a fixed 10% of every source held out, never trained on):

{chr(10).join(pools_txt)}

Methods (`hf_s2l.select`; the table is `benchmarks/_data_efficiency/methods.py`): random;
random by source (the budget split over sources exactly as S2L's source loop: the control
that separates the clustering's effect from the source mix's); S2L by source (K =
{cfg["s2l_num_clusters"]} k-means clusters per source on the 12 after-start probe columns);
S2L pooled (no source split); S2L on the in-step columns (one loss per epoch, recorded for free
during the proxy's training); LP clustered (official: the lowest LP(1) of every k-means cluster
of all-MiniLM-L6-v2 embeddings of “Instruction: … Response: …”, one cluster per
{cfg["lp_rows_per_cluster"]} rows as the paper's 1,000 for 52K); LP global (lowest LP(1)
overall); middle perplexity; least confidence; high learnability; full data.

**Statistics.** For every method and budget: the paired difference to random on the same
seed, its mean and 95% t-interval over the {len(cfg["seeds"])} seeds (t with
{len(cfg["seeds"]) - 1} degrees of freedom), and a 95% paired bootstrap over the evaluation
examples ({cfg["n_boot"]} resamples, the same resample for every seed and both methods).
A difference is called **better**/**worse** only when both intervals exclude zero; anything
else is within the noise. (`benchmarks/_data_efficiency/stats.py`, unit-tested.)

{chr(10).join(sections)}
### S2L by source vs random by source (same per-source counts)

{s2l_rs or "Not measured."}

### Free trajectories: S2L on in-step columns vs on probe columns

{free or ""}

{free_txt}

### Reading

{reading(res, summ)}

What this does and does not show: these are tiny GPT-NeoX models trained from scratch on a
few hundred rows per pool, not the paper's setting (pretrained Pythia-70M → 410M / Phi-2
fine-tuned on 262K MathInstruct rows): a from-scratch target mostly learns the surface format,
so the differences between subsets are small and the seed-to-seed noise is large (3 seeds give
wide t-intervals). A cell marked within the noise means *no detectable difference at this
scale*, not that the methods are equal. Raw per-run results (examples, per-source counts,
metrics, seconds, selection provenance) are in `<out>/<pool>/runs/*.json`; per-example
losses in the `.npz` next to them; everything above in `<out>/results.json`.
{DOCS_END}
"""


def write_docs(section: str, docs: Path, start: str = DOCS_START, end: str = DOCS_END) -> None:
    """Replace the section of ``docs`` marked ``start``…``end`` and nothing else; when it is
    absent, insert it after the last data-efficiency section (else at the end)."""
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if not (section.startswith(start) and section.rstrip().endswith(end)):
        raise ValueError(f"the section must start with {start!r} and end with {end!r}")
    if start in text and end in text:
        text = re.sub(
            re.escape(start) + ".*?" + re.escape(end) + "\n?",
            lambda _: section,
            text,
            count=1,
            flags=re.S,
        )
    else:
        ends = [text.find(e) + len(e) for e in ALL_ENDS if e in text]
        if ends:
            at = max(ends)
            rest = text[at:].lstrip("\n")
            text = text[:at] + "\n\n" + section + ("\n" + rest if rest else "")
        else:
            text = text.rstrip("\n") + "\n\n" + section
    docs.write_text(text)


# ------------------------------------------------------------------ transfer and headline
HEADLINE_START = "<!-- data-efficiency-headline:start -->"
HEADLINE_END = "<!-- data-efficiency-headline:end -->"
TRANSFER_START = "<!-- data-efficiency-transfer:start -->"
TRANSFER_END = "<!-- data-efficiency-transfer:end -->"
ALL_ENDS = (DOCS_END, TRANSFER_END, HEADLINE_END)
#: the v2 grid's full-data held-out answer loss on its 250-row math mix (its section above)
V2_MIX_FULL_HELDOUT = 5.021


def transfer_position(value: float | None, floor: float | None, ceiling: float | None) -> float:
    """Where ``value`` lies from ``floor`` (0) to ``ceiling`` (1); ``nan`` when a figure is
    missing or the ceiling is not above the floor."""
    vals = [value, floor, ceiling]
    if any(v is None or not math.isfinite(v) for v in vals):
        return math.nan
    if ceiling - floor <= 1e-9:
        return math.nan
    return (value - floor) / (ceiling - floor)


def cluster_margin(fig: dict | None) -> float:
    """``variance_explained - variance_explained_random`` (what S2L's clusters carry over)."""
    if not fig or "error" in fig:
        return math.nan
    a, b = fig.get("variance_explained"), fig.get("variance_explained_random")
    if a is None or b is None:
        return math.nan
    return float(a) - float(b)


def premise_status(
    figs: dict[str, dict],
    pair: str = "proxy",
    ceiling: str = "ceiling",
    floor: str = "floor",
) -> tuple[str, float, float]:
    """``(status, rank position, cluster position)`` of the ``pair`` row between the
    ``floor`` and ``ceiling`` rows: ``"holds"`` when both positions are >= 2/3, ``"fails"``
    when both are < 1/3, ``"partly"`` otherwise, ``"unknown"`` without the three rows."""
    p, c, f = figs.get(pair), figs.get(ceiling), figs.get(floor)
    if not (p and c and f) or any("error" in x for x in (p, c, f)):
        return "unknown", math.nan, math.nan
    rank = transfer_position(p["spearman"], f["spearman"], c["spearman"])
    clus = transfer_position(cluster_margin(p), cluster_margin(f), cluster_margin(c))
    if not (math.isfinite(rank) and math.isfinite(clus)):
        return "unknown", rank, clus
    if rank >= 2 / 3 and clus >= 2 / 3:
        return "holds", rank, clus
    if rank < 1 / 3 and clus < 1 / 3:
        return "fails", rank, clus
    return "partly", rank, clus


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


def _verdict_of(v: Any) -> str:
    return v if isinstance(v, str) else v["verdict"]


def _diff_of(v: Any) -> str:
    if isinstance(v, str):
        return ""
    return f" ({_f(v['seeds']['mean'], True)} nats)"


def s2l_sentence(status: str, s2l: dict[str, Any]) -> str:
    """What the premise ``status`` means for S2L's held-out comparisons ``s2l``:
    ``{baseline: verdict or comparison dict}``, baselines ``random``/``random_by_source``,
    plus optionally ``"split"``: random by source vs random (the source loop's own effect)."""
    split = s2l.get("split")
    cmp = {b: v for b, v in s2l.items() if b != "split"}
    label = {b: LABELS.get(b, b).lower() for b in cmp}
    beats = [b for b, v in cmp.items() if _verdict_of(v) == "better"]
    loses = [b for b, v in cmp.items() if _verdict_of(v) == "worse"]
    names = " and ".join(label[b] for b in cmp)
    if beats and loses:
        won = " and ".join(label[b] + _diff_of(cmp[b]) for b in beats)
        lost = " and ".join(label[b] + _diff_of(cmp[b]) for b in loses)
        txt = f"On the held-out set S2L beats {won} but loses to {lost}."
        if "random_by_source" in beats and "random" in loses:
            txt += (
                " With the same per-source counts the clustering helps, so the proxy's view "
                "is usable; what loses to random is the source loop's budget split"
                + (
                    f" (random by source vs random{_diff_of(split)}: the pool's natural source "
                    "mix, which the held-out set follows, is distorted)"
                    if split is not None
                    else ""
                )
                + ". At this size the premise holds and S2L's own effect is real but "
                "smaller than what the split costs."
            )
        return txt
    if beats:
        return (
            f"S2L beats {' and '.join(label[b] for b in beats)} here, consistent with a proxy "
            "that stands for the target."
        )
    if status == "holds":
        return (
            f"Yet S2L does not beat {names} here: so at this scale it is the method (what "
            "sampling evenly over these clusters buys the target), not the proxy, that does "
            "not pay off."
        )
    if status == "fails":
        return (
            f"S2L does not beat {names} here, as expected when the proxy does not stand for "
            "the target: the premise, not the selection rule, is what fails first."
        )
    return (
        f"S2L does not beat {names} here: with a proxy that stands for the target only in "
        "part, the test cannot separate a weak method from a weak premise."
    )


def premise_reading(pool: str, figs: dict[str, dict], s2l: dict[str, Any] | None = None) -> str:
    """Plain words on one pool's transfer figures and, given S2L's held-out comparisons
    (``s2l``, see :func:`s2l_sentence`), on what they mean for the S2L result."""
    status, rank, clus = premise_status(figs)
    if status == "unknown":
        return f"`{pool}`: the transfer figures are incomplete (no verdict)."
    p, c, f = figs["proxy"], figs["ceiling"], figs["floor"]
    txt = (
        f"On `{pool}`, the target's per-example losses rank with the proxy's at Spearman "
        f"{_f(p['spearman'], nd=2)}, {rank:.0%} of the way from the shuffled floor "
        f"({_f(f['spearman'], nd=2)}) to the second-proxy ceiling ({_f(c['spearman'], nd=2)}); "
        f"the proxy's {p['k']} S2L clusters hold {p['variance_explained']:.0%} of the target's "
        f"trajectory variance vs {p['variance_explained_random']:.0%} for random clusters of "
        f"the same sizes, a margin {clus:.0%} of the way from the floor's to the ceiling's. "
    )
    txt += {
        "holds": "The premise holds at this size: the target finds hard what the proxy finds "
        "hard, and the proxy's clusters group examples the target also treats alike.",
        "fails": "The premise fails at this size: what the proxy learns says little more about "
        "the target than a random partition does.",
        "partly": "The premise holds only in part at this size: the proxy's view of the data "
        "carries over to the target, but clearly less than to another proxy.",
    }[status]
    st2, rank2, clus2 = premise_status(figs, "proxy_in_step", "ceiling_in_step")
    if st2 != "unknown":
        txt += (
            f" Like for like (the proxy's free in-step losses vs those of a target of another "
            f"seed, so another data order; both epoch means of training losses), the ranks sit "
            f"{rank2:.0%} and the cluster margin {clus2:.0%} of the way to the in-step ceiling "
            f"(Spearman {_f(figs['proxy_in_step']['spearman'], nd=2)} vs "
            f"{_f(figs['ceiling_in_step']['spearman'], nd=2)})."
        )
    tt = figs.get("target_seeds")
    if tt and "error" not in tt and math.isfinite(tt.get("spearman", math.nan)):
        cmp = "as well as" if p["spearman"] >= tt["spearman"] - 0.05 else "less well than"
        txt += (
            f" The proxy predicts the target's losses {cmp} another run of the target itself "
            f"does (target → target of another seed: Spearman {_f(tt['spearman'], nd=2)}, "
            f"margin {_f(cluster_margin(tt), True, 2)}): the target's own seed-to-seed noise "
            "is the practical ceiling."
        )
    same = figs.get("proxy_in_step_same_order")
    other = figs.get("proxy_in_step")
    if same and other and "error" not in same and "error" not in other:
        carry = same["spearman"] - other["spearman"] > 0.05
        head = " In-step losses carry the data order" if carry else " The data order hardly matters"
        txt += (
            f"{head}: against the target that shares the proxy's seed (and so its order) the "
            f"in-step Spearman is {_f(same['spearman'], nd=2)}, against another seed's "
            f"{_f(other['spearman'], nd=2)}."
        )
    if s2l:
        txt += " " + s2l_sentence(status, s2l)
    return txt


def transfer_block(res: dict, figs: dict[str, dict[str, dict]]) -> str:
    """Every pool's transfer table and reading (no header)."""
    parts = []
    for pool in res["pools"]:
        if pool not in figs:
            parts.append(f"`{pool}`: no transfer stores recorded.\n")
            continue
        parts.append(
            f"**`{pool}`** ({res['pools'][pool]['train_rows']:,} rows):\n\n"
            f"{transfer_table(figs[pool])}\n\n{premise_reading(pool, figs[pool])}\n"
        )
    return "\n".join(parts)


_TRANSFER_HOW = """\
Figures of `hf_s2l.transfer(proxy, target, k=K)` (K: the benchmark's S2L clusters per
source x the pool's sources), computed from stores the benchmark keeps, no retraining:
the proxy's probe store (the one the S2L rows select with) against the **full-data
target's free in-step store** (`TrajectoryCallback(mode="in_step")`, one column per epoch,
first seed), rows aligned by `example_id`, columns matched by training progress.
*Ceiling*: the proxy against a second proxy of another seed (same size, same data), i.e.
how well one run's view stands for any other run's. *Floor*: the proxy against the target
with its example ids permuted (no relation). *Margin*: variance explained − the same for
random clusters of the same sizes (what S2L's clusters carry over). LP hardest overlap:
Jaccard of the 30% lowest LP(1); n/a where a store has no before-training column (the
in-step target has none)."""


def transfer_section(res: dict, figs: dict[str, dict[str, dict]], command: str) -> str:
    """The generated section with the v2 pools' transfer figures."""
    cfg = res["config"]
    return f"""{TRANSFER_START}
## Does the premise hold? Proxy → target transfer on the v2 pools

*Generated by `benchmarks/data_efficiency.py`; do not edit by hand (rerun with `--write-docs`).*

```bash
{command}
```

Trains only what the figures need, on the v2 configuration: the two proxies
(seeds {", ".join(map(str, cfg.get("proxy_seeds", (0, 1))))}) and the full-data target
of seeds {", ".join(map(str, cfg["seeds"][:2]))} of every pool (the v2 grid's own runs,
cached alongside).
{_TRANSFER_HOW}

{transfer_block(res, figs)}
What these figures mean for the S2L results of the v2 grid, and at a scale where the target
learns: the headline section below, which has both.
{TRANSFER_END}
"""


def source_table(res: dict, pool: str, seed: int) -> str:
    """Rows per source of every run of ``seed`` on ``pool`` (full data first)."""
    runs = [r for r in res["runs"] if r["pool"] == pool and r["seed"] == seed]
    order = {m: i for i, m in enumerate(ORDER)}
    runs.sort(key=lambda r: (r["method"] != "full", order.get(r["method"], 99)))
    srcs = sorted({k for r in runs for k in r.get("per_source", {})})
    if not runs or not srcs:
        return ""
    lines = ["| method | " + " | ".join(srcs) + " |", "|---|" + "---:|" * len(srcs)]
    for r in runs:
        name = LABELS.get(r["method"], r["method"])
        cells = [f"{r['per_source'].get(k, 0):,}" for k in srcs]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def full_vs_random(res: dict, pool: str, ev: str, budget: float) -> Interval | None:
    """Full data − random at ``budget`` (same seed): does the amount of data show?"""
    vals = _values(res, pool, ev)
    full, rnd = vals.get(("full", 1.0), {}), vals.get(("random", budget), {})
    if not full or not rnd:
        return None
    return seed_interval(full, rnd)


def headline_section(
    res: dict,
    summ: dict,
    figs: dict[str, dict[str, dict]],
    command: str,
    png: dict[tuple[str, str], str],
) -> str:
    """The generated headline section: >= 4,000 rows, trimmed methods, transfer, reading."""
    cfg = res["config"]
    inv = res.get("invocations", [])
    wall = sum(i["wall_seconds"] for i in inv)
    loads = [x for i in inv for x in (i.get("load_start"), i.get("load_end")) if x is not None]
    proxies_meta = list(res["proxies"].values()) + list(res.get("second_proxies", {}).values())
    cpu = sum(r.get("cpu_seconds", 0) for r in res["runs"]) + sum(
        p.get("cpu_seconds", 0) for p in proxies_meta
    )
    tparams = next((r["target_parameters"] for r in res["runs"]), 0)
    pparams = max((p["parameters"] for p in res["proxies"].values()), default=1)
    budgets = [b for b in cfg["budgets"] if b not in res.get("partial_budgets", [])]
    missing = len(res.get("missing_runs", []))
    ((pool, info),) = res["pools"].items()
    srcs = ", ".join(f"{k} {v:,}" for k, v in info["sources"].items())
    vals = summ["values"].get((pool, "heldout"), {})
    full = vals.get(("full", 1.0))
    learn = []
    if full is not None:
        learn.append(
            f"Full data brings the held-out answer loss to **{_f(full.mean)} nats** "
            f"[{_f(full.low)}, {_f(full.high)}] (v2's 250-row pool: {V2_MIX_FULL_HELDOUT:.3f}; "
            f"an untrained model: about ln {cfg['vocab_size']} = "
            f"{math.log(cfg['vocab_size']):.2f})"
        )
    for b in budgets:
        r = vals.get(("random", b))
        d = full_vs_random(res, pool, "heldout", b)
        if r is not None and d is not None:
            shows = (
                "at this scale the amount of data clearly shows in the target's loss"
                if d.excludes_zero() and d.mean < 0
                else "the amount of data does not clearly show in the target's loss"
            )
            learn.append(
                f"random {b:.0%} reaches {_f(r.mean)} [{_f(r.low)}, {_f(r.high)}]; full data "
                f"− random {b:.0%} = {_f(d.mean, True)} nats (95% t-interval over seeds "
                f"{_f(d.low, True)}…{_f(d.high, True)}): {shows}"
            )
    learn_txt = "; ".join(learn) + "." if learn else ""
    tables = []
    for ev, e in info["evals"].items():
        if not summ["values"].get((pool, ev)):
            continue
        tables.append(
            f"**{e['title']}** (answer-token loss, lower is better). Mean over seeds "
            f"[95% t-interval]:\n\n{value_table(res, summ, pool, ev)}\n\n"
            f"Paired difference to random (same seed), mean (t: 95% t-interval over seeds; "
            f"b: 95% bootstrap over evaluation examples):\n\n{diff_table(res, summ, pool, ev)}"
            + (f"\n\n![{pool} {e['title']}]({png[(pool, ev)]})" if (pool, ev) in png else "")
            + "\n"
        )
    s2l_verdicts: dict[str, Any] = {
        c["b"]: c
        for c in summ["comparisons"]
        if c["pool"] == pool
        and c["eval"] == "heldout"
        and c["a"] == "s2l"
        and c["b"] in ("random", "random_by_source")
    }
    split = None
    if budgets:
        split = _find(summ, pool, "heldout", "random_by_source", "random", budgets[0])
    if split is not None and s2l_verdicts:
        s2l_verdicts["split"] = split
    tfig = figs.get(pool, {})
    missing_txt = (
        f"\n**Incomplete**: {missing} planned target runs are missing (rerun the command: it "
        "resumes).\n"
        if missing
        else ""
    )
    method_list = ", ".join(LABELS[m] for m in cfg["methods"]) + ", full data"
    shown = sorted({s for b in budgets for s in res.get("reported_seeds", {}).get(f"{b:g}", [])})
    shown = shown or list(cfg["seeds"])
    seeds_txt = f"{len(shown)} seeds ({', '.join(map(str, shown))})" + (
        f", of the {len(cfg['seeds'])} planned (the others did not finish)"
        if len(shown) < len(cfg["seeds"])
        else ""
    )
    return f"""{HEADLINE_START}
## Data efficiency: the headline at {info["train_rows"]:,} rows, where the target learns

*Generated by `benchmarks/data_efficiency.py`; do not edit by hand (rerun with `--write-docs`).*

The v2 pools above are so small (≈250 rows) that even full data leaves the target's held-out
loss near 5 nats, and differences between subsets drown in noise. This run keeps the v2
protocol and statistics on the math mixture at {info["train_rows"]:,} training rows
({srcs}; mean {info["mean_tokens"]} tokens; {info["evals"]["heldout"]["rows"]} held-out rows), with the trimmed
method set ({method_list}) at {", ".join(f"{b:.0%}" for b in budgets)},
{seeds_txt}.

```bash
{command}
```

Runtime: {wall / 60:.0f} min wall time over {len(inv)} invocation(s), {cfg["workers"]} worker
process(es) x {cfg["threads"]} torch thread(s) under `nice -n 5` on the
{res["machine"]["cpu_count"]}-core machine shared with other jobs{f" (load average {min(loads):.1f}–{max(loads):.1f})" if loads else ""};
the processes' own CPU time {cpu / 60:.0f} min. The two proxies took
{" and ".join(f"{p.get('seconds', 0) / 60:.0f}" for p in proxies_meta)} min wall each
(trained and recorded once, cached; included in the CPU time).
{missing_txt}
**Sizes.** Proxy: GPT-NeoX {pparams / 1e6:.3f}M, {cfg["proxy_epochs"]} epochs, default
`RecordingSchedule`, `mode="both"`; a second proxy of seed {cfg.get("proxy_seeds", (0, 1))[-1]} for
the transfer ceiling. Target: GPT-NeoX {tparams / 1e6:.3f}M ({tparams / max(pparams, 1):.1f}x),
{cfg["epochs"]} epoch(s) on every subset and on the full data, learning rate
{cfg["learning_rate"]}, {cfg["scheduler"]}, {cfg["warmup_ratio"]:.0%} warm-up, batch
{cfg["batch_size"]}, vocabulary {cfg["vocab_size"]}, max {cfg["max_length"]} tokens; S2L K =
{cfg["s2l_num_clusters"]} clusters per source; LP one cluster per
{cfg["lp_rows_per_cluster"]} rows. The full-data targets record their free in-step losses
(`mode="in_step"`): the target stores of the transfer figures.

**Does the target learn?** {learn_txt}

{chr(10).join(tables)}
### S2L by source vs random by source (same per-source counts)

{pair_table(res, summ, "s2l", "random_by_source") or "Not measured."}

Rows per source each method trains on (seed {cfg["seeds"][0]}; the held-out set follows the
pool's own mix):

{source_table(res, pool, cfg["seeds"][0])}

### Verdicts

{reading(res, summ)}

### Does the premise hold at this size? Proxy → target transfer

{_TRANSFER_HOW}

{transfer_table(tfig) if tfig else "No transfer stores recorded."}

{premise_reading(pool, tfig, s2l_verdicts) if tfig else ""}
{HEADLINE_END}
"""
