"""Old import path of the demo (``hf-s2l demo`` / :func:`run_demo`): the code lives in :mod:`hf_s2l.experiments.demo`."""

from hf_s2l.experiments.demo import (
    DemoConfig,
    DemoResult,
    MethodResult,
    TargetResult,
    answer_token_loss,
    demo_data_dir,
    run_demo,
)

__all__ = [
    "DemoConfig",
    "DemoResult",
    "MethodResult",
    "TargetResult",
    "answer_token_loss",
    "demo_data_dir",
    "run_demo",
]
