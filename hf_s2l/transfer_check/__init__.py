"""Transfer check: do a small proxy's loss trajectories stand for a large target's?"""

from .align import TransferAlignmentError, align_rows, column_progress, match_columns
from .check import (
    NUMERIC_KEYS,
    TransferData,
    TransferOptions,
    TransferReport,
    analyse,
    transfer,
    verdict,
)

__all__ = [
    "NUMERIC_KEYS",
    "TransferAlignmentError",
    "TransferData",
    "TransferOptions",
    "TransferReport",
    "align_rows",
    "analyse",
    "column_progress",
    "match_columns",
    "transfer",
    "verdict",
]
