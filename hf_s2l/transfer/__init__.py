"""Transfer check: do a small proxy's loss trajectories stand for a large target's?"""

from .align import TransferAlignmentError, align_rows, column_progress, match_columns
from .check import NUMERIC_KEYS, TransferData, TransferReport, analyse, transfer, verdict

__all__ = [
    "NUMERIC_KEYS",
    "TransferAlignmentError",
    "TransferData",
    "TransferReport",
    "align_rows",
    "analyse",
    "column_progress",
    "match_columns",
    "transfer",
    "verdict",
]


class _CallableModule(__import__("types").ModuleType):
    """``hf_s2l.transfer`` is this package *and* the function: calling it runs the check."""

    def __call__(self, *args, **kwargs) -> TransferReport:
        return transfer(*args, **kwargs)


__import__("sys").modules[__name__].__class__ = _CallableModule
