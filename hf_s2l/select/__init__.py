"""Select: choose a training subset from a trajectory store (S2L, LP, baselines)."""

from .selection import Selection

__all__ = ["Selection"]
