"""``attach(trainer)``: wire the recording callback to its Trainer explicitly.

In the spirit of bergson's ``prepare_for_gradient_collection(trainer)``: the Trainer is
prepared up front instead of being discovered later. ``attach`` adds a
:class:`~hf_s2l.TrajectoryCallback` to ``trainer`` (unless it already holds it) and calls
:meth:`~hf_s2l.TrajectoryCallback.set_trainer`, which also reaches the in-step recorder. A plain
``Trainer(..., callbacks=[TrajectoryCallback(...)])`` keeps working: the Trainer is then found
on the call stack (:func:`hf_s2l.record.run.find_trainer`, one warning per process).

Example:
    >>> trainer = Trainer(model, args, train_dataset=ds, data_collator=collator)
    >>> callback = attach(trainer, output_dir="traj", num_points=12, batch_size=64)
    >>> trainer.train()
"""

from __future__ import annotations

from typing import Any

from .callback import TrajectoryCallback
from .run import holds

__all__ = ["attach"]


def attach(
    trainer: Any, callback: TrajectoryCallback | None = None, **callback_kwargs: Any
) -> TrajectoryCallback:
    """Add ``callback`` (or ``TrajectoryCallback(**callback_kwargs)``) to ``trainer`` and wire it.

    With no arguments, wires the one :class:`TrajectoryCallback` the Trainer already holds
    (``Trainer(..., callbacks=[TrajectoryCallback(...)])`` then ``attach(trainer)``).
    Returns the callback. Passing both ``callback`` and keyword arguments is an error, as is a
    ``trainer`` without ``add_callback``.
    """
    if callback is not None and callback_kwargs:
        raise TypeError("pass either callback=TrajectoryCallback(...) or its arguments, not both")
    if not callable(getattr(trainer, "add_callback", None)):
        raise TypeError(
            f"attach() needs a transformers Trainer (with add_callback), got {type(trainer).__name__}"
        )
    if callback is None and not callback_kwargs:
        held = [
            cb
            for cb in getattr(getattr(trainer, "callback_handler", None), "callbacks", [])
            if isinstance(cb, TrajectoryCallback)
        ]
        if len(held) != 1:
            raise TypeError(
                "attach(trainer) with no arguments wires the TrajectoryCallback the Trainer "
                f"already holds, but it holds {len(held)}; pass callback=... or its arguments"
            )
        callback = held[0]
    if callback is None:
        callback = TrajectoryCallback(**callback_kwargs)
    elif not isinstance(callback, TrajectoryCallback):
        raise TypeError(
            f"callback must be a TrajectoryCallback, got {type(callback).__name__}; "
            "an InStepRecorder is TrajectoryCallback(..., mode='in_step')"
        )
    if not holds(trainer, callback):
        trainer.add_callback(callback)
    callback.set_trainer(trainer)
    return callback
