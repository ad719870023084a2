"""Old import path of radiology reports: the code lives in :mod:`hf_s2l.experiments.corpora.radiology`."""

from hf_s2l.experiments.corpora.radiology import (
    load_radiology_reports,
)

__all__ = [
    "load_radiology_reports",
]
