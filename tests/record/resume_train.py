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

import os
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)

import datasets  # noqa: E402
from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments  # noqa: E402

from hf_s2l import TrajectoryCallback, TrajectoryStore  # noqa: E402
from hf_s2l.tiny import tiny_model  # noqa: E402

KILL_STEP = 6
EXIT_CODE = 3


def train(data_dir: str, tok_dir: str, run_dir: Path, store_dir: Path, resume: bool) -> None:
    ds = datasets.load_from_disk(data_dir)
    tok = AutoTokenizer.from_pretrained(tok_dir)
    model = tiny_model(family="phi", vocab_size=len(tok), hidden_size=32, num_layers=2)
    args = TrainingArguments(
        output_dir=str(run_dir),
        per_device_train_batch_size=8,
        max_steps=8,
        learning_rate=5e-3,
        save_strategy="steps",
        save_steps=3,
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
        logging_steps=1,
    )
    cb = TrajectoryCallback(
        store_dir,
        every_n_steps=2,
        num_points=None,
        at_epoch_end=False,
        at_train_begin=True,
        batch_size=5,
        write_every=1,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True),
        callbacks=[cb],
    )
    trainer.train(resume_from_checkpoint=True if resume else None)


def die_mid_column() -> None:
    """Exit the process after the second write into the column of ``KILL_STEP``."""
    original = TrajectoryStore.write
    writes = [0]

    def write(self, column, indices, values, **kw):
        original(self, column, indices, values, **kw)
        if self.columns[column]["global_step"] == KILL_STEP:
            writes[0] += 1
            if writes[0] == 2:
                os._exit(EXIT_CODE)

    TrajectoryStore.write = write


def main() -> None:
    data_dir, tok_dir, work, mode = sys.argv[1:5]
    work_dir = Path(work)
    if mode == "kill":
        die_mid_column()
        train(data_dir, tok_dir, work_dir / "run", work_dir / "traj", resume=False)
        raise SystemExit("training finished although it should have been killed")
    if mode == "resume":
        train(data_dir, tok_dir, work_dir / "run", work_dir / "traj", resume=True)
        train(data_dir, tok_dir, work_dir / "full_run", work_dir / "full_traj", resume=False)
        return
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
