"""When the probe pass runs: the recording schedule of :class:`~hf_s2l.TrajectoryCallback`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ..store.kinds import EPOCH_END, INTERVAL, KIND_SEPARATOR, POINT, join_kinds

__all__ = ["KIND_SEPARATOR", "RecordingSchedule", "join_kinds"]


@dataclass
class RecordingSchedule:
    """Recording points; the triggers combine, and a step hit by several gets one column.

    Attributes:
        at_train_begin: record at step 0, before any update (kind ``train_begin``;
            needed by Learning Percentage).
        at_epoch_end: record at the end of every epoch (kind ``epoch_end``; needed by LP).
            With ``num_points`` over whole epochs the epoch ends usually coincide with points,
            so this default costs no extra pass.
        every_n_steps: record every ``n`` optimizer steps (kind ``interval``).
        num_points: record ``K`` points evenly spaced over ``state.max_steps``, the last one
            at the final step (kind ``point``). ``num_points=12`` plus step 0 is the S2L
            default.
    """

    at_train_begin: bool = True
    at_epoch_end: bool = True
    every_n_steps: int | None = None
    num_points: int | None = 12

    def __post_init__(self) -> None:
        for name in ("every_n_steps", "num_points"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
                raise ValueError(
                    f"RecordingSchedule.{name} must be a positive int or None, got {v!r}"
                )

    def point_steps(self, max_steps: int) -> list[int]:
        """The ``num_points`` steps evenly spaced over ``1..max_steps`` (ascending, unique)."""
        k = self.num_points
        if not k or max_steps <= 0:
            return []
        # round(i * max_steps / k), half up, in integer arithmetic
        steps = {(2 * i * max_steps + k) // (2 * k) for i in range(1, k + 1)}
        return sorted(s for s in steps if s > 0)

    def kinds_at_step(self, global_step: int, max_steps: int, epoch_end: bool = False) -> list[str]:
        """Why ``global_step`` (after an optimizer step, so ``>= 1``) is recorded; empty if not."""
        kinds = []
        if self.num_points and global_step in self.point_steps(max_steps):
            kinds.append(POINT)
        if self.every_n_steps and global_step % self.every_n_steps == 0:
            kinds.append(INTERVAL)
        if self.at_epoch_end and epoch_end:
            kinds.append(EPOCH_END)
        return kinds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
