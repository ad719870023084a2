"""Record: per-example loss trajectories of a proxy model while a ``Trainer`` trains.

- :class:`TrajectoryCallback` — the one callback to add to a Trainer (probe mode: a no-grad
  pass over the whole training set at each point of a :class:`RecordingSchedule`).
- :func:`attach` — add the callback to a Trainer and wire it explicitly (``set_trainer``);
  one recorder per store (:class:`RecorderConflictError`, see ``recorders.py``).
- :func:`per_example_loss` — the single loss definition shared by every recording mode.
- :func:`has_target` — whether a row has a target token (the rule behind NaN losses).
"""

from __future__ import annotations

from typing import Any

from .callback import TrajectoryCallback
from .losses import has_target, per_example_loss
from .probe import ProbeError
from .recorders import RecorderConflictError
from .schedule import RecordingSchedule
from .wiring import attach

__all__ = [
    "ProbeError",
    "RecorderConflictError",
    "RecordingSchedule",
    "TrajectoryCallback",
    "attach",
    "has_target",
    "per_example_loss",
]


def __getattr__(name: str) -> Any:
    if name == "InStepRecorder":  # written separately; imported only when asked for
        from .in_step import InStepRecorder

        return InStepRecorder
    raise AttributeError(f"module 'hf_s2l.record' has no attribute {name!r}")
