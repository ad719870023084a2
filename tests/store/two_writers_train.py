"""One tiny training that records a trajectory store, started on a signal (a file appears).

Usage: two_writers_train.py DATA_DIR TOKENIZER_DIR RUN_DIR STORE_DIR GO_FILE
Used by ``test_two_trainings.py`` to start two trainings on one store at the same instant.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)

import datasets  # noqa: E402
from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments  # noqa: E402

from hf_s2l import TrajectoryCallback  # noqa: E402
from hf_s2l.tiny import tiny_model  # noqa: E402


def main() -> None:
    data_dir, tok_dir, run_dir, store_dir, go = sys.argv[1:6]
    ds = datasets.load_from_disk(data_dir)
    tok = AutoTokenizer.from_pretrained(tok_dir)
    model = tiny_model(family="gpt_neox", vocab_size=len(tok), hidden_size=32, num_layers=2)
    args = TrainingArguments(
        output_dir=run_dir,
        per_device_train_batch_size=8,
        max_steps=6,
        learning_rate=5e-3,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
        dataloader_num_workers=0,
    )
    cb = TrajectoryCallback(store_dir, every_n_steps=2, num_points=None, batch_size=16)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True),
        callbacks=[cb],
    )
    while not Path(go).exists():
        time.sleep(0.0005)
    trainer.train()
    print("TRAINED", flush=True)


if __name__ == "__main__":
    main()
