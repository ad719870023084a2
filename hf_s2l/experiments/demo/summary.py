"""The demo's results table and its one-sentence verdict."""

from __future__ import annotations

from .config import METHOD_LABELS, TargetResult


def _markdown_table(
    results: list[TargetResult],
    n_train: int,
    failures: dict[str, str] | None = None,
) -> str:
    random_loss = next((r.heldout_loss for r in results if r.method == "random"), None)
    lines = [
        "| method | examples used | held-out loss (10% of each source) | vs random "
        "| GSM8K test loss | target training time | examples per source |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        delta = (
            ""
            if random_loss is None or r.method in ("random", "full")
            else f"{r.heldout_loss - random_loss:+.4f}"
        )
        lines.append(
            f"| {METHOD_LABELS.get(r.method, r.method)} | {r.examples} "
            f"({100 * r.examples / n_train:.0f}%) | {r.heldout_loss:.4f} | {delta} "
            f"| {r.gsm8k_test_loss:.4f} | {r.train_seconds:.1f} s "
            f"| {', '.join(f'{k} {v}' for k, v in r.per_source.items())} |"
        )
    for method, err in (failures or {}).items():
        short = err if len(err) <= 120 else err[:117] + "..."
        lines.append(
            f"| {METHOD_LABELS.get(method, method)} | selection failed: {short} | | | | | |"
        )
    return "\n".join(lines)


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
        "whether such differences exceed seed-to-seed noise (docs/benchmarks.md has 3 seeds "
        "with intervals), nor the paper's setting (pretrained models fine-tuned on 262K "
        "examples; these are from-scratch models thousands of times smaller)."
    )
