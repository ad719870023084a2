"""Demo: the whole pipeline offline in minutes (``hf-s2l demo`` / :func:`run_demo`).

- :mod:`.config` — :class:`DemoConfig`, :class:`TargetResult`, :class:`DemoResult`;
- :mod:`.data` — the embedded math data and its fixed held-out split;
- :mod:`.run` — :func:`run_demo`, on the shared loop :mod:`hf_s2l.experiments.loop`;
- :mod:`.summary` — the results table and the one-sentence verdict.
"""

from ..heldout import answer_token_loss
from .config import (
    DEMO_METHODS,
    METHOD_LABELS,
    SPLIT_SEED,
    DemoConfig,
    DemoResult,
    MethodResult,
    TargetResult,
)
from .data import demo_data_dir, split_heldout
from .run import run_demo
from .summary import summary_sentence

__all__ = [
    "DEMO_METHODS",
    "METHOD_LABELS",
    "SPLIT_SEED",
    "DemoConfig",
    "DemoResult",
    "MethodResult",
    "TargetResult",
    "answer_token_loss",
    "demo_data_dir",
    "run_demo",
    "split_heldout",
    "summary_sentence",
]
