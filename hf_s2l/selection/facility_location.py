"""Old path of :mod:`hf_s2l.selection.methods.facility_location`; kept importable."""

from .methods.facility_location import (  # noqa: F401
    FacilityLocationConfig,
    _trajectory_columns,
    _used_columns,
    facility_location,
    knn_graph,
    lazy_greedy_facility_location,
)
