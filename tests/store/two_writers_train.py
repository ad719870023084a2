"""One tiny training that records a trajectory store, started on a signal (a file appears).

Usage: two_writers_train.py DATA_DIR TOKENIZER_DIR RUN_DIR STORE_DIR GO_FILE
Used by ``test_two_trainings.py`` to start two trainings on one store at the same instant.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hf_s2l import TrajectoryCallback
from tests._train_script import tiny_trainer


def main() -> None:
    data_dir, tok_dir, run_dir, store_dir, go = sys.argv[1:6]
    cb = TrajectoryCallback(store_dir, every_n_steps=2, num_points=None, batch_size=16)
    trainer = tiny_trainer(
        data_dir,
        tok_dir,
        run_dir,
        callbacks=[cb],
        per_device_train_batch_size=8,
        max_steps=6,
        save_strategy="no",
        dataloader_num_workers=0,
    )
    while not Path(go).exists():
        time.sleep(0.0005)
    trainer.train()
    print("TRAINED", flush=True)


if __name__ == "__main__":
    main()
