"""Random selection: ``budget`` examples drawn uniformly without replacement.

``S = rng.choice(N, budget, replace=False)`` with ``rng = numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from ..base import MethodResult, register_method
from ..context import MethodContext


@register_method("random")
def random_selection(ctx: MethodContext, budget: int, cfg: dict) -> MethodResult:
    """Uniformly random subset (the S2L paper's "Random" baseline)."""
    if cfg:
        raise ValueError(f"random takes no parameters, got {sorted(cfg)}")
    return MethodResult(indices=ctx.rng.choice(ctx.num_rows, budget, replace=False))
