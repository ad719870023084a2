"""``build_report``: an HTML page with PNG plots describing a trajectory store (and a selection).

The orchestration only: open the inputs, pick the plotted rows, run each section
(``sections.py``; the transfer section in ``transfer_section.py``), the comparison
(``compare.py``), then write the page (``html.py``) and ``report.json``.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from transformers.utils import logging

from . import sections
from .compare import SelectionLike, comparison, load_results, named_selections, run_methods
from .figures import FigureInfo, Report, pick_clusters, save_figure
from .html import render_html

if TYPE_CHECKING:  # pragma: no cover
    from ..store.trajectory_store import TrajectoryStore

logger = logging.get_logger(__name__)

__all__ = ["MAX_PLOT_ROWS", "FigureInfo", "Report", "SelectionLike", "build_report"]

#: Rows used for clustering and scatter plots; larger stores are subsampled (seeded).
MAX_PLOT_ROWS = 200_000

# old private names (kept importable until the shims go)
_save = save_figure
_pick_clusters = pick_clusters


def _open_store(store: TrajectoryStore | str | os.PathLike) -> TrajectoryStore:
    from ..store.trajectory_store import TrajectoryStore

    return store if isinstance(store, TrajectoryStore) else TrajectoryStore.open(store)


def build_report(
    store: TrajectoryStore | str | os.PathLike,
    selection: SelectionLike | Sequence[SelectionLike] | Mapping[str, SelectionLike] | None = None,
    out: str | os.PathLike | None = None,
    *,
    compare: Sequence[SelectionLike] | Mapping[str, SelectionLike] | None = None,
    compare_methods: Sequence[str] = (),
    results: Sequence[Mapping[str, Any]] | str | os.PathLike | None = None,
    by_column: str | None = None,
    num_clusters: int | None = None,
    clusters_shown: int = 4,
    seed: int = 0,
    title: str | None = None,
    out_dir: str | os.PathLike | None = None,
    target_store: TrajectoryStore | str | os.PathLike | None = None,
) -> Report:
    """Write ``index.html`` and its PNG plots for ``store`` (and ``selection``) into ``out``.

    Plots: loss trajectories of a few clusters (k-means over the columns selection reads by
    default - the complete columns recorded after training starts, see
    :func:`hf_s2l.store.kinds.is_before_training`; rows with a NaN/±inf loss in them are left
    out, as selection's ``unscored`` policy does), the cluster-size histogram, the
    ``by_column`` group distribution of the full set vs the selection(s) (default column: the
    selection's ``by_column``, else ``source`` when the store has it), the LP(1) histogram
    (needs a before-training and two epoch-end columns; LP_app with one), the cartography
    data map (mean vs std of ``exp(-loss)`` over the same columns as the clusters) and the
    per-column loss/coverage summary. A plot whose
    inputs are missing is listed in :attr:`Report.skipped` with the reason, never faked.
    Plot titles and legends name the selection's method.

    With several selections (``selection`` given as a list/dict, ``compare=``, or
    ``compare_methods=`` run at the first selection's budget and seed) the page has a method
    comparison table: size, per-group counts, mean loss of the chosen rows, overlap
    (Jaccard) with each other selection and, from ``results``, any outcome columns (e.g. the
    demo's held-out loss per method).

    Args:
        store: a :class:`~hf_s2l.TrajectoryStore` or its directory.
        selection: a :class:`~hf_s2l.Selection` or the directory it was saved to; a list or
            ``{label: selection}`` dict of several (the first is the one overlaid on the plots).
        out: output directory (created; default ``hf-s2l-report``), the CLI's ``--out``.
        compare: more selections for the comparison table (list or ``{label: selection}``).
        compare_methods: method names to run with :func:`hf_s2l.select` at the first
            selection's budget and seed, for the comparison table (a failure is shown in
            the table).
        results: outcome rows to join to the comparison table by ``method`` (a list of
            dicts, or a ``results.json`` holding ``{"results": [...]}`` as the demo writes).
        by_column: per-example store metadata column for the group plot.
        num_clusters: k-means clusters for the trajectory plots (default
            ``clip(N // 15, 2, 100)``).
        clusters_shown: how many clusters' trajectories to draw.
        seed: seed of the k-means and of the row sampling.
        title: page title.
        out_dir: deprecated alias of ``out``.
        target_store: a target model's store over the same examples: adds the transfer
            section (:func:`hf_s2l.transfer` figures, the target's losses per proxy cluster).
    """
    if out_dir is not None:
        if out is not None:
            raise TypeError("pass the output directory once: out= (out_dir= is its old name)")
        warnings.warn(
            "build_report(out_dir=...) is deprecated; use out=... (as the CLI's --out)",
            FutureWarning,
            stacklevel=2,
        )
        out = out_dir
    store = _open_store(store)
    named = named_selections(selection, compare)
    sel = next(iter(named.values()), None)
    failures: dict[str, str] = {}
    if compare_methods:
        if sel is None:
            raise ValueError(
                "compare_methods needs a selection: its budget and seed are used for the others"
            )
        named, failures = run_methods(store, named, sel, compare_methods)
    outcome = load_results(results)
    out = Path(out if out is not None else "hf-s2l-report")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    report = Report(out_dir=out, html=out / "index.html")
    n = store.num_examples
    selected_mask = None
    if sel is not None:
        if sel.num_examples and sel.num_examples != n:
            raise ValueError(
                f"the selection refers to a training set of {sel.num_examples} examples but the "
                f"store has {n}; pass the store it was made from"
            )
        if sel.store_fingerprint and sel.store_fingerprint != store.fingerprint:
            logger.warning(
                "the selection was made from another store (fingerprint %s, this store %s)",
                sel.store_fingerprint,
                store.fingerprint,
            )
        selected_mask = np.zeros(n, dtype=bool)
        selected_mask[sel.indices] = True
    rows = np.arange(n)
    if n > MAX_PLOT_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(n, MAX_PLOT_ROWS, replace=False))
    plot = sections.Plotting(
        store=store,
        out=out,
        report=report,
        rows=rows,
        seed=seed,
        sel=sel,
        sel_label=next(iter(named), None),
        selected_mask=selected_mask,
    )
    col_rows = sections.column_summary(plot)
    sections.clusters(plot, num_clusters, clusters_shown)
    group_col = by_column or sections.default_group_column(store, sel)
    sections.groups(plot, group_col, named)
    sections.learning_percentage(plot, named)
    sections.data_map(plot)
    complete = store.complete_columns()
    report.summary.update(
        num_examples=n,
        num_columns=store.num_columns,
        complete_columns=len(complete),
        nan_cells_complete_columns=int(sum(r["nan"] for r in col_rows if r["complete"])),
        plotted_rows=len(rows),
        seconds=round(time.perf_counter() - t0, 2),
    )
    if target_store is not None:
        from .transfer_section import FIGURE_NAME, build_transfer_section

        fig_info, report.summary["transfer"] = build_transfer_section(
            store, target_store, out, seed=seed, clusters_shown=clusters_shown
        )
        if fig_info is not None:
            report.figures[FIGURE_NAME] = fig_info
        else:
            report.skipped[FIGURE_NAME] = report.summary["transfer"]["error"]
    if len(named) > 1 or failures or outcome:
        report.summary["comparison"] = comparison(store, named, failures, outcome, group_col)
    report.html.write_text(render_html(store, sel, report, col_rows, title, plot.sel_label))
    _write_json(report, col_rows)
    logger.info("report written to %s (%.1fs)", report.html, report.summary["seconds"])
    return report


def _write_json(report: Report, col_rows: list[dict[str, Any]]) -> None:
    """``report.json``: the summary, the figures' labels, what was skipped, the columns."""
    figures = {
        k: {"file": f.path.name, "title": f.title, "xlabel": f.xlabel, "ylabel": f.ylabel}
        for k, f in report.figures.items()
    }
    payload = {
        "summary": report.summary,
        "figures": figures,
        "skipped": report.skipped,
        "columns": col_rows,
    }
    (report.out_dir / "report.json").write_text(json.dumps(payload, indent=2))
