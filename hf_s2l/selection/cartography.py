"""Old path of :mod:`hf_s2l.selection.methods.cartography`; kept importable."""

from .methods.cartography import (  # noqa: F401
    REGIONS,
    CartographyConfig,
    _read_columns,
    cartography,
    cartography_stats,
)
