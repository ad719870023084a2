"""Confidence curriculum (Varshney et al., 2022, "Model Cartography"-style curriculum; the
S2L paper's "Confidence Curriculum" baseline).

Confidence ``c_i = mean_t exp(-L_it)`` over the chosen columns (default: every complete
column recorded after training started: the before-training column, ``train_begin`` or a
step-0 column of a probe store, is left out; in-step ``epoch`` columns are kept). The subset is ``subset``: ``"random"`` (default: ``budget``
examples uniformly at random, so the curriculum changes only the order), ``"easiest"``
(largest ``c``) or ``"hardest"`` (smallest ``c``). The Selection's ``order`` lists the
chosen examples easy → hard (``c`` descending, ties by row index) for a trainer that
follows it (e.g. with a sequential sampler). All-NaN rows (unknown confidence) rank last
for ``easiest``/``hardest`` and come last in the order (warned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._common import check_nan_rows, nan_fallback_stats, top_k_by_score
from ..base import MethodResult, register_method
from ..column_roles import trained_or_given_columns
from ..context import MethodContext
from .cartography import cartography_stats

SUBSETS = ("random", "easiest", "hardest")


@dataclass
class CurriculumConfig:
    """``subset``: random / easiest / hardest; ``columns``: store columns used."""

    subset: str = "random"
    columns: list[int] | None = None

    def validate(self) -> None:
        if self.subset not in SUBSETS:
            raise ValueError(f"curriculum: subset must be one of {SUBSETS}, got {self.subset!r}")


def _read_columns(ctx: MethodContext, cfg: CurriculumConfig) -> list[int]:
    """The columns summarised (for the unscored-row policy)."""
    return trained_or_given_columns(ctx, cfg.columns, method="curriculum", minimum=1).tolist()


@register_method(
    "curriculum", config=CurriculumConfig, min_columns=1, orders=True, columns=_read_columns
)
def curriculum(ctx: MethodContext, budget: int, cfg: CurriculumConfig) -> MethodResult:
    """Confidence curriculum: a subset ordered from easy (high confidence) to hard."""
    cols = trained_or_given_columns(ctx, cfg.columns, method="curriculum", minimum=1)
    x = ctx.trajectories(cols)
    nan = check_nan_rows(x, method="curriculum", fallback="they are ranked and ordered last")
    conf, _ = cartography_stats(x)
    if cfg.subset == "random":
        picked = ctx.rng.choice(ctx.num_rows, budget, replace=False)
    else:
        picked = top_k_by_score(conf, budget, descending=cfg.subset == "easiest")
    return MethodResult(
        indices=picked,
        order_key=np.where(nan[picked], np.inf, -conf[picked]),
        stats={"columns": cols.tolist(), "subset": cfg.subset, **nan_fallback_stats(nan, picked)},
    )
