"""Store: the memory-mapped per-example loss matrix every selection method reads."""

from .errors import StoreChangedError, StoreCorruptError, StoreLockedError, StoreMismatchError
from .trajectory_store import TrajectoryStore, is_store

__all__ = [
    "StoreChangedError",
    "StoreCorruptError",
    "StoreLockedError",
    "StoreMismatchError",
    "TrajectoryStore",
    "is_store",
]
