"""Compatibility with real tiny models, trainers and collators: stored == per-example forward."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from transformers import (
    DataCollatorForLanguageModeling,
    DataCollatorForSeq2Seq,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    Trainer,
)

from hf_s2l import TrajectoryCallback, TrajectoryStore
from hf_s2l.compat import sft_config_kwargs, stack_limit


def _final_column(out) -> np.ndarray:
    store = TrajectoryStore.open(out)
    assert store.complete_columns().tolist() == list(range(store.num_columns))
    assert store.steps.tolist() == [0, 2]
    return np.asarray(store.losses[:, -1])


def _run(tmp_path, helpers, model, ds, collator, trainer_cls=Trainer, args=None, **trainer_kw):
    cb = TrajectoryCallback(tmp_path / "traj", num_points=1, batch_size=8)
    args = args or helpers.training_args(tmp_path / "run", max_steps=2)
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=ds,
        data_collator=collator,
        callbacks=[cb],
        **trainer_kw,
    )
    trainer.train()
    return trainer


def test_causal_lm_left_padding(tmp_path, tokenizer, record_ds, make_causal_lm, helpers):
    """Left-padded batches are right-aligned so rotary positions match the example alone."""
    tok = copy.deepcopy(tokenizer)
    tok.padding_side = "left"
    model = make_causal_lm()
    collator = DataCollatorForSeq2Seq(tok, padding=True)
    _run(tmp_path, helpers, model, record_ds, collator)
    expected = helpers.independent_losses(model, record_ds, collator)
    helpers.assert_losses_close(_final_column(tmp_path / "traj"), expected)


@pytest.mark.parametrize("remove_unused_columns", [True, False])
def test_lm_collator_and_remove_unused_columns(
    tmp_path, tokenizer, record_full, make_causal_lm, helpers, remove_unused_columns
):
    """DataCollatorForLanguageModeling(mlm=False) on input_ids only; extra columns kept or not."""
    ds = record_full.remove_columns(["labels", "attention_mask"])
    if not remove_unused_columns:
        ds = ds.remove_columns(["example_id", "source"])  # the collator cannot pad strings
    model = make_causal_lm()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)
    args = helpers.training_args(
        tmp_path / "run", max_steps=2, remove_unused_columns=remove_unused_columns
    )
    _run(tmp_path, helpers, model, ds, collator, args=args)
    expected = helpers.independent_losses(model, ds.select_columns(["input_ids"]), collator)
    helpers.assert_losses_close(_final_column(tmp_path / "traj"), expected)
    if remove_unused_columns:
        store = TrajectoryStore.open(tmp_path / "traj")
        assert store.example_ids.tolist() == record_full["example_id"]


def test_user_collator_with_extra_columns(
    tmp_path, tokenizer, record_full, make_causal_lm, helpers
):
    """remove_unused_columns=False: a user's own collator gets every column and pads itself."""
    pad = tokenizer.pad_token_id

    def collate(examples):
        n = max(len(e["input_ids"]) for e in examples)
        out = {"input_ids": [], "attention_mask": [], "labels": []}
        for e in examples:
            k = n - len(e["input_ids"])
            assert isinstance(e["source"], str)  # extra columns reach the collator
            out["input_ids"].append([pad] * k + e["input_ids"])  # left padding
            out["attention_mask"].append([0] * k + [1] * len(e["input_ids"]))
            out["labels"].append([-100] * k + e["labels"])
        return {key: torch.tensor(v) for key, v in out.items()}

    model = make_causal_lm()
    args = helpers.training_args(tmp_path / "run", max_steps=2, remove_unused_columns=False)
    _run(tmp_path, helpers, model, record_full, collate, args=args)
    expected = helpers.independent_losses(model, record_full, collate)
    helpers.assert_losses_close(_final_column(tmp_path / "traj"), expected)


@pytest.mark.parametrize("collator_has_model", [True, False])
def test_seq2seq_trainer_t5(tmp_path, tokenizer, record_raw, helpers, collator_has_model):
    from hf_s2l.experiments.tiny import tiny_model

    def enc(ex):
        src = tokenizer("Q: " + ex["instruction"], add_special_tokens=False)["input_ids"][:40]
        tgt = tokenizer(" " + ex["output"] + tokenizer.eos_token, add_special_tokens=False)[
            "input_ids"
        ]
        return {"input_ids": src, "attention_mask": [1] * len(src), "labels": tgt[:32]}

    ds = record_raw.map(enc, remove_columns=record_raw.column_names)
    model = tiny_model(family="t5", vocab_size=len(tokenizer), hidden_size=32, num_layers=2)
    collator = DataCollatorForSeq2Seq(
        tokenizer, model=model if collator_has_model else None, padding=True
    )
    args = Seq2SeqTrainingArguments(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=8,
        max_steps=2,
        learning_rate=5e-3,
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        save_strategy="no",
    )
    _run(tmp_path, helpers, model, ds, collator, trainer_cls=Seq2SeqTrainer, args=args)
    expected = helpers.independent_losses(model, ds, collator, encoder_decoder=True)
    helpers.assert_losses_close(_final_column(tmp_path / "traj"), expected)
    rec = TrajectoryStore.open(tmp_path / "traj").meta["extra"]["recorder"]
    assert rec["trainer"] == "Seq2SeqTrainer" and rec["model_class"] == "T5ForConditionalGeneration"


def test_peft_lora(tmp_path, tokenizer, record_ds, make_causal_lm, helpers):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(
        make_causal_lm(),
        LoraConfig(r=4, lora_alpha=8, target_modules=["query_key_value"], task_type="CAUSAL_LM"),
    )
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True)
    args = helpers.training_args(tmp_path / "run", max_steps=2, learning_rate=5e-2)
    _run(tmp_path, helpers, model, record_ds, collator, args=args)
    expected = helpers.independent_losses(model, record_ds, collator)
    store = TrajectoryStore.open(tmp_path / "traj")
    helpers.assert_losses_close(store.losses[:, -1], expected)
    assert not np.allclose(store.losses[:, 0], store.losses[:, -1])  # the adapter trained
    rec = store.meta["extra"]["recorder"]
    assert rec["model_class"] == "GPTNeoXForCausalLM" and rec["peft"].startswith("PeftModel")


def test_trl_sft_trainer(tmp_path, tokenizer, record_raw, make_causal_lm, helpers):
    from trl import SFTConfig, SFTTrainer

    if limit := stack_limit("sft_prompt_completion"):
        pytest.skip(limit)

    ds = record_raw.map(
        lambda ex: {
            "prompt": "Q: " + ex["instruction"][:60] + "\nA:",
            "completion": " " + ex["output"],
        },
        remove_columns=record_raw.column_names,
    )
    model = make_causal_lm()
    args = SFTConfig(
        **sft_config_kwargs(max_length=64),
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=8,
        max_steps=2,
        learning_rate=5e-3,
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        bf16=False,
        save_strategy="no",
        dataset_num_proc=None,
    )
    cb = TrajectoryCallback(tmp_path / "traj", num_points=1, batch_size=8)
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=ds, processing_class=tokenizer, callbacks=[cb]
    )
    trainer.train()
    train_ds = trainer.train_dataset.select_columns(["input_ids", "labels"])
    expected = helpers.independent_losses(model, train_ds, trainer.data_collator)
    assert np.isfinite(expected).sum() >= 30
    helpers.assert_losses_close(_final_column(tmp_path / "traj"), expected)
    assert (
        TrajectoryStore.open(tmp_path / "traj").meta["extra"]["recorder"]["trainer"] == "SFTTrainer"
    )
