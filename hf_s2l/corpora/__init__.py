"""Old import path of corpora loaders and SFT formatting: the code lives in :mod:`hf_s2l.experiments.corpora`."""

from hf_s2l.experiments.corpora import (
    ALPACA_PROMPT,
    format_prompt,
    load_math_eval,
    load_math_mixture,
    load_radiology_reports,
    tokenize_sft,
)

__all__ = [
    "ALPACA_PROMPT",
    "format_prompt",
    "load_math_eval",
    "load_math_mixture",
    "load_radiology_reports",
    "tokenize_sft",
]
