"""The report's figures, one function each; every function returns a ``matplotlib`` Figure.

Figures are built with :class:`matplotlib.figure.Figure` directly (no ``pyplot`` state, no
GUI backend), so they can be made in any thread or headless process and saved as PNG.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

# Colour-blind-friendly cycle (Okabe-Ito).
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
FULL_COLOR, SELECTED_COLOR = "#9E9E9E", "#D55E00"


def _figure(width: float = 7.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def trajectories_by_cluster(
    steps: np.ndarray,
    losses: np.ndarray,
    labels: np.ndarray,
    clusters: Sequence[int],
    *,
    per_cluster: int = 8,
    seed: int = 0,
) -> Figure:
    """Loss curves of a few examples from each of ``clusters`` (one panel per cluster).

    Like Figure 2 of the S2L paper: examples in the same cluster of the k-means on
    trajectories have similar loss curves. ``losses`` is ``n x T`` (rows = examples),
    ``steps`` the global step of each column, ``labels`` each row's cluster id.
    """
    rng = np.random.default_rng(seed)
    k = max(1, len(clusters))
    ncols = min(k, 2)
    nrows = int(np.ceil(k / ncols))
    fig = _figure(4.0 * ncols, 2.8 * nrows + 0.5)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    for j, c in enumerate(clusters):
        ax = axes[j // ncols][j % ncols]
        members = np.flatnonzero(labels == c)
        show = rng.choice(members, size=min(per_cluster, len(members)), replace=False)
        color = COLORS[j % len(COLORS)]
        for i in show:
            ax.plot(steps, losses[i], color=color, alpha=0.75, lw=1.2, marker=".", ms=3)
        ax.plot(
            steps, np.nanmean(losses[members], axis=0), color="black", lw=1.5, ls="--", label="mean"
        )
        ax.set_title(f"cluster {int(c)} ({len(members)} examples)", fontsize=10)
        ax.set_xlabel("training step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
    for j in range(k, nrows * ncols):
        axes[j // ncols][j % ncols].set_visible(False)
    axes[0][0].legend(loc="upper right", fontsize=8)
    fig.suptitle("Loss trajectories of examples from a few clusters")
    return fig


def cluster_size_histogram(
    sizes: np.ndarray,
    selected_per_cluster: np.ndarray | None = None,
    *,
    method: str | None = None,
) -> Figure:
    """Histogram of k-means cluster sizes; with a selection, also selected vs cluster size.

    ``method`` (the selection's method) is named in the titles.
    """
    fig = _figure(7.0 if selected_per_cluster is None else 10.0, 4.0)
    axes = fig.subplots(1, 1 if selected_per_cluster is None else 2, squeeze=False)[0]
    ax = axes[0]
    bins = min(40, max(5, len(np.unique(sizes))))
    ax.hist(sizes, bins=bins, color=COLORS[0], edgecolor="white")
    ax.set_xlabel("cluster size (examples)")
    ax.set_ylabel("number of clusters")
    ax.set_title(
        f"Cluster sizes ({len(sizes)} clusters)"
        + (f", selection: {method}" if method and selected_per_cluster is not None else "")
    )
    ax.grid(alpha=0.3)
    if selected_per_cluster is not None:
        ax2 = axes[1]
        ax2.scatter(sizes, selected_per_cluster, s=14, color=SELECTED_COLOR, alpha=0.8)
        ax2.set_xlabel("cluster size (examples)")
        ax2.set_ylabel("selected examples")
        ax2.set_title(f"Examples selected by {method or 'the selection'} per cluster")
        ax2.grid(alpha=0.3)
    return fig


def group_distribution(
    groups: Sequence[str],
    full_counts: Sequence[int],
    selected_counts: Sequence[int] | dict[str, Sequence[int]] | None = None,
    *,
    column: str = "source",
    method: str | None = None,
) -> Figure:
    """Share of each group (e.g. data source) in the full set and in one or more selections.

    ``selected_counts`` is one selection's per-group counts (named ``method`` in the title
    and legend) or ``{label: counts}`` for several selections side by side.
    """
    series: dict[str, np.ndarray] = {}
    if isinstance(selected_counts, dict):
        series = {str(k): np.asarray(v, dtype=float) for k, v in selected_counts.items()}
    elif selected_counts is not None:
        series = {
            f"selection ({method})" if method else "selection": np.asarray(
                selected_counts, dtype=float
            )
        }
    fig = _figure(max(6.0, (0.6 + 0.3 * len(series)) * len(groups) + 3), 4.0)
    ax = fig.subplots()
    x = np.arange(len(groups))
    full = np.asarray(full_counts, dtype=float)
    nbars = 1 + len(series)
    width = 0.8 / nbars if series else 0.7
    offsets = (np.arange(nbars) - (nbars - 1) / 2) * width
    bars = ax.bar(
        x + offsets[0], full / max(full.sum(), 1), width, color=FULL_COLOR, label="full set"
    )
    ax.bar_label(bars, labels=[str(int(v)) for v in full], fontsize=7)
    for j, (label, sel) in enumerate(series.items(), 1):
        color = SELECTED_COLOR if len(series) == 1 else COLORS[(j - 1) % len(COLORS)]
        bars = ax.bar(x + offsets[j], sel / max(sel.sum(), 1), width, color=color, label=label)
        ax.bar_label(bars, labels=[str(int(v)) for v in sel], fontsize=7)
    ax.set_xticks(x, [str(g) for g in groups], rotation=30 if len(groups) > 6 else 0)
    ax.set_xlabel(column)
    ax.set_ylabel("share of examples")
    if len(series) > 1:
        title = f"Distribution of {column!r}: full set vs " + ", ".join(series)
    elif series:
        title = f"Distribution of {column!r}: full set vs the {method or 'selection'} selection"
    else:
        title = f"Distribution of {column!r} in the full set"
    ax.set_title(title)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.2)
    ax.legend(fontsize=8, ncols=min(nbars, 4), loc="upper right")
    ax.grid(alpha=0.3, axis="y")
    return fig


def lp_histogram(
    scores: np.ndarray,
    selected: np.ndarray | None = None,
    *,
    label: str = "LP(1)",
    method: str | None = None,
) -> Figure:
    """Histogram of Learning Percentage scores (finite values), selection overlaid."""
    fig = _figure()
    ax = fig.subplots()
    finite = scores[np.isfinite(scores)]
    lo, hi = np.percentile(finite, [0.5, 99.5]) if len(finite) else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    bins = np.linspace(lo, hi, 41)
    ax.hist(np.clip(finite, lo, hi), bins=bins, color=FULL_COLOR, label="all examples")
    if selected is not None:
        s = scores[selected]
        s = s[np.isfinite(s)]
        ax.hist(
            np.clip(s, lo, hi),
            bins=bins,
            color=SELECTED_COLOR,
            alpha=0.8,
            label=f"selection ({method})" if method else "selection",
        )
    ax.set_xlabel(f"{label} (share of the loss drop learned in epoch 1)")
    ax.set_ylabel("examples")
    ax.set_title(
        f"Learning Percentage {label} (low = hard)"
        + (f", selection: {method}" if method and selected is not None else "")
    )
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def data_map(
    variability: np.ndarray,
    confidence: np.ndarray,
    selected: np.ndarray | None = None,
    *,
    method: str | None = None,
    note: str | None = None,
) -> Figure:
    """Dataset-cartography map: mean vs variability of confidence ``exp(-loss)`` per example.

    Axes are scaled to the data (with a margin), not to [0, 1]; ``note`` (one short line,
    e.g. that the map collapses to a line at toy scale) is added under the title.
    """
    fig = _figure(6.0, 5.0)
    ax = fig.subplots()
    ax.scatter(variability, confidence, s=4, color=FULL_COLOR, alpha=0.5, label="all examples")
    if selected is not None:
        ax.scatter(
            variability[selected],
            confidence[selected],
            s=5,
            color=SELECTED_COLOR,
            alpha=0.7,
            label=f"selection ({method})" if method else "selection",
        )
    if len(variability):
        for lim, v in ((ax.set_xlim, variability), (ax.set_ylim, confidence)):
            lo, hi = float(np.min(v)), float(np.max(v))
            pad = (hi - lo) * 0.05 or max(abs(hi) * 0.05, 1e-6)
            lim(lo - pad, hi + pad)
    ax.set_xlabel("variability (std of confidence)")
    ax.set_ylabel("confidence (mean of exp(-loss))")
    title = "Data map (dataset cartography)" + (
        f", selection: {method}" if method and selected is not None else ""
    )
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize=10 if note else None)
    ax.legend(fontsize=8, markerscale=3, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def column_summary(
    steps: np.ndarray,
    coverage: np.ndarray,
    q25: np.ndarray,
    median: np.ndarray,
    q75: np.ndarray,
) -> Figure:
    """Per column: median loss with its interquartile band, and the share of rows recorded."""
    fig = _figure(9.0, 3.8)
    ax1, ax2 = fig.subplots(1, 2)
    x = np.arange(len(steps))
    ax1.fill_between(steps, q25, q75, color=COLORS[0], alpha=0.25, label="25-75%")
    ax1.plot(steps, median, color=COLORS[0], marker="o", ms=3, label="median")
    ax1.set_xlabel("training step")
    ax1.set_ylabel("loss")
    ax1.set_title("Loss per recording point")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.bar(x, 100.0 * coverage, color=[COLORS[2] if c >= 1 else COLORS[3] for c in coverage])
    ax2.set_xticks(x, [str(int(s)) for s in steps], rotation=90, fontsize=7)
    ax2.set_ylim(0, 105)
    ax2.set_xlabel("column (global step)")
    ax2.set_ylabel("rows with a loss (%)")
    ax2.set_title("Coverage (non-NaN) per column")
    ax2.grid(alpha=0.3, axis="y")
    return fig


def target_by_proxy_cluster(
    progress: np.ndarray,
    target_losses: np.ndarray,
    labels: np.ndarray,
    clusters: Sequence[int],
) -> Figure:
    """The target's loss per proxy cluster: mean ± one standard deviation vs progress.

    As Figure 2 of the S2L paper, but across models: ``labels`` are the proxy's S2L clusters,
    ``target_losses`` (``n x T``) the target's losses at ``progress`` (fraction of its run).
    Narrow, separated bands: the proxy's clusters hold examples the target learns alike.
    """
    fig = _figure(7.0, 4.2)
    ax = fig.subplots()
    x = np.asarray(progress, dtype=float)
    for j, c in enumerate(clusters):
        members = np.flatnonzero(labels == c)
        y = target_losses[members]
        mean, std = np.nanmean(y, axis=0), np.nanstd(y, axis=0)
        color = COLORS[j % len(COLORS)]
        ax.plot(
            x,
            mean,
            color=color,
            lw=1.8,
            marker="o",
            ms=4,
            label=f"cluster {int(c)} (n={len(members)})",
        )
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.2, lw=0)
    ax.set_xlabel("training progress of the target (fraction of its run)")
    ax.set_ylabel("target loss")
    ax.set_title("Target's loss per proxy S2L cluster (mean ± 1 sd)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return fig
