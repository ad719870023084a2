"""Old path of :mod:`hf_s2l.selection.methods.high_learnability`; kept importable."""

from .methods.high_learnability import (  # noqa: F401
    HighLearnabilityConfig,
    _read_columns,
    high_learnability,
)
