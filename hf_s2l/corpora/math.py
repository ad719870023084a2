"""Old import path of the math mixture and evaluation sets: the code lives in :mod:`hf_s2l.experiments.corpora.math`."""

from hf_s2l.experiments.corpora.math import (
    EVAL_SETS,
    MIX_SOURCES,
    load_math_eval,
    load_math_mixture,
)
from hf_s2l.experiments.corpora.math import _gsm8k_rows as _gsm8k_rows

__all__ = [
    "EVAL_SETS",
    "MIX_SOURCES",
    "load_math_eval",
    "load_math_mixture",
]
