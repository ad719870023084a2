"""The method comparison as one table: the report's page and the demo's ``results.md`` alike.

:func:`comparison_table` turns :func:`~hf_s2l.report.compare.comparison`'s rows into a
:class:`ComparisonTable` (formatted cells and the closing notes); :meth:`~ComparisonTable.
to_markdown` and :meth:`~ComparisonTable.to_html` only lay it out, so both outputs carry the
same cells. Outcome columns (``results`` passed to ``build_report``) get readable names,
units and "lower is better"; the first loss gets a "vs random" column; every row shows its
per-group counts beside its losses, and a subset whose mix differs from the pool's is named
in a note (an evaluation drawn from one source favours subsets concentrated on it).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OUTCOME_LABELS", "ComparisonTable", "comparison_table", "outcome_label"]

#: Readable names of the outcome keys the demo (and most users) pass.
OUTCOME_LABELS = {
    "heldout_loss": "held-out loss",
    "heldout_perplexity": "held-out perplexity",
    "gsm8k_test_loss": "GSM8K test loss",
    "train_seconds": "target training time",
    "eval_loss": "eval loss",
    "accuracy": "accuracy",
}
#: A subset whose per-group shares differ from the pool's by this much (total variation
#: distance) is named in a note.
MIX_DISTANCE = 0.25


def lower_is_better(key: str) -> bool:
    """Losses and perplexities: lower is better (a time is a cost, not an outcome)."""
    return key.endswith(("loss", "perplexity"))


def outcome_label(key: str) -> str:
    """The column name of outcome ``key`` (``heldout_loss`` -> ``held-out loss``)."""
    return OUTCOME_LABELS.get(key, key.replace("_", " "))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _fmt(key: str, v: Any, scale: float | None = None) -> str:
    """One cell; ``scale`` (the column's largest magnitude) gives a column one precision."""
    if isinstance(v, bool) or v is None or v == "":
        return "" if v in (None, "") else str(v)
    if _is_number(v):
        if key.endswith("seconds"):
            return f"{v:.1f} s"
        if isinstance(v, int):
            return f"{v:,}"
        m = abs(v) if scale is None else scale
        return f"{v:.4f}" if m < 100 else f"{v:.1f}" if m < 1e4 else f"{v:.0f}"
    return str(v)


def _column_scale(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [abs(v) for r in rows if _is_number(v := (r.get("results") or {}).get(key))]
    return max(vals) if vals else None


@dataclass
class ComparisonTable:
    """Formatted cells of the method comparison and the sentences that close it."""

    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        """A markdown table, then the notes as one paragraph each."""
        esc = [[c.replace("|", "\\|") for c in r] for r in [self.header, *self.rows]]
        lines = ["| " + " | ".join(esc[0]) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
        return "\n".join(lines) + "".join(f"\n\n{n}" for n in self.notes)

    def to_html(self) -> str:
        """An HTML table, then the notes as paragraphs (every value escaped)."""
        out = ["<table class='comparison'>"]
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in self.header) + "</tr>")
        for r in self.rows:
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
        out.append("</table>")
        out += [f"<p class='note'>{html.escape(n)}</p>" for n in self.notes]
        return "\n".join(out)


def _result_keys(rows: list[dict[str, Any]]) -> list[str]:
    keys: list[str] = []
    for r in rows:
        for k, v in (r.get("results") or {}).items():
            shown = k in ("examples", "label", "seed")  # already a column
            if k not in keys and not shown and not isinstance(v, (dict, list)):
                keys.append(k)
    return keys


def _is_random(r: Mapping[str, Any]) -> bool:
    return r.get("method") == "random" and r.get("label") in ("random", "Random", r.get("method"))


def _mix_note(rows: list[dict[str, Any]], sizes: Mapping[str, int], col: str) -> str | None:
    """Name the subsets whose per-group mix is far from the pool's (and what that means)."""
    total = sum(sizes.values())
    if not total or len(sizes) < 2:
        return None
    pool = {k: v / total for k, v in sizes.items()}
    parts = []
    for r in rows:
        g = r.get("groups") or {}
        n = sum(g.values())
        if not n or "error" in r:
            continue
        share = {k: g.get(k, 0) / n for k in pool}
        distance = 0.5 * sum(abs(share[k] - pool[k]) for k in pool)
        missing = [k for k in pool if pool[k] > 0 and not g.get(k)]
        if distance < MIX_DISTANCE and not missing:
            continue
        top = max(share, key=lambda k: share[k] - pool[k])
        txt = f"{r['label']} is {share[top]:.0%} {top} (the pool: {pool[top]:.0%})"
        if missing:
            txt += f" and has no {', '.join(missing)} rows"
        parts.append(txt)
    if not parts:
        return None
    return (
        f"Subsets whose {col} mix differs from the pool's: {'; '.join(parts)}. A loss measured "
        f"on data drawn mostly from one {col} favours a subset concentrated on it, and one "
        f"that follows the pool's mix favours subsets that keep it: read each row's losses "
        f"with its per-{col} counts."
    )


def comparison_table(comp: Mapping[str, Any], num_examples: int) -> ComparisonTable:
    """The comparison (:func:`~hf_s2l.report.compare.comparison`'s dict) as one table."""
    rows = list(comp["rows"])
    keys = _result_keys(rows)
    primary = next((k for k in keys if k.endswith("loss")), None)
    rnd = next((r for r in rows if _is_random(r) and primary in (r.get("results") or {})), None)
    base = (rnd or {}).get("results", {}).get(primary)
    group_col = comp.get("group_column")
    step = comp.get("last_column_step")
    header = ["method", "examples"] + ([f"per {group_col}"] if group_col else [])
    for k in keys:
        header.append(outcome_label(k) + (" (lower is better)" if lower_is_better(k) else ""))
        if k == primary and base is not None:
            header.append("vs random")
    header += ["seed", f"proxy loss at step {step}", "unscored rows"]
    scales = {k: _column_scale(rows, k) for k in keys}
    body = []
    for r in rows:
        res = r.get("results") or {}
        if "error" in r:
            ex = f"failed: {r['error']}"
        elif "examples" in r:
            ex = f"{r['examples']:,}\u00a0({100.0 * r['examples'] / max(num_examples, 1):.0f}%)"
        else:  # an outcome without a selection (e.g. the full-data reference)
            e = res.get("examples")
            ex = "" if e is None else f"{e:,}\u00a0({100.0 * e / max(num_examples, 1):.0f}%)"
        line = [str(r["label"]), ex]
        if group_col:  # beside the losses: a subset's mix explains much of them
            line.append(", ".join(f"{k} {v:,}" for k, v in (r.get("groups") or {}).items()))
        for k in keys:
            line.append(_fmt(k, res.get(k), scales[k]))
            if k == primary and base is not None:
                v = res.get(k)
                diff = _is_number(v) and r is not rnd
                line.append(f"{v - base:+.4f}" if diff else "")
        line += [
            "" if r.get("seed") is None else str(r["seed"]),
            "-" if r.get("mean_last_loss") is None else f"{r['mean_last_loss']:.4f}",
            "" if r.get("unscored") is None else str(r["unscored"]),
        ]
        body.append(line)
    notes = []
    if keys:
        lower = [outcome_label(k) for k in keys if lower_is_better(k)]
        note = f"Lower is better for {', '.join(lower)}." if lower else ""
        if base is not None:
            note += (
                f" vs random: the row's {outcome_label(primary)} minus random's "
                f"({_fmt(primary, base)}); negative = better than random."
            )
        seeds = {r.get("seed") for r in rows if r.get("seed") is not None}
        if len(seeds) == 1:
            note += (
                " One seed per method: differences of this size can be seed-to-seed noise "
                "(docs/benchmarks.md measures them over 5 seeds with intervals)."
            )
        notes.append(note.strip())
    if group_col and comp.get("group_sizes"):
        mix = _mix_note(rows, comp["group_sizes"], group_col)
        if mix:
            notes.append(mix)
    notes.append(
        f"Proxy loss: mean loss of the chosen rows at the last complete recording point (step "
        f"{step}; all rows: {_fmt('loss', comp.get('mean_last_loss_all'))}). Unscored rows: chosen rows with "
        "no recorded loss."
    )
    return ComparisonTable(header=header, rows=body, notes=notes)
