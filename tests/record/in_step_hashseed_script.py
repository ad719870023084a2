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

import torch

torch.set_num_threads(1)

import datasets  # noqa: E402
from transformers import AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments  # noqa: E402

from hf_s2l import TrajectoryCallback  # noqa: E402
from hf_s2l.tiny import tiny_model  # noqa: E402


def main() -> None:
    data_dir, tok_dir, work, mode = sys.argv[1:5]
    work_dir = Path(work)
    ds = datasets.load_from_disk(data_dir)
    tok = AutoTokenizer.from_pretrained(tok_dir)
    model = tiny_model(family="gpt_neox", vocab_size=len(tok), hidden_size=32, num_layers=2)
    args = TrainingArguments(
        output_dir=str(work_dir / "run"),
        per_device_train_batch_size=8,
        num_train_epochs=1 if mode == "first" else 2,
        learning_rate=5e-3,
        save_strategy="epoch",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
        dataloader_num_workers=0,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True),
        callbacks=[TrajectoryCallback(work_dir / "store", mode="in_step")],
    )
    trainer.train(resume_from_checkpoint=True if mode == "resume" else None)
    info = {"loader_fingerprint": trainer.get_train_dataloader().dataset._fingerprint}
    (work_dir / f"info-{mode}.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main()
