"""Store: the memory-mapped per-example loss matrix every selection method reads."""

from .errors import StoreCorruptError, StoreLockedError, StoreMismatchError
from .trajectory_store import TrajectoryStore, is_store

__all__ = [
    "StoreCorruptError",
    "StoreLockedError",
    "StoreMismatchError",
    "TrajectoryStore",
    "is_store",
]
