"""The demo wires its recorder explicitly with ``hf_s2l.attach(trainer)`` (issue 24): it
never prints the library's own call-stack fallback advice, and that advice names the
README's ``hf_s2l.attach(trainer)``."""

from __future__ import annotations

import logging

from hf_s2l.record import run


def test_fallback_advice_names_the_readme_call():
    assert "hf_s2l.attach(trainer)" in run.FALLBACK_WARNING


def test_train_model_wires_the_callback_without_the_stack_walk(
    tmp_path, math_raw, tokenizer, caplog, monkeypatch
):
    from transformers import DataCollatorForSeq2Seq, TrainingArguments

    from hf_s2l import TrajectoryCallback, TrajectoryStore, tokenize_sft
    from hf_s2l.experiments.loop import train_model
    from hf_s2l.experiments.tiny import tiny_model

    monkeypatch.setattr(run, "_warned", set())  # as in a fresh process
    raw = math_raw.select(range(16))
    ds = raw.map(tokenize_sft, fn_kwargs={"tokenizer": tokenizer}, remove_columns=raw.column_names)
    args = TrainingArguments(
        output_dir=str(tmp_path / "run"),
        max_steps=2,
        per_device_train_batch_size=8,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
    )
    cb = TrajectoryCallback(tmp_path / "traj", num_points=1, batch_size=8, log_to_trainer=False)
    model = tiny_model(vocab_size=len(tokenizer), hidden_size=16, num_layers=1)
    with caplog.at_level(logging.WARNING, logger="hf_s2l"):
        train_model(model, args, ds, DataCollatorForSeq2Seq(tokenizer, padding=True), [cb])
    assert cb.trainer is not None
    assert not [r for r in caplog.records if r.getMessage() == run.FALLBACK_WARNING]
    assert TrajectoryStore.open(tmp_path / "traj").complete_columns().tolist() == [0, 1]
