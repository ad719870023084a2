"""The report's plot sections: each draws its figure(s) into the :class:`Report` or says why not.

Every section gets a :class:`Plotting` (the store, the plotted rows, the selection overlaid)
and fills ``report.figures``, ``report.skipped`` and ``report.summary``; none imports the
builder. The trajectory columns are the ones selection's defaults read
(:func:`trajectory_columns`: ``choose_columns(store).features``, the complete columns without
the before-training ones as ``hf_s2l.store.kinds`` defines them), for the cluster plots (the
S2L premise) and the data map alike.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..selection.columns import choose_columns
from ..store import kinds
from .figures import Report, pick_clusters, save_figure
from .params import selection_clusters

if TYPE_CHECKING:  # pragma: no cover
    from ..selection.selection import Selection
    from ..store.trajectory_store import TrajectoryStore


@dataclass
class Plotting:
    """What every section needs: the store, where to write, which rows, the selection shown."""

    store: TrajectoryStore
    out: Path
    report: Report
    rows: np.ndarray  # plotted rows (all, or a seeded sample of a huge store)
    seed: int
    sel: Selection | None = None
    sel_label: str | None = None
    selected_mask: np.ndarray | None = None  # over all N rows

    @property
    def sel_local(self) -> np.ndarray | None:
        """Positions, among :attr:`rows`, of the selected rows."""
        if self.selected_mask is None:
            return None
        return np.flatnonzero(self.selected_mask[self.rows])


def trajectory_columns(store: TrajectoryStore) -> np.ndarray:
    """The columns selection reads as trajectories by default (``choose_columns(store)
    .features``): complete, not before training (:func:`hf_s2l.store.kinds.is_before_training`)."""
    return choose_columns(store).features


def column_summary(p: Plotting) -> list[dict[str, Any]]:
    """Per-column coverage and quantiles (streamed column by column) and the ``columns`` plot."""
    from . import plots

    store, n = p.store, p.store.num_examples
    col_rows, coverage, q25, med, q75 = [], [], [], [], []
    all_nan = np.ones(n, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for c, info in enumerate(store.columns):
            v = np.asarray(store.column_values(c))
            isnan = np.isnan(v)
            nan = int(isnan.sum())
            if info["complete"]:
                all_nan &= isnan
            coverage.append(1.0 - nan / n)
            qs = np.nanpercentile(v, [25, 50, 75]) if nan < n else [np.nan] * 3
            q25.append(qs[0])
            med.append(qs[1])
            q75.append(qs[2])
            col_rows.append(
                {
                    "column": c,
                    "global_step": int(info["global_step"]),
                    "epoch": float(info["epoch"]),
                    "kind": str(info.get("kind", "")),
                    "before_training": kinds.is_before_training(store, c),
                    "complete": bool(info["complete"]),
                    "nan": nan,
                    "mean_loss": float(np.nanmean(v)) if nan < n else None,
                }
            )
    complete = store.complete_columns()
    p.report.summary["rows_all_nan"] = int(all_nan.sum()) if len(complete) else None
    if store.num_columns:
        fig = plots.column_summary(
            store.steps, np.array(coverage), np.array(q25), np.array(med), np.array(q75)
        )
        p.report.figures["columns"] = save_figure(
            fig,
            "columns",
            p.out,
            "Median loss (band: 25-75th percentile) at every recording point, and the share of "
            "rows that have a loss in each column (NaN = not recorded or no target tokens).",
        )
    else:
        p.report.skipped["columns"] = "the store has no columns yet"
    return col_rows


def clusters(p: Plotting, num_clusters: int | None, clusters_shown: int) -> None:
    """k-means on the trajectory columns: a few clusters' curves and the cluster sizes."""
    from ..selection.kmeans import check_faiss_input, faiss_kmeans
    from ..selection.unscored import unscored_mask
    from . import plots

    store, report = p.store, p.report
    cols = trajectory_columns(store)
    report.summary.setdefault("columns_used", {})["clusters"] = cols.tolist()
    traj = store.trajectories(cols)[p.rows] if len(cols) >= 2 else None
    # the selection's policy: a row with a NaN/±inf loss is unscored and not clustered
    scored = np.flatnonzero(~unscored_mask(traj)) if traj is not None else np.zeros(0, int)
    problem = None
    if len(scored) >= 2:  # the check every faiss caller applies (a diverged proxy's losses)
        try:
            check_faiss_input(traj[scored], "report k-means", rows=p.rows[scored])
        except ValueError as e:
            problem = str(e)
    if len(scored) < 2 or problem is not None:
        why = (
            f"needs >= 2 complete columns recorded after training starts (the columns selection "
            f"reads), the store has {len(cols)}"
            if traj is None
            else f"needs >= 2 examples with a finite loss in every column, found {len(scored)}"
        )
        report.skipped["trajectories"] = report.skipped["cluster_sizes"] = problem or why
        return
    report.summary["unscored_rows_plotted"] = int(len(p.rows) - len(scored))
    from_sel = selection_clusters(p.sel) if num_clusters is None else None
    if num_clusters:
        k, why = num_clusters, "num_clusters given"
    elif from_sel:  # the same number of clusters as the S2L selection shown
        k, why = min(from_sel[0], len(scored)), from_sel[1]
    else:
        k, why = int(np.clip(len(scored) // 15, 2, 100)), "the default, clip(N // 15, 2, 100)"
    km = faiss_kmeans(traj[scored], k, seed=p.seed, what="report k-means")
    report.summary["num_clusters_from"] = why
    labels = km.labels
    shown = pick_clusters(labels, traj[scored], clusters_shown)
    fig = plots.trajectories_by_cluster(store.steps[cols], traj[scored], labels, shown, seed=p.seed)
    report.figures["trajectories"] = save_figure(
        fig,
        "trajectories",
        p.out,
        f"Loss trajectories (the {len(cols)} columns selection reads: complete, recorded after "
        f"training starts) of up to 8 random examples from {len(shown)} of the "
        f"{km.num_clusters} k-means clusters (K: {why}; clusters spread from low to high "
        "final loss; "
        "dashed: cluster mean). Examples of one cluster follow similar curves - the premise "
        "of S2L.",
    )
    _, inv, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    per_cluster = None
    if p.selected_mask is not None:
        chosen = np.flatnonzero(p.selected_mask[p.rows][scored])
        per_cluster = np.bincount(inv[chosen], minlength=len(sizes))
    fig = plots.cluster_size_histogram(sizes, per_cluster, method=p.sel_label)
    report.figures["cluster_sizes"] = save_figure(
        fig,
        "cluster_sizes",
        p.out,
        f"Sizes of the {len(sizes)} k-means clusters of the trajectories (K: {why}; computed "
        "for this report over the examples with a finite loss in every column; rows with a NaN/±inf "
        "loss are left out, as selection does)"
        + (
            f" and how many examples the {p.sel_label} selection took from each (a stratified "
            "S2L selection clusters within each group, so its own clusters differ)."
            if p.sel is not None
            else "."
        ),
    )
    report.summary["num_clusters"] = int(km.num_clusters)


def default_group_column(store: TrajectoryStore, selection: Selection | None) -> str | None:
    """The selection's ``by_column``, else ``source``, else the first metadata column."""
    if selection is not None:
        col = (selection.params or {}).get("by_column")
        if col and col in store.metadata_columns:
            return str(col)
    if "source" in store.metadata_columns:
        return "source"
    return store.metadata_columns[0] if store.metadata_columns else None


def groups(p: Plotting, group_col: str | None, named: dict[str, Selection]) -> None:
    """Share of each group in the full set and in the selection(s)."""
    from . import plots

    store, report, n = p.store, p.report, p.store.num_examples
    if group_col is None:
        report.skipped["groups"] = (
            "the store has no per-example metadata column (record one with "
            "TrajectoryCallback(metadata_columns=('source',)))"
        )
        return
    g = np.asarray(store.metadata(group_col)).astype(str)
    names, ginv, full_counts = np.unique(g, return_inverse=True, return_counts=True)
    sel_counts = (
        np.bincount(ginv[p.selected_mask], minlength=len(names))
        if p.selected_mask is not None
        else None
    )
    per_sel = {
        label: np.bincount(ginv[np.asarray(s.indices, dtype=np.int64)], minlength=len(names))
        for label, s in named.items()
        if s.num_examples in (0, n)
    }
    fig = plots.group_distribution(
        names,
        full_counts,
        per_sel if len(per_sel) > 1 else sel_counts,
        column=group_col,
        method=p.sel_label,
    )
    report.figures["groups"] = save_figure(
        fig,
        "groups",
        p.out,
        f"Share of each {group_col!r} value in the full training set"
        + (
            f" and in the selections of {', '.join(per_sel)} (bar labels: counts)."
            if len(per_sel) > 1
            else f" and in the {p.sel_label} selection (bar labels: counts)."
            if p.sel is not None
            else "."
        ),
    )
    report.summary["group_column"] = group_col
    report.summary["groups"] = {
        str(k): {
            "full": int(full_counts[i]),
            **({"selected": int(sel_counts[i])} if sel_counts is not None else {}),
        }
        for i, k in enumerate(names)
    }


def learning_percentage(p: Plotting, named: dict[str, Selection] | None = None) -> None:
    """The LP(1) histogram (a before-training and two epoch-end columns; LP_app with one),
    overlaid with the Learning Percentage selection when one is among ``named`` (else the
    selection shown on the other plots)."""
    lp = next(
        (
            (label, s)
            for label, s in (named or {}).items()
            if s.method == "lp" and s.num_examples in (0, p.store.num_examples)
        ),
        None,
    )
    if lp is not None and lp[1] is not p.sel:
        mask = np.zeros(p.store.num_examples, dtype=bool)
        mask[np.asarray(lp[1].indices, dtype=np.int64)] = True
        p = replace(p, sel=lp[1], sel_label=lp[0], selected_mask=mask)
    try:
        _lp(p)
    except ValueError as e:  # the columns LP needs are not there
        p.report.skipped["lp"] = str(e)


def _lp(p: Plotting) -> None:
    from ..selection.methods.learning_percentage import find_lp_columns, lp_scores
    from . import plots

    store, report, rows = p.store, p.report, p.rows
    try:
        cols = find_lp_columns(store, "lp1")
        label = "LP(1)"
    except ValueError:
        cols = find_lp_columns(store, "lp_app")
        label = "LP_app"
    l0 = np.asarray(store.column_values(cols["p0"]))[rows]
    l1 = np.asarray(store.column_values(cols["p1"]))[rows]
    ln = np.asarray(store.column_values(cols["pn"]))[rows] if cols.get("pn") is not None else None
    scores = lp_scores(l0, l1, ln)
    fig = plots.lp_histogram(scores, p.sel_local, label=label, method=p.sel_label)
    report.figures["lp"] = save_figure(
        fig,
        "lp",
        p.out,
        (
            f"{label} = (P0 - P1) / (P0 - Pn) on per-example perplexities P = exp(loss) at step "
            "0 (P0) and epoch ends (P1, Pn); Learning Percentage keeps the lowest (hardest)."
            if label == "LP(1)"
            else "LP_app = (P0 - P1) / P0 (only one epoch end recorded)."
        )
        + (f" Overlaid: the rows the {p.sel_label} selection took." if p.sel is not None else ""),
    )
    report.summary["lp_selection"] = p.sel_label if p.sel is not None else None
    report.summary["lp_columns"] = {k: v for k, v in cols.items() if k != "epochs"}


def data_map_note(variability: np.ndarray, confidence: np.ndarray) -> str | None:
    """Why the map is (nearly) one line, when it is: the proxy was never confident."""
    if len(confidence) < 3:
        return None
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.corrcoef(variability, confidence)[0, 1]
    if float(np.max(confidence)) < 0.2 or (np.isfinite(r) and abs(r) > 0.98):
        return (
            f"The map is nearly one line (confidence <= {float(np.max(confidence)):.3g}, "
            f"correlation with variability {r:.2f}): the proxy is never confident, so "
            "exp(-loss) is near 0 at every checkpoint but the last and its spread grows with "
            "its mean. Expected at toy scale; a proxy that fits its data spreads the map out."
        )
    return None


def data_map(p: Plotting) -> None:
    """Dataset cartography over the trajectory columns: mean vs std of ``exp(-loss)``."""
    from ..selection.methods.cartography import cartography_stats
    from . import plots

    store, report = p.store, p.report
    cols = trajectory_columns(store)
    report.summary.setdefault("columns_used", {})["data_map"] = cols.tolist()
    if len(cols) < 2:
        report.skipped["data_map"] = (
            f"needs >= 2 complete columns recorded after training starts (the columns "
            f"selection reads), the store has {len(cols)}"
        )
        return
    conf, var = cartography_stats(store.trajectories(cols)[p.rows])
    ok = np.isfinite(conf) & np.isfinite(var)
    sel_local = p.sel_local
    sel_ok = sel_local[ok[sel_local]] if sel_local is not None else None
    remap = np.cumsum(ok) - 1
    note = data_map_note(var[ok], conf[ok])
    fig = plots.data_map(
        var[ok],
        conf[ok],
        remap[sel_ok] if sel_ok is not None else None,
        method=p.sel_label,
        note="nearly one line: the proxy is never confident (see caption)" if note else None,
    )
    report.figures["data_map"] = save_figure(
        fig,
        "data_map",
        p.out,
        f"Dataset cartography over the {len(cols)} columns selection reads (complete, recorded "
        "after training starts): confidence exp(-loss) averaged over checkpoints (y) vs its "
        "standard deviation (x); axes scaled to the data. Top left: easy to learn; bottom "
        "left: hard to learn; right: ambiguous." + (f" {note}" if note else ""),
    )
    report.summary["data_map_collapsed"] = note is not None
