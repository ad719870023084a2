"""Old path of :mod:`hf_s2l.selection.methods.learning_percentage`; kept importable."""

from .methods.learning_percentage import (  # noqa: F401
    CLUSTER_SIZES,
    KMEANS_BACKENDS,
    OFFICIAL,
    OFFICIAL_KMEANS_RANDOM_STATE,
    OFFICIAL_NUM_CLUSTERS,
    UNCLUSTERED_NOTE,
    VARIANTS,
    LPConfig,
    _read_columns,
    _select_in_clusters,
    find_lp_columns,
    learning_percentage,
    lp_scores,
    official_budget,
    rank_ascending,
)
from .methods.lp_clusters import Texts, cluster_labels, kmeans_labels  # noqa: F401
from .official import official_lp_subset  # noqa: F401
from .quota import exact_cluster_quotas, official_cluster_quotas, official_split_count  # noqa: F401
