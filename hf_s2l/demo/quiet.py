"""Old import path of progress bars without log dicts: the code lives in :mod:`hf_s2l.experiments.quiet`."""

from hf_s2l.experiments.quiet import (
    BarsOnlyProgressCallback,
    quiet_trainer,
)

__all__ = [
    "BarsOnlyProgressCallback",
    "quiet_trainer",
]
