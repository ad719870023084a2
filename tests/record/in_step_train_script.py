"""Tiny Trainer runs with in-step recording, and their independent re-check.

Imported by ``test_in_step*.py`` and run as a script under ``torchrun`` by the distributed
test::

    torchrun --nproc_per_node 2 in_step_train_script.py DATA_DIR TOKENIZER_DIR OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback

MAX_LEN = 48


def tokenize_short(example: dict[str, Any], tokenizer: Any) -> dict[str, list[int]]:
    """Short SFT example: truncated question (masked) + answer + EOS, at most MAX_LEN tokens."""
    p = tokenizer("Q: " + example["instruction"], add_special_tokens=False)["input_ids"][:20]
    p = p + tokenizer("\nA:", add_special_tokens=False)["input_ids"]
    r = tokenizer(" " + example["output"] + tokenizer.eos_token, add_special_tokens=False)
    ids = (p + r["input_ids"])[:MAX_LEN]
    labels = ([-100] * len(p) + r["input_ids"])[:MAX_LEN]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def build_dataset(math_raw: Any, tokenizer: Any, n: int = 32, duplicates: tuple[int, ...] = (3, 7)):
    """``n`` real math rows tokenised, plus exact copies of ``duplicates`` appended."""
    from datasets import concatenate_datasets

    ds = math_raw.select(range(0, 3 * n, 3)).map(
        tokenize_short, fn_kwargs={"tokenizer": tokenizer}, remove_columns=math_raw.column_names
    )
    if duplicates:
        ds = concatenate_datasets([ds, ds.select(list(duplicates))]).flatten_indices()
    return ds


class Snapshots(TrainerCallback):
    """Test-only: a copy of the model weights after every optimizer step (step 0 = initial)."""

    def __init__(self) -> None:
        self.states: dict[int, dict[str, torch.Tensor]] = {}

    def _take(self, state: Any, model: Any) -> None:
        self.states[int(state.global_step)] = {
            k: v.detach().clone() for k, v in model.state_dict().items()
        }

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._take(state, model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        self._take(state, model)


def make_model(tokenizer: Any, seed: int = 0):
    from hf_s2l.experiments.tiny import tiny_model

    model = tiny_model(
        family="gpt_neox", vocab_size=len(tokenizer), hidden_size=32, num_layers=2, seed=seed
    )
    model.config.use_cache = False  # padding-free packing needs it (no cache, no mask)
    return model


def train(
    out_dir: Path,
    dataset: Any,
    tokenizer: Any,
    *,
    record: str | None = "recorder",
    packing: bool = False,
    snapshots: bool = True,
    epochs: float = 2,
    max_steps: int = -1,
    model: Any = None,
    **arg_overrides: Any,
):
    """Train a tiny GPT-NeoX; ``record`` = ``"recorder"`` | ``"callback"`` | ``None``."""
    from transformers import (
        DataCollatorForSeq2Seq,
        DataCollatorWithFlattening,
        Trainer,
        TrainingArguments,
    )

    from hf_s2l.record.in_step import InStepRecorder

    kw: dict[str, Any] = dict(
        output_dir=str(out_dir / "trainer"),
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        num_train_epochs=epochs,
        max_steps=max_steps,
        learning_rate=3e-3,
        warmup_steps=0,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        seed=0,
        data_seed=0,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    kw.update(arg_overrides)
    args = TrainingArguments(**kw)
    if packing:
        collator = DataCollatorWithFlattening()
    else:
        collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    callbacks: list[Any] = []
    snaps = Snapshots() if snapshots else None
    if snaps is not None:
        callbacks.append(snaps)
    if record == "recorder":
        callbacks.append(InStepRecorder(out_dir / "store"))
    elif record == "callback":
        from hf_s2l import TrajectoryCallback

        callbacks.append(TrajectoryCallback(out_dir / "store", mode="in_step"))
    trainer = Trainer(
        model=make_model(tokenizer) if model is None else model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
        callbacks=callbacks,
    )
    trainer.train()
    return trainer, (snaps.states if snaps is not None else None)


def independent_losses(
    dataset: Any,
    tokenizer: Any,
    states: dict[int, dict[str, torch.Tensor]],
    rows: np.ndarray,
    steps: np.ndarray,
    model: Any = None,
) -> np.ndarray:
    """``model(x[None], labels=y[None]).loss`` of each row alone, with the weights of its step."""
    model = make_model(tokenizer) if model is None else model
    model.eval()
    out = np.full(len(rows), np.nan)
    for s in np.unique(steps):
        model.load_state_dict(states[int(s)])
        for j in np.flatnonzero(steps == s):
            ex = dataset[int(rows[j])]
            with torch.no_grad():
                out[j] = model(
                    input_ids=torch.tensor([ex["input_ids"]]),
                    attention_mask=torch.tensor([ex["attention_mask"]]),
                    labels=torch.tensor([ex["labels"]]),
                ).loss.item()
    return out


def check_store(
    store_dir: Path,
    dataset: Any,
    tokenizer: Any,
    states: dict[int, dict[str, torch.Tensor]],
    *,
    epochs: int,
    steps_per_epoch: int,
    model: Any = None,
) -> None:
    """Every row recorded once per epoch, within its epoch's steps, equal to an independent forward."""
    from hf_s2l.store import TrajectoryStore

    store = TrajectoryStore.open(store_dir)
    assert store.mode == "in_step"
    assert store.num_examples == len(dataset)
    assert store.num_columns == epochs, store.columns
    assert store.kinds == ["epoch"] * epochs
    assert list(store.complete_columns()) == list(range(epochs))
    losses, cs = np.asarray(store.losses), np.asarray(store.cell_steps)
    assert not np.isnan(losses).any()
    counts = np.asarray(store.num_tokens)
    expected_counts = [sum(1 for t in ex["labels"][1:] if t != -100) for ex in dataset]
    assert counts.tolist() == expected_counts
    for e in range(epochs):
        lo, hi = e * steps_per_epoch, (e + 1) * steps_per_epoch
        assert ((cs[:, e] >= lo) & (cs[:, e] < hi)).all(), (e, cs[:, e])
        assert store.columns[e]["epoch_index"] == e
        ref = independent_losses(
            dataset, tokenizer, states, np.arange(len(dataset)), cs[:, e], model
        )
        rel = np.abs(losses[:, e] - ref) / np.abs(ref)
        assert rel.max() <= 1e-4, (e, rel.max(), np.argmax(rel))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data_dir")
    p.add_argument("tokenizer_dir")
    p.add_argument("out_dir")
    a = p.parse_args()
    from tests._train_script import load_data, load_tokenizer

    ds = load_data(a.data_dir)
    tok = load_tokenizer(a.tokenizer_dir)
    out = Path(a.out_dir)
    trainer, states = train(out, ds, tok, ddp_backend="gloo", per_device_train_batch_size=3)
    if int(os.environ.get("RANK", "0")) == 0:
        torch.save(states, out / "snapshots.pt")
        from hf_s2l.record.in_step import InStepRecorder

        rec = next(c for c in trainer.callback_handler.callbacks if isinstance(c, InStepRecorder))
        info = {
            "max_steps": trainer.state.max_steps,
            "world_size": trainer.args.world_size,
            "stats": rec.stats,
        }
        (out / "info.json").write_text(json.dumps(info))
    print("done", file=sys.stderr)


if __name__ == "__main__":
    main()
