"""Store: the memory-mapped per-example loss matrix every selection method reads."""

from .trajectory_store import StoreMismatchError, TrajectoryStore, is_store

__all__ = ["StoreMismatchError", "TrajectoryStore", "is_store"]
