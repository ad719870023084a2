"""The demo's one-sentence verdict (its results table is the report's comparison table:
:func:`hf_s2l.report.outcomes.comparison_table`)."""

from __future__ import annotations

from .config import METHOD_LABELS, TargetResult


def summary_sentence(
    results: list[TargetResult], budget: float, n_train: int, target_params: int, seed: int
) -> str:
    """The demo's one-sentence verdict: what it measured, and what it does not show."""
    by = {r.method: r.heldout_loss for r in results}
    comp = []
    for m in ("random_by_source", "random"):
        if "s2l" in by and m in by:
            d = by["s2l"] - by[m]
            comp.append(f"{d:+.3f} vs {METHOD_LABELS[m]}")
    comp_txt = f" (S2L {', '.join(comp)}; negative = S2L better)" if comp else ""
    return (
        f"Measured: the loss on a held-out 10% of every source (never trained on) of a "
        f"{target_params / 1e6:.2f}M-parameter target trained 3 epochs on {budget:.0%} of "
        f"{n_train:,} math examples chosen by each method, one seed{comp_txt}; not shown: "
        "whether such differences exceed seed-to-seed noise (docs/benchmarks.md has 5 seeds "
        "with intervals), nor the paper's setting (pretrained models fine-tuned on 262K "
        "examples; these are from-scratch models thousands of times smaller)."
    )
