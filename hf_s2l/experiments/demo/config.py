"""The demo's settings and results: :class:`DemoConfig`, :class:`TargetResult`,
:class:`DemoResult` and the method table :data:`DEMO_METHODS`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METHOD_LABELS = {
    "s2l": "S2L (by source)",
    "random_by_source": "random by source",
    "random": "random",
    "lp": "LP(1), unclustered",
    "full": "full data",
}
# demo method -> (registered hf-s2l method, select() keyword arguments)
DEMO_METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "s2l": ("s2l", {"by_column": "source"}),
    "random_by_source": ("random", {"by_column": "source"}),
    "random": ("random", {}),
    # the official LP clusters MiniLM embeddings (optional dependency); the demo ranks over
    # the whole set on purpose so it runs with the core dependencies only
    "lp": ("lp", {"unclustered": True}),
}
SPLIT_SEED = 1234  # the held-out split is fixed: it never depends on --seed


@dataclass
class DemoConfig:
    """Settings of :func:`run_demo`; ``DemoConfig.fast()`` is the CI-sized variant.

    Sizes are chosen so that the default run stays within 3 minutes on an idle 2-core
    CPU machine (see ``docs/benchmarks.md`` for the measured time) and ``fast()`` takes
    about 20 seconds.
    """

    out_dir: str = "hf-s2l-demo"
    budget: float = 0.3
    methods: tuple[str, ...] = ("s2l", "random_by_source", "random", "lp")
    seed: int = 0
    max_train_examples: int | None = 1200  # of the 1,500 embedded rows (None = all): <= 3 min
    max_heldout_examples: int | None = None  # None = all 200 GSM8K test rows
    heldout_fraction: float = 0.1  # of every source, never trained on (the headline)
    vocab_size: int = 1024
    max_length: int = 256
    # proxy (tiny GPT-NeoX); recorded with the default schedule (step 0 + 12 points)
    proxy_hidden_size: int = 16
    proxy_layers: int = 2
    proxy_heads: int = 2
    proxy_epochs: int = 3
    num_points: int = 12
    # target (tiny GPT-NeoX, >= 4x the proxy), 3 epochs on every subset (official S2L)
    target_hidden_size: int = 64
    target_layers: int = 2
    target_heads: int = 4
    target_epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 3e-3
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.03
    probe_batch_size: int = 64
    s2l_num_clusters: int = 10
    num_threads: int | None = 1  # tiny models: a 2nd thread costs more than it gives
    data_dir: str | None = None  # default: the package's embedded math_demo data
    progress_bars: bool = True

    @classmethod
    def fast(cls, **overrides: Any) -> DemoConfig:
        """The ``--fast`` variant for CI (about a minute on 2 cores)."""
        cfg = cls(
            max_train_examples=320,
            max_heldout_examples=48,
            vocab_size=1024,
            proxy_hidden_size=16,
            proxy_layers=1,
            proxy_heads=2,
            num_points=6,
            target_hidden_size=48,
            target_layers=2,
            target_heads=4,
            s2l_num_clusters=4,
        )
        for k, v in overrides.items():
            setattr(cfg, k, v)
        return cfg


@dataclass
class TargetResult:
    """One target model's outcome: ``heldout_loss`` is the loss on the pool's held-out split
    (the headline), ``gsm8k_test_loss`` on the GSM8K test rows."""

    method: str
    examples: int
    heldout_loss: float
    heldout_perplexity: float
    gsm8k_test_loss: float
    train_seconds: float
    per_source: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoResult:
    """What :func:`run_demo` produced; ``table`` is the markdown results table."""

    out_dir: Path
    results: list[TargetResult]
    table: str
    report_html: Path
    results_json: Path
    results_md: Path
    store_dir: Path
    proxy_seconds: float
    total_seconds: float
    failures: dict[str, str] = field(default_factory=dict)
    summary: str = ""


# the old name (before issue 21); hf_s2l.selection's MethodResult is another class
MethodResult = TargetResult
