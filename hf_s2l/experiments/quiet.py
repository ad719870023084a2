"""Keep the Trainer's progress bars, drop the raw log dicts it prints to the terminal."""

from __future__ import annotations

from typing import Any

from transformers import PrinterCallback, ProgressCallback


class BarsOnlyProgressCallback(ProgressCallback):
    """A ``ProgressCallback`` whose ``on_log`` prints nothing (the bars stay)."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        return None


def quiet_trainer(trainer: Any) -> Any:
    """Replace ``trainer``'s log printer: progress bars (when enabled) without the
    ``{'train_runtime': ...}`` dicts; nothing at all with ``disable_tqdm``. Returns it."""
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    if not trainer.args.disable_tqdm:
        trainer.add_callback(BarsOnlyProgressCallback)
    return trainer
