"""Fixtures of the report tests: one store recorded by a real tiny Trainer run (per session).

Cheap on purpose: the session's tokenizer (tests/conftest.py), the 96-row math slice, a
1-layer hidden-32 model, 2 epochs of 6 steps. The report modules share it in one xdist group
(``pytest -n 2 --dist loadgroup`` builds it once).
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def recorded_store(tmp_path_factory, math_raw, tokenizer):
    """A store recorded by TrajectoryCallback while a tiny GPT-NeoX trains 2 epochs."""
    import transformers as tf

    import hf_s2l
    from hf_s2l import tokenize_sft
    from hf_s2l.experiments.tiny import tiny_model

    root = tmp_path_factory.mktemp("report")
    ds = math_raw.map(  # 256 tokens: every row keeps answer tokens (128 would cut some off)
        tokenize_sft,
        fn_kwargs={"tokenizer": tokenizer, "max_length": 256},
        remove_columns=["instruction", "output"],
    )
    model = tiny_model(
        family="gpt_neox", vocab_size=len(tokenizer), hidden_size=32, num_layers=1, num_heads=2
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
        data_collator=tf.DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[cb],
    ).train()
    return hf_s2l.TrajectoryStore.open(root / "store")
