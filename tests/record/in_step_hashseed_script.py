"""A tiny in-step recorded training (FIRST epoch, or RESUME from its checkpoint for a second).

Usage: in_step_hashseed_script.py DATA_DIR TOKENIZER_DIR WORK_DIR first|resume
The dataset keeps ``example_id`` and ``source``, which ``remove_unused_columns`` drops in set
order (so the dataloader's dataset fingerprint depends on ``PYTHONHASHSEED``). Writes
WORK_DIR/info-MODE.json with that fingerprint.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hf_s2l import TrajectoryCallback
from tests._train_script import tiny_trainer


def main() -> None:
    data_dir, tok_dir, work, mode = sys.argv[1:5]
    work_dir = Path(work)
    trainer = tiny_trainer(
        data_dir,
        tok_dir,
        work_dir / "run",
        callbacks=[TrajectoryCallback(work_dir / "store", mode="in_step")],
        per_device_train_batch_size=8,
        num_train_epochs=1 if mode == "first" else 2,
        save_strategy="epoch",
        dataloader_num_workers=0,
    )
    trainer.train(resume_from_checkpoint=True if mode == "resume" else None)
    info = {"loader_fingerprint": trainer.get_train_dataloader().dataset._fingerprint}
    (work_dir / f"info-{mode}.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main()
