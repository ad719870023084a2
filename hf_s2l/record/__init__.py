"""Record: per-example loss trajectories of a proxy model while a ``Trainer`` trains.

- :class:`TrajectoryCallback` — the one callback to add to a Trainer (probe mode: a no-grad
  pass over the whole training set at each point of a :class:`RecordingSchedule`).
- :func:`per_example_loss` — the single loss definition shared by every recording mode.
"""

from __future__ import annotations

from typing import Any

from .callback import TrajectoryCallback
from .losses import per_example_loss
from .probe import ProbeError
from .schedule import RecordingSchedule

__all__ = ["ProbeError", "RecordingSchedule", "TrajectoryCallback", "per_example_loss"]


def __getattr__(name: str) -> Any:
    if name == "InStepRecorder":  # written separately; imported only when asked for
        from .in_step import InStepRecorder

        return InStepRecorder
    raise AttributeError(f"module 'hf_s2l.record' has no attribute {name!r}")
