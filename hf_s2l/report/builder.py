"""``build_report``: an HTML page with PNG plots describing a trajectory store (and a selection)."""

from __future__ import annotations

import html
import json
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from transformers.utils import logging

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..selection.selection import Selection
    from ..store.trajectory_store import TrajectoryStore

logger = logging.get_logger(__name__)

#: Rows used for clustering and scatter plots; larger stores are subsampled (seeded).
MAX_PLOT_ROWS = 200_000

SelectionLike = Union["Selection", str, os.PathLike]


@dataclass
class FigureInfo:
    """One PNG of the report, with the labels of its first axes (for tests and captions)."""

    name: str
    path: Path
    title: str
    xlabel: str
    ylabel: str
    caption: str = ""


@dataclass
class Report:
    """What :func:`build_report` wrote: ``html`` (the page), ``figures`` and ``skipped`` plots."""

    out_dir: Path
    html: Path
    figures: dict[str, FigureInfo] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _open_store(store: TrajectoryStore | str | os.PathLike) -> TrajectoryStore:
    from ..store.trajectory_store import TrajectoryStore

    return store if isinstance(store, TrajectoryStore) else TrajectoryStore.open(store)


def _open_selection(selection: Selection | str | os.PathLike | None) -> Selection | None:
    if selection is None:
        return None
    from ..selection.selection import Selection

    return selection if isinstance(selection, Selection) else Selection.load(selection)


def _save(fig: Figure, name: str, out_dir: Path, caption: str) -> FigureInfo:
    path = out_dir / f"{name}.png"
    fig.savefig(path, format="png")
    ax = fig.axes[0]
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    return FigureInfo(
        name=name,
        path=path,
        title=title or ax.get_title(),
        xlabel=ax.get_xlabel(),
        ylabel=ax.get_ylabel(),
        caption=caption,
    )


def _pick_clusters(labels: np.ndarray, traj: np.ndarray, k: int) -> list[int]:
    """``k`` clusters (of >= 3 examples) spread over the range of mean final loss."""
    uniq, counts = np.unique(labels, return_counts=True)
    cand = uniq[counts >= 3] if (counts >= 3).any() else uniq
    final = np.array([np.nanmean(traj[labels == c, -1]) for c in cand])
    order = cand[np.argsort(final, kind="stable")]
    if len(order) <= k:
        return [int(c) for c in order]
    pos = np.unique(np.round(np.linspace(0, len(order) - 1, k)).astype(int))
    return [int(order[p]) for p in pos]


def _default_group_column(store: TrajectoryStore, selection: Selection | None) -> str | None:
    if selection is not None:
        col = (selection.params or {}).get("by_column")
        if col and col in store.metadata_columns:
            return str(col)
    if "source" in store.metadata_columns:
        return "source"
    return store.metadata_columns[0] if store.metadata_columns else None


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

    Plots: loss trajectories of a few clusters (k-means on the complete columns, NaN -> 0,
    as S2L), the cluster-size histogram, the ``by_column`` group distribution of the full set
    vs the selection(s) (default column: the selection's ``by_column``, else ``source`` when
    the store has it), the LP(1) histogram (needs a step-0 and two epoch-end columns;
    LP_app with one), the cartography data map (mean vs std of ``exp(-loss)`` over the
    complete columns after step 0) and the per-column loss/coverage summary. A plot whose
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
    from . import plots  # Figure objects + Agg canvas: no pyplot, no GUI backend

    store = _open_store(store)
    named = _named_selections(selection, compare)
    sel = next(iter(named.values()), None)
    if compare_methods:
        if sel is None:
            raise ValueError(
                "compare_methods needs a selection: its budget and seed are used for the others"
            )
        named, failures = _run_methods(store, named, sel, compare_methods)
    else:
        failures = {}
    outcome = _load_results(results)
    out = Path(out if out is not None else "hf-s2l-report")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    report = Report(out_dir=out, html=out / "index.html")
    sel_label = next(iter(named), None)
    n = store.num_examples
    complete = store.complete_columns()
    steps_all = store.steps
    rng = np.random.default_rng(seed)

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
        rows = np.sort(rng.choice(n, MAX_PLOT_ROWS, replace=False))
    sel_local = np.flatnonzero(selected_mask[rows]) if selected_mask is not None else None

    # ---- per-column summary (coverage, quantiles): streamed column by column
    col_rows = []
    coverage, q25, med, q75 = [], [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for c, info in enumerate(store.columns):
            v = np.asarray(store.column_values(c))
            nan = int(np.isnan(v).sum())
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
                    "complete": bool(info["complete"]),
                    "nan": nan,
                    "mean_loss": float(np.nanmean(v)) if nan < n else None,
                }
            )
    if store.num_columns:
        fig = plots.column_summary(
            steps_all, np.array(coverage), np.array(q25), np.array(med), np.array(q75)
        )
        report.figures["columns"] = _save(
            fig,
            "columns",
            out,
            "Median loss (band: 25-75th percentile) at every recording point, and the share of "
            "rows that have a loss in each column (NaN = not recorded or no target tokens).",
        )
    else:
        report.skipped["columns"] = "the store has no columns yet"

    # ---- trajectories + clusters
    from ..selection.unscored import unscored_mask

    traj = store.trajectories(complete)[rows] if len(complete) >= 2 else None
    # the selection's policy: a row with a NaN/±inf loss is unscored and not clustered
    scored = np.flatnonzero(~unscored_mask(traj)) if traj is not None else np.zeros(0, int)
    if len(scored) >= 2:
        from ..selection.kmeans import faiss_kmeans

        report.summary["unscored_rows_plotted"] = int(len(rows) - len(scored))
        k = num_clusters or int(np.clip(len(scored) // 15, 2, 100))
        km = faiss_kmeans(traj[scored], k, seed=seed, what="report k-means")
        labels = km.labels
        shown = _pick_clusters(labels, traj[scored], clusters_shown)
        fig = plots.trajectories_by_cluster(
            steps_all[complete], traj[scored], labels, shown, seed=seed
        )
        report.figures["trajectories"] = _save(
            fig,
            "trajectories",
            out,
            f"Loss trajectories (complete columns) of up to 8 random examples from {len(shown)} of "
            f"the {km.num_clusters} k-means clusters (clusters spread from low to high final "
            "loss; dashed: cluster mean). Examples of one cluster follow similar curves - the "
            "premise of S2L.",
        )
        _, inv, sizes = np.unique(labels, return_inverse=True, return_counts=True)
        sel_per_cluster = (
            np.bincount(inv[np.flatnonzero(selected_mask[rows][scored])], minlength=len(sizes))
            if sel_local is not None
            else None
        )
        fig = plots.cluster_size_histogram(sizes, sel_per_cluster, method=sel_label)
        report.figures["cluster_sizes"] = _save(
            fig,
            "cluster_sizes",
            out,
            f"Sizes of the {len(sizes)} k-means clusters of the trajectories (computed for this "
            "report over the examples with a finite loss in every column; rows with a NaN/±inf "
            "loss are left out, as selection does)"
            + (
                f" and how many examples the {sel_label} selection took from each (a stratified "
                "S2L selection clusters within each group, so its own clusters differ)."
                if sel is not None
                else "."
            ),
        )
        report.summary["num_clusters"] = int(km.num_clusters)
    else:
        why = (
            f"needs >= 2 complete columns, the store has {len(complete)}"
            if traj is None
            else f"needs >= 2 examples with a finite loss in every column, found {len(scored)}"
        )
        report.skipped["trajectories"] = why
        report.skipped["cluster_sizes"] = why

    # ---- group distribution
    group_col = by_column or _default_group_column(store, sel)
    if group_col is not None:
        g = np.asarray(store.metadata(group_col)).astype(str)
        names, ginv, full_counts = np.unique(g, return_inverse=True, return_counts=True)
        sel_counts = (
            np.bincount(ginv[selected_mask], minlength=len(names))
            if selected_mask is not None
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
            method=sel_label,
        )
        report.figures["groups"] = _save(
            fig,
            "groups",
            out,
            f"Share of each {group_col!r} value in the full training set"
            + (
                f" and in the selections of {', '.join(per_sel)} (bar labels: counts)."
                if len(per_sel) > 1
                else f" and in the {sel_label} selection (bar labels: counts)."
                if sel is not None
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
    else:
        report.skipped["groups"] = (
            "the store has no per-example metadata column (record one with "
            "TrajectoryCallback(metadata_columns=('source',)))"
        )

    # ---- Learning Percentage
    try:
        from ..selection.learning_percentage import find_lp_columns, lp_scores

        try:
            cols = find_lp_columns(store, "lp1")
            label = "LP(1)"
        except ValueError:
            cols = find_lp_columns(store, "lp_app")
            label = "LP_app"
        l0 = np.asarray(store.column_values(cols["p0"]))[rows]
        l1 = np.asarray(store.column_values(cols["p1"]))[rows]
        ln = (
            np.asarray(store.column_values(cols["pn"]))[rows]
            if cols.get("pn") is not None
            else None
        )
        scores = lp_scores(l0, l1, ln)
        fig = plots.lp_histogram(scores, sel_local, label=label, method=sel_label)
        report.figures["lp"] = _save(
            fig,
            "lp",
            out,
            f"{label} = (P0 - P1) / (P0 - Pn) on per-example perplexities P = exp(loss) at step 0 "
            "(P0) and epoch ends (P1, Pn); Learning Percentage keeps the lowest (hardest)."
            if label == "LP(1)"
            else "LP_app = (P0 - P1) / P0 (only one epoch end recorded).",
        )
        report.summary["lp_columns"] = {k: v for k, v in cols.items() if k != "epochs"}
    except ValueError as e:
        report.skipped["lp"] = str(e)

    # ---- cartography data map
    carto_cols = [c for c in complete if not store.column_has_kind(int(c), "train_begin")]
    if len(carto_cols) >= 2:
        from ..selection.cartography import cartography_stats

        conf, var = cartography_stats(store.trajectories(carto_cols)[rows])
        ok = np.isfinite(conf) & np.isfinite(var)
        sel_ok = sel_local[ok[sel_local]] if sel_local is not None else None
        remap = np.cumsum(ok) - 1
        note = _data_map_note(var[ok], conf[ok])
        fig = plots.data_map(
            var[ok],
            conf[ok],
            remap[sel_ok] if sel_ok is not None else None,
            method=sel_label,
            note="nearly one line: the proxy is never confident (see caption)" if note else None,
        )
        report.figures["data_map"] = _save(
            fig,
            "data_map",
            out,
            f"Dataset cartography over {len(carto_cols)} columns after step 0: confidence "
            "exp(-loss) averaged over checkpoints (y) vs its standard deviation (x); axes "
            "scaled to the data. Top left: easy to learn; bottom left: hard to learn; right: "
            "ambiguous." + (f" {note}" if note else ""),
        )
        report.summary["data_map_collapsed"] = note is not None
    else:
        report.skipped["data_map"] = (
            f"needs >= 2 complete columns after step 0, the store has {len(carto_cols)}"
        )

    report.summary.update(
        num_examples=n,
        num_columns=store.num_columns,
        complete_columns=len(complete),
        nan_cells_complete_columns=int(sum(r["nan"] for r in col_rows if r["complete"])),
        rows_all_nan=int(np.isnan(traj).all(axis=1).sum()) if traj is not None else None,
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
        report.summary["comparison"] = _comparison(store, named, failures, outcome, group_col)
    report.html.write_text(_render_html(store, sel, report, col_rows, title, sel_label))
    (out / "report.json").write_text(
        json.dumps(
            {
                "summary": report.summary,
                "figures": {
                    k: {
                        "file": f.path.name,
                        "title": f.title,
                        "xlabel": f.xlabel,
                        "ylabel": f.ylabel,
                    }
                    for k, f in report.figures.items()
                },
                "skipped": report.skipped,
                "columns": col_rows,
            },
            indent=2,
        )
    )
    logger.info("report written to %s (%.1fs)", report.html, report.summary["seconds"])
    return report


def _named_selections(
    selection: Any, compare: Sequence[SelectionLike] | Mapping[str, SelectionLike] | None
) -> dict[str, Selection]:
    """``{label: Selection}`` of ``selection`` (one, a list or a dict) then ``compare``."""
    items: list[tuple[str | None, Any]] = []
    for group in (selection, compare):
        if group is None:
            continue
        if isinstance(group, Mapping):
            items += [(str(k), v) for k, v in group.items()]
        elif isinstance(group, (list, tuple)):
            items += [(None, v) for v in group]
        else:
            items.append((None, group))
    named: dict[str, Selection] = {}
    for label, value in items:
        sel = _open_selection(value)
        assert sel is not None
        name = label or sel.method
        base, i = name, 2
        while name in named:
            name, i = f"{base} ({i})", i + 1
        named[name] = sel
    return named


def _run_methods(
    store: TrajectoryStore,
    named: dict[str, Selection],
    ref: Selection,
    methods: Sequence[str],
) -> tuple[dict[str, Selection], dict[str, str]]:
    """Add a selection per method (``ref``'s budget and seed); failures are kept as text."""
    from ..selection import select

    named, failures = dict(named), {}
    for m in methods:
        if m in named:
            continue
        try:
            named[m] = select(store, m, len(ref.indices), seed=ref.seed)
        except (ValueError, KeyError, RuntimeError) as e:
            logger.warning("report: selection with %s failed: %s", m, e)
            failures[m] = str(e)
    return named, failures


def _load_results(
    results: Sequence[Mapping[str, Any]] | str | os.PathLike | None,
) -> list[dict[str, Any]]:
    if results is None:
        return []
    if isinstance(results, (str, os.PathLike)):
        payload = json.loads(Path(results).read_text())
        results = payload.get("results", []) if isinstance(payload, dict) else payload
    rows = [dict(r) for r in results]  # type: ignore[union-attr]
    for r in rows:
        if "method" not in r:
            raise ValueError(f"every results row needs a 'method' key, got {sorted(r)}")
    return rows


def _data_map_note(variability: np.ndarray, confidence: np.ndarray) -> str | None:
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


def _comparison(
    store: TrajectoryStore,
    named: dict[str, Selection],
    failures: dict[str, str],
    outcome: list[dict[str, Any]],
    group_col: str | None,
) -> dict[str, Any]:
    """One row per selection (and per outcome row without one) plus pairwise overlaps."""
    n = store.num_examples
    complete = store.complete_columns()
    last = np.asarray(store.column_values(int(complete[-1]))) if len(complete) else None
    scored = (
        ~np.isnan(store.trajectories(complete)).all(axis=1) if len(complete) else np.ones(n, bool)
    )
    groups = np.asarray(store.metadata(group_col)).astype(str) if group_col else None
    by_method = {str(r["method"]): r for r in outcome}
    rows: list[dict[str, Any]] = []
    sets: dict[str, np.ndarray] = {}
    for label, sel in named.items():
        idx = np.asarray(sel.indices, dtype=np.int64)
        row: dict[str, Any] = {"label": label, "method": sel.method}
        if sel.num_examples not in (0, n):
            row["error"] = f"made for {sel.num_examples} examples, the store has {n}"
            rows.append(row)
            continue
        sets[label] = idx
        row.update(
            examples=int(len(idx)),
            fraction=round(len(idx) / max(n, 1), 4),
            seed=sel.seed,
            mean_last_loss=(None if last is None or not len(idx) else _nanmean(last[idx])),
            unscored=int((~scored[idx]).sum()),
        )
        if groups is not None:
            names, counts = np.unique(groups[idx], return_counts=True)
            row["groups"] = {str(k): int(v) for k, v in zip(names, counts)}
        extra = by_method.pop(label, None) or by_method.pop(sel.method, None)
        if extra:
            row["results"] = {k: v for k, v in extra.items() if k != "method"}
        rows.append(row)
    for m, err in failures.items():
        rows.append({"label": m, "method": m, "error": err})
    for m, extra in by_method.items():
        rows.append(
            {"label": m, "method": m, "results": {k: v for k, v in extra.items() if k != "method"}}
        )
    overlap = {
        a: {
            b: round(len(np.intersect1d(ia, ib)) / max(len(np.union1d(ia, ib)), 1), 4)
            for b, ib in sets.items()
        }
        for a, ia in sets.items()
    }
    return {
        "rows": rows,
        "overlap_jaccard": overlap,
        "mean_last_loss_all": None if last is None else _nanmean(last),
        "last_column_step": int(store.steps[complete[-1]]) if len(complete) else None,
        "group_column": group_col,
    }


def _nanmean(v: np.ndarray) -> float | None:
    v = np.asarray(v, dtype=np.float64)
    v = v[np.isfinite(v)]
    return round(float(v.mean()), 5) if len(v) else None


def _proxy_model(store: TrajectoryStore) -> str:
    """The proxy's name/path, else the recorded model class (a model built from a config)."""
    name = store.model_name_or_path
    meta = store.meta
    revision = (meta.get("model") or {}).get("revision")
    if name:
        return f"{name} (revision {revision})" if revision else str(name)
    recorder = (meta.get("extra") or {}).get("recorder") or {}
    cls = recorder.get("model_class") if isinstance(recorder, dict) else None
    if cls:
        return f"{cls} (no name or path: built from a config, not loaded from the Hub or a folder)"
    return "not recorded"


def _param_rows(params: Mapping[str, Any] | None, prefix: str = "") -> list[list[Any]]:
    """``[[name, value], ...]`` of (nested) parameters, one readable row each."""
    rows: list[list[Any]] = []
    for k, v in (params or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            rows += _param_rows(v, prefix=f"{key}.")
        elif isinstance(v, (list, tuple)):
            rows.append([key, ", ".join(map(str, v)) if len(v) <= 20 else f"{len(v)} values"])
        else:
            rows.append([key, "None" if v is None else v])
    return rows


def _table(rows: list[list[Any]], header: list[str] | None = None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left}th{background:#f4f4f4}figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}.skip{color:#a33}code{background:#f4f4f4;padding:0 3px}
.note{font-size:.8em;color:#555}h3{font-size:1em}
"""

_ORDER = [
    ("trajectories", "Loss trajectories by cluster"),
    ("cluster_sizes", "Cluster sizes"),
    ("groups", "Groups: full set vs selection"),
    ("lp", "Learning Percentage"),
    ("data_map", "Data map (cartography)"),
    ("columns", "Recording points, NaN and coverage"),
]


def _render_comparison(comp: dict[str, Any], n: int) -> list[str]:
    """The method comparison table (and overlap matrix) as HTML parts."""
    rows = comp["rows"]
    result_keys: list[str] = []
    for r in rows:
        for k, v in (r.get("results") or {}).items():
            shown = k in ("examples", "label", "seed")  # already a column
            if k not in result_keys and not shown and not isinstance(v, (dict, list)):
                result_keys.append(k)
    step = comp.get("last_column_step")
    header = ["selection", "examples", "seed", f"proxy loss at step {step}", "unscored rows"]
    if comp.get("group_column"):
        header.append(f"per {comp['group_column']}")
    header += [k.replace("_", " ") for k in result_keys]
    body = []
    for r in rows:
        if "error" in r:
            line = [r["label"], f"failed: {r['error']}", "", "", ""]
        elif "examples" in r:
            line = [
                r["label"] if r["label"] == r["method"] else f"{r['label']} ({r['method']})",
                f"{r['examples']}\u00a0({100.0 * r['examples'] / max(n, 1):.1f}%)",
                r["seed"],
                "-" if r["mean_last_loss"] is None else f"{r['mean_last_loss']:.4f}",
                r["unscored"],
            ]
        else:  # an outcome without a selection (e.g. the full-data reference)
            ex = (r.get("results") or {}).get("examples")
            line = [r["label"], "" if ex is None else ex, "", "", ""]
        if comp.get("group_column"):
            line.append(", ".join(f"{k} {v}" for k, v in (r.get("groups") or {}).items()))
        res = r.get("results") or {}
        line += [_fmt_value(res.get(k, "")) for k in result_keys]
        body.append(line)
    parts = [
        "<h2>Method comparison</h2>",
        _table(body, header),
        "<p class='note'>"
        + html.escape(
            f"Proxy loss: mean loss of the chosen rows at the last complete recording point "
            f"(step {step}; all rows: {comp.get('mean_last_loss_all')}). Unscored rows: chosen "
            "rows with no recorded loss. Other columns: the outcomes passed as results."
        )
        + "</p>",
    ]
    overlap = comp.get("overlap_jaccard") or {}
    if len(overlap) > 1:
        labels = list(overlap)
        parts += [
            "<h3>Overlap between selections (Jaccard)</h3>",
            _table([[a] + [f"{overlap[a][b]:.2f}" for b in labels] for a in labels], [""] + labels),
        ]
    return parts


def _fmt_value(v: Any) -> Any:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.0f}"
    return v


def _render_html(
    store: TrajectoryStore,
    sel: Selection | None,
    report: Report,
    col_rows: list[dict[str, Any]],
    title: str | None,
    sel_label: str | None = None,
) -> str:
    from ..version import __version__

    meta = store.meta
    s = report.summary
    info = [
        ["store", str(store.path)],
        ["examples (N)", s["num_examples"]],
        ["columns (T)", f"{s['num_columns']} ({s['complete_columns']} complete)"],
        ["proxy model", _proxy_model(store)],
        ["dataset fingerprint", store.dataset_fingerprint or "-"],
        ["store fingerprint", store.fingerprint],
        ["metadata columns", ", ".join(store.metadata_columns) or "-"],
        ["NaN cells in complete columns", s["nan_cells_complete_columns"]],
        ["rows with no loss at all", "-" if s["rows_all_nan"] is None else s["rows_all_nan"]],
        [
            "recorded with",
            f"hf-s2l {meta.get('library_version', '?')} ({meta.get('mode', '?')} mode)",
        ],
    ]
    if s["plotted_rows"] < s["num_examples"]:
        info.append(["rows plotted", f"{s['plotted_rows']} (random sample)"])
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title or 'hf-s2l report')}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title or 'hf-s2l trajectory report')}</h1>",
        "<h2>Store</h2>",
        _table(info),
    ]
    if sel is not None:
        srows = [
            ["method", sel.method],
            [
                "budget",
                f"{len(sel.indices)} of {s['num_examples']} "
                f"({100.0 * len(sel.indices) / max(s['num_examples'], 1):.1f}%)",
            ],
            ["seed", sel.seed],
        ]
        heading = "Selection" + (f": {sel_label}" if sel_label else "")
        parts += [f"<h2>{html.escape(heading)}</h2>", _table(srows)]
        prows = _param_rows(sel.params)
        parts.append(
            "<h3>Parameters</h3>"
            + (_table(prows, ["parameter", "value"]) if prows else "<p>defaults (none given)</p>")
        )
    if "groups" in s:
        header = ["group", "full set"] + (["selected"] if sel is not None else [])
        grows = [
            [k, v["full"]] + ([v.get("selected", 0)] if sel is not None else [])
            for k, v in s["groups"].items()
        ]
        parts += [
            f"<h3>Examples per {html.escape(str(s.get('group_column', 'group')))}</h3>",
            _table(grows, header),
        ]
    if "comparison" in s:
        parts += _render_comparison(s["comparison"], s["num_examples"])
    if "transfer" in s:
        from .transfer_section import render_transfer_section

        parts.append(render_transfer_section(s["transfer"], report.figures.get("transfer")))
    for name, heading in _ORDER:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if name in report.figures:
            f = report.figures[name]
            parts.append(
                f"<figure><img src='{html.escape(f.path.name)}' alt='{html.escape(f.title)}'>"
                f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
            )
        else:
            parts.append(
                f"<p class='skip'>Not drawn: {html.escape(report.skipped.get(name, ''))}</p>"
            )
        if name == "columns":
            parts.append(
                _table(
                    [
                        [
                            r["column"],
                            r["global_step"],
                            f"{r['epoch']:.3f}",
                            r["kind"],
                            r["complete"],
                            r["nan"],
                            "-" if r["mean_loss"] is None else f"{r['mean_loss']:.4f}",
                        ]
                        for r in col_rows
                    ],
                    ["column", "step", "epoch", "kind", "complete", "NaN rows", "mean loss"],
                )
            )
    parts.append(
        f"<p style='font-size:.8em;color:#777'>hf-s2l {html.escape(__version__)} - "
        f"generated in {s['seconds']}s</p></body></html>"
    )
    return "\n".join(parts)
