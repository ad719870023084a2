"""Old path of :mod:`hf_s2l.selection.methods.least_confidence`; kept importable."""

from .methods.least_confidence import (  # noqa: F401
    LeastConfidenceConfig,
    _read_columns,
    least_confidence,
)
