"""Old path of :mod:`hf_s2l.selection.methods.middle_perplexity`; kept importable."""

from .methods.middle_perplexity import (  # noqa: F401
    MiddlePerplexityConfig,
    _read_columns,
    middle_perplexity,
)
