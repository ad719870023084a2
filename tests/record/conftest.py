"""Fixtures for the recording tests: a small real tokenized math slice, tiny models, helpers."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from transformers import TrainerCallback

from tests._train_script import run_subprocess, stop, subprocess_env  # noqa: F401 (helpers.*)

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MAX_LEN = 64
NUM_EXAMPLES = 48


def tokenize_short(example, tokenizer, max_length=MAX_LEN):
    """Short SFT format for fast tests: truncated question (masked) + answer (+EOS)."""
    p_ids = tokenizer("Q: " + example["instruction"], add_special_tokens=False)["input_ids"][:24]
    p_ids = p_ids + tokenizer("\nA:", add_special_tokens=False)["input_ids"]
    r_ids = tokenizer(" " + example["output"] + tokenizer.eos_token, add_special_tokens=False)[
        "input_ids"
    ]
    ids = (p_ids + r_ids)[:max_length]
    labels = ([-100] * len(p_ids) + r_ids)[:max_length]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


@pytest.fixture(scope="session")
def record_raw(math_raw):
    """48 real math rows (12 per source) with a stable ``example_id`` column."""
    by_source: dict[str, list[int]] = {}
    for i, s in enumerate(math_raw["source"]):
        by_source.setdefault(s, []).append(i)
    keep = sorted(i for idx in by_source.values() for i in idx[: NUM_EXAMPLES // len(by_source)])
    ds = math_raw.select(keep)
    return ds.add_column("example_id", [f"ex{i:03d}" for i in range(len(ds))])


@pytest.fixture(scope="session")
def record_full(record_raw, tokenizer):
    """Tokenized rows that keep ``example_id`` and ``source`` (for remove_unused_columns)."""
    return record_raw.map(
        tokenize_short, fn_kwargs={"tokenizer": tokenizer}, remove_columns=["instruction", "output"]
    )


@pytest.fixture(scope="session")
def record_ds(record_full):
    """Only the model columns: input_ids, attention_mask, labels."""
    return record_full.remove_columns(["example_id", "source"])


@pytest.fixture
def make_causal_lm(tokenizer):
    def make(seed: int = 0, dropout: float = 0.0, family: str = "gpt_neox"):
        import torch

        from hf_s2l.experiments.tiny import tiny_model

        model = tiny_model(
            family=family, vocab_size=len(tokenizer), hidden_size=32, num_layers=2, seed=seed
        )
        if dropout:
            for m in model.modules():
                if isinstance(m, torch.nn.Dropout):
                    m.p = dropout
        return model

    return make


def training_args(out_dir, **overrides):
    from transformers import TrainingArguments

    kw = dict(
        output_dir=str(out_dir),
        per_device_train_batch_size=8,
        max_steps=4,
        learning_rate=5e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
        dataloader_num_workers=0,
    )
    kw.update(overrides)
    return TrainingArguments(**kw)


class Snapshots(TrainerCallback):
    """Keeps a copy of the weights at step 0 and after every optimizer step."""

    def __init__(self) -> None:
        self.states: dict[int, dict] = {}

    def _take(self, state, model) -> None:
        self.states[state.global_step] = {
            k: v.detach().clone() for k, v in model.state_dict().items()
        }

    def on_train_begin(self, args, state, control, model=None, **kw):
        self._take(state, model)

    def on_step_end(self, args, state, control, model=None, **kw):
        self._take(state, model)


def independent_losses(model, dataset, collator, encoder_decoder: bool = False) -> np.ndarray:
    """``model(**collator([example])).loss`` for each example alone (NaN without targets)."""
    import torch

    was = model.training
    model.eval()
    out = np.empty(len(dataset), dtype=np.float64)
    with torch.no_grad():
        for i in range(len(dataset)):
            batch = collator([dataset[i]])
            batch = {
                k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "labels")
            }
            if not (batch["labels"][..., 0 if encoder_decoder else 1 :] != -100).any():
                out[i] = math.nan
                continue
            out[i] = model(**batch).loss.item()
    model.train(was)
    return out


def assert_losses_close(stored, expected, rtol=1e-5):
    stored = np.asarray(stored, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert np.array_equal(np.isnan(stored), np.isnan(expected)), "NaN pattern differs"
    ok = ~np.isnan(expected)
    rel = np.abs(stored[ok] - expected[ok]) / np.abs(expected[ok])
    assert rel.max() <= rtol, f"max rel err {rel.max():.2e} > {rtol}"


@pytest.fixture
def helpers():
    """Access to the helpers above from test modules (no package import needed)."""
    mod = sys.modules[__name__]
    return mod
