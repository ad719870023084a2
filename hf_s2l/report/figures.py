"""What a report is made of: :class:`Report`, its :class:`FigureInfo` PNGs, and saving one.

Shared by the builder and every section (sections import this, never the builder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


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


def save_figure(fig: Figure, name: str, out_dir: Path, caption: str) -> FigureInfo:
    """Save ``fig`` as ``out_dir/name.png`` and describe it (title and labels of its axes)."""
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


def pick_clusters(labels: np.ndarray, traj: np.ndarray, k: int) -> list[int]:
    """``k`` clusters (of >= 3 examples) spread over the range of mean final loss."""
    uniq, counts = np.unique(labels, return_counts=True)
    cand = uniq[counts >= 3] if (counts >= 3).any() else uniq
    final = np.array([np.nanmean(traj[labels == c, -1]) for c in cand])
    order = cand[np.argsort(final, kind="stable")]
    if len(order) <= k:
        return [int(c) for c in order]
    pos = np.unique(np.round(np.linspace(0, len(order) - 1, k)).astype(int))
    return [int(order[p]) for p in pos]
