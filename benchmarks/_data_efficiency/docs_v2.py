"""The generated v2 section of ``docs/benchmarks.md``, its reading, and ``write_docs``."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from .methods import LABELS, METHODS
from .summary import EXTRA_PAIRS, _verdict_counts
from .tables import _f, diff_table, pair_table, value_table

DOCS_START = "<!-- data-efficiency:start -->"
DOCS_END = "<!-- data-efficiency:end -->"
HEADLINE_START = "<!-- data-efficiency-headline:start -->"
HEADLINE_END = "<!-- data-efficiency-headline:end -->"
TRANSFER_START = "<!-- data-efficiency-transfer:start -->"
TRANSFER_END = "<!-- data-efficiency-transfer:end -->"
ALL_ENDS = (DOCS_END, TRANSFER_END, HEADLINE_END)


def _where(cs: list[dict], res: dict) -> str:
    return ", ".join(
        f"{c['pool']}/{res['pools'][c['pool']]['evals'][c['eval']]['title']} at {c['budget']:.0%}"
        for c in cs
    )


def reading(res: dict, summ: dict) -> str:
    """The generated plain-words reading (counts of verdicts, where S2L does not win)."""
    parts = []
    for a, b in [("s2l", "random"), *EXTRA_PAIRS] + [
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
