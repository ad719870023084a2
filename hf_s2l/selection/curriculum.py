"""Old path of :mod:`hf_s2l.selection.methods.curriculum`; kept importable."""

from .methods.curriculum import (  # noqa: F401
    SUBSETS,
    CurriculumConfig,
    _read_columns,
    curriculum,
)
