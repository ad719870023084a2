"""Train a tiny Phi with TrajectoryCallback on one process, or as one "node" of a multi-node run.

Run alone with python (the single-process reference), or as node ``k`` of a two-node run
simulated on one host, each node with its own folders (no shared disk)::

    torchrun --nnodes 2 --node_rank K --nproc_per_node 1 --master_addr 127.0.0.1 \
        --master_port P multinode_train.py DATA TOKENIZER RUN_DIR STORE_DIR MODE [each_node]

The global batch is 8 whatever the number of processes, so runs are comparable. Checkpoints
every 3 steps, a probe column every 2 steps (0, 2, 4, 6, 8). MODE ``train``: train 8 steps.
``kill``: the writing process(es) die (``os._exit(3)``) half-way through writing the column
of step 6, after checkpoint-3 and before checkpoint-6. ``resume``: continue from the last
checkpoint in RUN_DIR. ``each_node``: ``TrainingArguments(save_on_each_node=True)``.
Every process writes ``RUN_DIR/writers_RANK.json`` (the store writers it saw).
(Phi, not GPT-NeoX: see resume_train.py.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hf_s2l import TrajectoryCallback
from tests._train_script import die_mid_column, load_data, tiny_trainer, world_size

KILL_STEP = 6
EXIT_CODE = 3


def main() -> None:
    data_dir, tok_dir, run_dir, store_dir, mode = sys.argv[1:6]
    each_node = "each_node" in sys.argv[6:]
    world = world_size()
    if mode == "kill":
        die_mid_column(KILL_STEP, EXIT_CODE)
    ds = load_data(data_dir)
    cb = TrajectoryCallback(
        store_dir,
        every_n_steps=2,
        num_points=None,
        at_epoch_end=False,
        batch_size=5,
        write_every=1,
        metadata_columns=("source",) if "source" in ds.column_names else (),
    )
    trainer = tiny_trainer(
        data_dir,
        tok_dir,
        run_dir,
        callbacks=[cb],
        family="phi",
        dataset=ds,
        per_device_train_batch_size=8 // world,
        max_steps=8,
        save_strategy="steps",
        save_steps=3,
        save_on_each_node=each_node,
        logging_steps=1,
    )
    if trainer.args.world_size != world:
        raise SystemExit(f"expected world size {world}, trainer has {trainer.args.world_size}")
    trainer.train(resume_from_checkpoint=True if mode == "resume" else None)
    if mode == "kill":
        raise SystemExit("training finished although it should have been killed")
    writers = cb._setup.writers
    Path(run_dir, f"writers_{writers.rank}.json").write_text(json.dumps(list(writers.ranks)))


if __name__ == "__main__":
    main()
