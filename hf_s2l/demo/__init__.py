"""Demo: the whole pipeline offline in minutes (``hf-s2l demo`` / :func:`run_demo`)."""

from .heldout import answer_token_loss
from .run import DemoConfig, DemoResult, MethodResult, demo_data_dir, run_demo

__all__ = [
    "DemoConfig",
    "DemoResult",
    "MethodResult",
    "answer_token_loss",
    "demo_data_dir",
    "run_demo",
]
