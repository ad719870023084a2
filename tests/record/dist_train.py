"""Train a tiny GPT-NeoX with TrajectoryCallback; run with python or torchrun (gloo, CPU).

Usage: dist_train.py DATA_DIR TOKENIZER_DIR RUN_DIR STORE_DIR
The global batch is 8 whatever the number of processes, so runs are comparable.
"""

from __future__ import annotations

import sys

from hf_s2l import TrajectoryCallback
from tests._train_script import tiny_trainer, world_size


def main() -> None:
    data_dir, tok_dir, run_dir, store_dir = sys.argv[1:5]
    world = world_size()
    cb = TrajectoryCallback(store_dir, num_points=2, batch_size=5, metadata_columns=("source",))
    trainer = tiny_trainer(
        data_dir,
        tok_dir,
        run_dir,
        callbacks=[cb],
        per_device_train_batch_size=8 // world,
        max_steps=4,
        save_strategy="no",
        logging_steps=1,
    )
    trainer.train()
    if trainer.args.world_size != world:
        raise SystemExit(f"expected world size {world}, trainer has {trainer.args.world_size}")


if __name__ == "__main__":
    main()
