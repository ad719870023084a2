"""Results tables: one row per trained run, one column per metric/dataset (+ average)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4f}"
    return str(v)


def results_table(
    results: dict[str, dict[str, Any]],
    columns: list[str] | None = None,
    average: list[str] | None = None,
) -> str:
    """A Markdown table of ``{run: {column: value}}``; ``average`` columns get an "average"."""
    columns = columns or sorted({k for r in results.values() for k in r})
    header = ["run", *columns] + (["average"] if average else [])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run, row in results.items():
        cells = [run] + [_fmt(row.get(c, "")) for c in columns]
        if average:
            vals = [row[c] for c in average if isinstance(row.get(c), int | float)]
            cells.append(_fmt(sum(vals) / len(vals)) if vals else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(
    output_dir: str | os.PathLike,
    results: dict[str, dict[str, Any]],
    *,
    columns: list[str] | None = None,
    average: list[str] | None = None,
    title: str = "Results",
) -> Path:
    """Write ``results.json`` and ``results.md`` into ``output_dir``; returns the .md path."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    md = out / "results.md"
    md.write_text(f"# {title}\n\n" + results_table(results, columns, average))
    return md


def compare_runs(results: dict[str, dict[str, Any]], baseline: str = "full") -> str:
    """Markdown table of every run's metrics and their difference to ``baseline``."""
    if baseline not in results:
        raise KeyError(f"baseline run {baseline!r} not in results (have {sorted(results)})")
    base = results[baseline]
    cols = [c for c in base if isinstance(base[c], int | float)]
    header = ["run"] + [f"{c} (Δ vs {baseline})" for c in cols]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for run, row in results.items():
        cells = [run]
        for c in cols:
            v = row.get(c)
            cells.append(
                f"{_fmt(v)} ({v - base[c]:+.4f})" if isinstance(v, int | float) else _fmt(v)
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
