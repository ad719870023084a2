"""Old path of :mod:`hf_s2l.selection.methods.random`; kept importable."""

from .methods.random import (  # noqa: F401
    random_selection,
)
