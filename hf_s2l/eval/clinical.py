"""Old import path of clinical summary metrics: the code lives in :mod:`hf_s2l.experiments.eval.clinical`."""

from hf_s2l.experiments.eval.clinical import (
    AVAILABLE_METRICS,
    DEFAULT_BERTSCORE_MODEL,
    METRICS_DIR,
    clinical_metrics,
    load_metric,
)

__all__ = [
    "AVAILABLE_METRICS",
    "DEFAULT_BERTSCORE_MODEL",
    "METRICS_DIR",
    "clinical_metrics",
    "load_metric",
]
