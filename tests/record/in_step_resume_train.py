"""Train a tiny Phi with in-step recording, killed right after a Trainer checkpoint.

Usage: in_step_resume_train.py DATA_DIR TOKENIZER_DIR WORK_DIR MODE
MODE ``kill``: train 2 epochs (6 steps each, checkpoints every 3 steps) into WORK_DIR/run and
WORK_DIR/traj and die (os._exit) in ``on_save`` of step 3: the checkpoint is on disk, the
recorder's own ``on_save`` never ran. MODE ``resume``: continue with
``resume_from_checkpoint=True``, then train an uninterrupted reference run into
WORK_DIR/full_run + WORK_DIR/full_traj.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from transformers import TrainerCallback

from hf_s2l import TrajectoryCallback
from tests._train_script import tiny_trainer

KILL_STEP = 3
EXIT_CODE = 3


class DieAfterCheckpoint(TrainerCallback):
    """Exit once the checkpoint of ``KILL_STEP`` is written (before later callbacks' on_save)."""

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == KILL_STEP:
            os._exit(EXIT_CODE)


def train(data_dir: str, tok_dir: str, run_dir: Path, store_dir: Path, kill: bool, resume: bool):
    callbacks = [DieAfterCheckpoint()] if kill else []
    callbacks.append(TrajectoryCallback(store_dir, mode="in_step"))
    trainer = tiny_trainer(
        data_dir,
        tok_dir,
        run_dir,
        callbacks=callbacks,
        family="phi",
        per_device_train_batch_size=8,
        num_train_epochs=2,
        save_strategy="steps",
        save_steps=3,
    )
    trainer.train(resume_from_checkpoint=True if resume else None)


def main() -> None:
    data_dir, tok_dir, work, mode = sys.argv[1:5]
    w = Path(work)
    if mode == "kill":
        train(data_dir, tok_dir, w / "run", w / "traj", kill=True, resume=False)
        raise SystemExit("training finished although it should have been killed")
    if mode == "resume":
        train(data_dir, tok_dir, w / "run", w / "traj", kill=False, resume=True)
        train(data_dir, tok_dir, w / "full_run", w / "full_traj", kill=False, resume=False)
        return
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
