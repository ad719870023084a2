"""Dataset cartography regions (Swayamdipta et al., 2020, "Dataset Cartography").

Over the chosen columns ``t = 1..T`` (default: every complete column recorded after training
started — the before-training column, ``train_begin`` or a step-0 column of a probe store, is
left out; in-step ``epoch`` columns, the original per-epoch statistics, are kept), with ``p_it = exp(-L_it)`` the
example's confidence (geometric-mean target-token probability)::

    confidence  mu_i    = mean_t p_it
    variability sigma_i = std_t p_it          (population std, ddof = 0)

Regions: ``ambiguous`` = largest ``sigma`` first; ``easy`` (easy-to-learn) = largest
``mu`` first; ``hard`` (hard-to-learn) = smallest ``mu`` first. Ties by row index. NaN cells
are ignored (``nanmean``/``nanstd``); all-NaN rows rank last (warned).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._common import check_nan_rows, nan_fallback_stats, top_k_by_score
from ..base import MethodResult, register_method
from ..column_roles import trained_or_given_columns
from ..context import MethodContext

REGIONS = ("ambiguous", "easy", "hard")


@dataclass
class CartographyConfig:
    """``region``: ambiguous / easy / hard; ``columns``: store columns (default: see module)."""

    region: str = "ambiguous"
    columns: list[int] | None = None

    def validate(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"cartography: region must be one of {REGIONS}, got {self.region!r}")


def cartography_stats(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(confidence, variability)`` per row of an ``n x T`` loss matrix (NaN cells ignored)."""
    p = np.exp(-np.asarray(losses, dtype=np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows -> NaN, handled by callers
        return np.nanmean(p, axis=1), np.nanstd(p, axis=1)


def _read_columns(ctx: MethodContext, cfg: CartographyConfig) -> list[int]:
    """The columns summarised (for the unscored-row policy)."""
    return trained_or_given_columns(ctx, cfg.columns, method="cartography", minimum=2).tolist()


@register_method("cartography", config=CartographyConfig, min_columns=2, columns=_read_columns)
def cartography(ctx: MethodContext, budget: int, cfg: CartographyConfig) -> MethodResult:
    """Dataset-cartography region: ambiguous (high variability), easy or hard."""
    cols = trained_or_given_columns(ctx, cfg.columns, method="cartography", minimum=2)
    x = ctx.trajectories(cols)
    nan = check_nan_rows(x, method="cartography", fallback="they are ranked last")
    mu, sigma = cartography_stats(x)
    if cfg.region == "ambiguous":
        picked = top_k_by_score(sigma, budget, descending=True)
    elif cfg.region == "easy":
        picked = top_k_by_score(mu, budget, descending=True)
    else:
        picked = top_k_by_score(mu, budget, descending=False)
    return MethodResult(
        indices=picked,
        stats={
            "columns": cols.tolist(),
            "region": cfg.region,
            "mean_confidence_selected": float(np.nanmean(mu[picked]))
            if (~nan[picked]).any()
            else None,
            "mean_variability_selected": float(np.nanmean(sigma[picked]))
            if (~nan[picked]).any()
            else None,
            **nan_fallback_stats(nan, picked),
        },
    )
