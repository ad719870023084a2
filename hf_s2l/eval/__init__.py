"""Old import path of math answer checking and clinical summary metrics: the code lives in :mod:`hf_s2l.experiments.eval`."""

from hf_s2l.experiments.eval import (
    AVAILABLE_METRICS,
    answers_match,
    clinical_metrics,
    extract_answer,
    extract_choice,
    find_numbers,
    is_correct,
    load_metric,
    math_accuracy,
    parse_number,
)

__all__ = [
    "AVAILABLE_METRICS",
    "answers_match",
    "clinical_metrics",
    "extract_answer",
    "extract_choice",
    "find_numbers",
    "is_correct",
    "load_metric",
    "math_accuracy",
    "parse_number",
]
