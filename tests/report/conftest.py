"""Fixtures of the report tests: one store recorded by a real tiny Trainer run (per session)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def recorded_store(tmp_path_factory, math_raw):
    """A store recorded by TrajectoryCallback while a tiny GPT-NeoX trains 2 epochs."""
    import torch
    import transformers as tf

    import hf_s2l
    from hf_s2l.corpora import tokenize_sft
    from hf_s2l.tiny import tiny_model, train_tokenizer

    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("report")
    tok = train_tokenizer([r["instruction"] + " " + r["output"] for r in math_raw], vocab_size=1024)
    ds = math_raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tok, "max_length": 256},
        remove_columns=["instruction", "output"],
    )
    model = tiny_model(
        family="gpt_neox", vocab_size=len(tok), hidden_size=32, num_layers=1, num_heads=2
    )
    args = tf.TrainingArguments(
        str(root / "out"),
        num_train_epochs=2,
        per_device_train_batch_size=16,
        learning_rate=3e-3,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    cb = hf_s2l.TrajectoryCallback(
        root / "store",
        schedule=hf_s2l.RecordingSchedule(at_train_begin=True, at_epoch_end=True, num_points=4),
        batch_size=48,
        metadata_columns=("source",),
        log_to_trainer=False,
    )
    tf.Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        data_collator=tf.DataCollatorForSeq2Seq(tok, padding=True),
        callbacks=[cb],
    ).train()
    return hf_s2l.TrajectoryStore.open(root / "store")
