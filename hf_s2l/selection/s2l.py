"""Old path of :mod:`hf_s2l.selection.methods.s2l`; kept importable."""

from .methods.s2l import (  # noqa: F401
    OFFICIAL,
    POINTS_RULE,
    S2LConfig,
    _cluster_codes,
    _s2l_used_columns,
    _scalar,
    s2l,
    s2l_columns,
    s2l_feature_columns,
    sample_from_clusters,
)
