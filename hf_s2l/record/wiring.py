"""``attach(trainer)``: wire the recording callback to its Trainer explicitly.

In the spirit of bergson's ``prepare_for_gradient_collection(trainer)``: the Trainer is
prepared up front instead of being discovered later. ``attach`` adds a
:class:`~hf_s2l.TrajectoryCallback` to ``trainer`` (unless it already holds one: it never adds
a second recorder) and calls :meth:`~hf_s2l.TrajectoryCallback.set_trainer`, which also
reaches the in-step recorder. A plain
``Trainer(..., callbacks=[TrajectoryCallback(...)])`` keeps working: the Trainer is then found
on the call stack (:func:`hf_s2l.record.run.find_trainer`, one warning per process).

Example:
    >>> trainer = Trainer(model, args, train_dataset=ds, data_collator=collator)
    >>> callback = attach(trainer, output_dir="traj", num_points=12, batch_size=64)
    >>> trainer.train()
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .callback import TrajectoryCallback
from .recorders import RecorderConflictError, check_recorders, recorder_folders, recorders
from .run import holds

__all__ = ["attach"]


def attach(
    trainer: Any, callback: TrajectoryCallback | None = None, **callback_kwargs: Any
) -> TrajectoryCallback:
    """Add ``callback`` (or ``TrajectoryCallback(**callback_kwargs)``) to ``trainer`` and wire it.

    A Trainer takes one recorder, and ``attach`` never adds a second one:

    * ``attach(trainer)`` wires the :class:`TrajectoryCallback` the Trainer already holds
      (``Trainer(..., callbacks=[TrajectoryCallback(...)])``), or, if it holds none, adds
      ``TrajectoryCallback(<args.output_dir>/trajectories)`` (the default schedule);
    * ``attach(trainer, callback)`` adds ``callback`` unless the Trainer holds it already.

    Calling it again is harmless (the callback is wired once more, never added twice);
    ``attach(trainer, callback)`` or ``attach(trainer, output_dir=...)`` on a Trainer that
    holds another recorder raises :class:`~hf_s2l.record.recorders.RecorderConflictError`.
    Returns the callback. Checks what would fail later before training (an empty training
    set, two recorders of one store). Passing both ``callback`` and keyword arguments is a
    ``TypeError``, as is a ``trainer`` without ``add_callback``.
    """
    if callback is not None and callback_kwargs:
        raise TypeError("pass either callback=TrajectoryCallback(...) or its arguments, not both")
    if not callable(getattr(trainer, "add_callback", None)):
        raise TypeError(
            f"attach() needs a transformers Trainer (with add_callback), got {type(trainer).__name__}"
        )
    if callback is not None and not isinstance(callback, TrajectoryCallback):
        raise TypeError(
            f"callback must be a TrajectoryCallback, got {type(callback).__name__}; "
            "an InStepRecorder is TrajectoryCallback(..., mode='in_step')"
        )
    held = recorders(trainer)
    if callback is None and not callback_kwargs and held:
        check_recorders(trainer)  # the same one twice, or two of one store
        if len(held) > 1 or not isinstance(held[0], TrajectoryCallback):
            raise RecorderConflictError(
                f"attach(trainer) wires the one TrajectoryCallback of a Trainer, but it holds "
                f"{len(held)} recorder(s): {', '.join(type(c).__name__ for c in held)}; pass "
                "callback=... to say which"
            )
        callback = held[0]
    added = False
    if callback is None or not holds(trainer, callback):
        if held:
            raise RecorderConflictError(
                f"the Trainer already holds a recorder, {type(held[0]).__name__} writing "
                f"{', '.join(map(str, recorder_folders(held[0]) or []))}; attach never adds a "
                "second one. attach(trainer) wires the one it holds; to record elsewhere, "
                "remove it first (trainer.remove_callback(callback))"
            )
        if callback is None:
            if not callback_kwargs:  # attach(trainer) adds one if there is none (README)
                out = getattr(getattr(trainer, "args", None), "output_dir", None) or "."
                callback_kwargs = {"output_dir": Path(out) / DEFAULT_SUBDIR}
            callback = TrajectoryCallback(**callback_kwargs)
        trainer.add_callback(callback)
        added = True
    try:
        callback.check_trainer(trainer)  # what would fail later, refused before training
    except BaseException:
        if added:
            trainer.remove_callback(callback)
        raise
    callback.set_trainer(trainer)
    return callback


# ``attach(trainer)`` with no callback records into ``<TrainingArguments.output_dir>/trajectories``
DEFAULT_SUBDIR = "trajectories"
