"""Old import path of math answer checking: the code lives in :mod:`hf_s2l.experiments.eval.math_answers`."""

from hf_s2l.experiments.eval.math_answers import (
    answers_match,
    extract_answer,
    extract_choice,
    find_numbers,
    is_correct,
    math_accuracy,
    parse_number,
)

__all__ = [
    "answers_match",
    "extract_answer",
    "extract_choice",
    "find_numbers",
    "is_correct",
    "math_accuracy",
    "parse_number",
]
