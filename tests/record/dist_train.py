"""Train a tiny GPT-NeoX with TrajectoryCallback; run with python or torchrun (gloo, CPU).

Usage: dist_train.py DATA_DIR TOKENIZER_DIR RUN_DIR STORE_DIR
The global batch is 8 whatever the number of processes, so runs are comparable.
"""

from __future__ import annotations

import os
import sys

import torch

torch.set_num_threads(1)

import datasets  # noqa: E402
from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments  # noqa: E402

from hf_s2l import TrajectoryCallback  # noqa: E402
from hf_s2l.tiny import tiny_model  # noqa: E402


def main() -> None:
    data_dir, tok_dir, run_dir, store_dir = sys.argv[1:5]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    ds = datasets.load_from_disk(data_dir)
    tok = AutoTokenizer.from_pretrained(tok_dir)
    model = tiny_model(family="gpt_neox", vocab_size=len(tok), hidden_size=32, num_layers=2)
    args = TrainingArguments(
        output_dir=run_dir,
        per_device_train_batch_size=8 // world,
        max_steps=4,
        learning_rate=5e-3,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        ddp_backend="gloo" if world > 1 else None,
        seed=0,
        logging_steps=1,
    )
    cb = TrajectoryCallback(store_dir, num_points=2, batch_size=5, metadata_columns=("source",))
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True),
        callbacks=[cb],
    )
    trainer.train()
    if trainer.args.world_size != world:
        raise SystemExit(f"expected world size {world}, trainer has {trainer.args.world_size}")


if __name__ == "__main__":
    main()
