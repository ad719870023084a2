"""Old import path of the demo pipeline: the code lives in :mod:`hf_s2l.experiments.demo`."""

from hf_s2l.experiments.demo import (
    DEMO_METHODS,
    METHOD_LABELS,
    SPLIT_SEED,
    DemoConfig,
    DemoResult,
    MethodResult,
    TargetResult,
    demo_data_dir,
    run_demo,
    split_heldout,
    summary_sentence,
)
from hf_s2l.experiments.demo.data import _read_jsonl as _read_jsonl

__all__ = [
    "DEMO_METHODS",
    "DemoConfig",
    "DemoResult",
    "METHOD_LABELS",
    "MethodResult",
    "SPLIT_SEED",
    "TargetResult",
    "demo_data_dir",
    "run_demo",
    "split_heldout",
    "summary_sentence",
]
