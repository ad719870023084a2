"""Train a tiny Phi with TrajectoryCallback for the resume test.

(Phi, not GPT-NeoX: transformers 5.24's Trainer does not restore GPT-NeoX's ``lm_head`` on
resume — the checkpoint stores it as ``embed_out`` — so GPT-NeoX training itself does not
resume exactly.)

Usage: resume_train.py DATA_DIR TOKENIZER_DIR WORK_DIR MODE
MODE ``kill``: train into WORK_DIR/run (checkpoints every 3 steps) and WORK_DIR/traj, and
die (os._exit) half-way through writing the column of step 6, after checkpoint-3 and before
checkpoint-6. MODE ``resume``: continue with ``resume_from_checkpoint=True``, then train an
uninterrupted reference run into WORK_DIR/full_run + WORK_DIR/full_traj.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hf_s2l import TrajectoryCallback
from tests._train_script import die_mid_column, tiny_trainer

KILL_STEP = 6
EXIT_CODE = 3


def train(data_dir: str, tok_dir: str, run_dir: Path, store_dir: Path, resume: bool) -> None:
    cb = TrajectoryCallback(
        store_dir,
        every_n_steps=2,
        num_points=None,
        at_epoch_end=False,
        at_train_begin=True,
        batch_size=5,
        write_every=1,
    )
    trainer = tiny_trainer(
        data_dir,
        tok_dir,
        run_dir,
        callbacks=[cb],
        family="phi",
        per_device_train_batch_size=8,
        max_steps=8,
        save_strategy="steps",
        save_steps=3,
        logging_steps=1,
    )
    trainer.train(resume_from_checkpoint=True if resume else None)


def main() -> None:
    data_dir, tok_dir, work, mode = sys.argv[1:5]
    work_dir = Path(work)
    if mode == "kill":
        die_mid_column(KILL_STEP, EXIT_CODE)
        train(data_dir, tok_dir, work_dir / "run", work_dir / "traj", resume=False)
        raise SystemExit("training finished although it should have been killed")
    if mode == "resume":
        train(data_dir, tok_dir, work_dir / "run", work_dir / "traj", resume=True)
        train(data_dir, tok_dir, work_dir / "full_run", work_dir / "full_traj", resume=False)
        return
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
