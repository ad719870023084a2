"""Evaluation helpers used by the recipes: math answer checking and clinical summary metrics."""

from .clinical import AVAILABLE_METRICS, clinical_metrics, load_metric
from .math_answers import (
    answers_match,
    extract_answer,
    extract_choice,
    find_numbers,
    is_correct,
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
