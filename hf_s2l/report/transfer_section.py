"""The report's transfer section: how a target's trajectories follow the proxy's clusters."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from transformers.utils import logging

from .figures import FigureInfo, pick_clusters, save_figure

logger = logging.get_logger(__name__)

__all__ = [
    "CAPTION",
    "FIGURE_NAME",
    "build_transfer_section",
    "pick_clusters",
    "render_transfer_section",
]

FIGURE_NAME = "transfer"
CAPTION = (
    "The target's loss (y) against its training progress (x) for a few of the proxy's S2L "
    "clusters: the line is the cluster's mean, the band one standard deviation. Separated, "
    "narrow bands mean examples the proxy groups together are learned alike by the target "
    "(S2L's premise, its Figure 2, across models)."
)


def build_transfer_section(
    proxy: Any,
    target: Any,
    out_dir: Path,
    *,
    seed: int = 0,
    clusters_shown: int = 4,
) -> tuple[FigureInfo | None, dict[str, Any]]:
    """Draw the figure and compute the figures; returns ``(FigureInfo or None, summary)``.

    ``summary`` is the :meth:`~hf_s2l.transfer_check.TransferReport.to_dict` of the check, or
    ``{"error": message}`` when the stores cannot be compared (the figure is then None).
    """
    from ..transfer_check import TransferAlignmentError, analyse
    from . import plots

    try:
        data = analyse(proxy, target, seed=seed)
    except (TransferAlignmentError, ValueError) as e:
        logger.warning("report: no transfer section (%s)", e)
        return None, {"error": str(e)}
    clusters = pick_clusters(data.labels, data.target_trajectories, clusters_shown)
    fig = plots.target_by_proxy_cluster(
        data.target_progress, data.target_trajectories, data.labels, clusters
    )
    info = save_figure(fig, FIGURE_NAME, Path(out_dir), CAPTION)
    summary = data.report.to_dict()
    summary["clusters_shown"] = clusters
    return info, summary


def render_transfer_section(summary: dict[str, Any], figure: FigureInfo | None) -> str:
    """The section's HTML: heading, the numbers, the verdict and the figure."""
    parts = ["<h2>Does the proxy stand for the target?</h2>"]
    if "error" in summary:
        parts.append(f"<p class='skip'>Not computed: {html.escape(summary['error'])}</p>")
        return "\n".join(parts)

    def num(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}"

    rows = [
        ("target store", summary.get("target_path")),
        ("examples aligned", f"{summary['n_aligned']} (by {summary.get('alignment')})"),
        ("spearman (matched progress, mean)", num(summary["spearman"])),
        ("variance explained by the proxy's S2L clusters", num(summary["variance_explained"])),
        ("... by random clusters of the same sizes", num(summary["variance_explained_random"])),
        ("k", summary["k"]),
        (
            f"hardest {summary.get('lp_fraction', 0.3):.0%} by LP(1), Jaccard",
            num(summary["lp_hardest_overlap"]),
        ),
    ]
    parts.append(
        "<table>"
        + "".join(
            f"<tr><td>{html.escape(str(a))}</td><td>{html.escape(str(b))}</td></tr>"
            for a, b in rows
        )
        + "</table>"
    )
    parts.append(f"<p class='verdict'><b>{html.escape(summary['verdict'])}</b></p>")
    if figure is not None:
        parts.append(
            f"<figure><img src='{html.escape(figure.path.name)}' alt='{html.escape(figure.title)}'>"
            f"<figcaption>{html.escape(figure.caption)}</figcaption></figure>"
        )
    return "\n".join(parts)
