"""Explicit wiring of the recorders to their Trainer (``attach``, ``set_trainer``) and the
warned call-stack fallback (hf_s2l/record/wiring.py, hf_s2l/record/run.py)."""

from __future__ import annotations

import logging

import pytest
from transformers import DataCollatorForSeq2Seq, Trainer

from hf_s2l import TrajectoryCallback, TrajectoryStore
from hf_s2l.record import attach, run
from hf_s2l.record.in_step import InStepRecorder


def _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers, callbacks=()):
    return Trainer(
        model=make_causal_lm(),
        args=helpers.training_args(tmp_path / "run", max_steps=2),
        train_dataset=record_ds.select(range(16)),
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=list(callbacks),
    )


def _fallback_warnings(caplog):
    return [r for r in caplog.records if r.getMessage() == run.FALLBACK_WARNING]


@pytest.fixture
def fresh_warning(monkeypatch):
    """Forget that the fallback warning was given in this process."""
    monkeypatch.setattr(run, "_warned", set())


def test_attach_adds_wires_and_records_without_the_stack_walk(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers, caplog, fresh_warning
):
    trainer = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers)
    with caplog.at_level(logging.WARNING, logger="hf_s2l"):
        cb = attach(trainer, output_dir=tmp_path / "traj", num_points=1, batch_size=8)
        assert isinstance(cb, TrajectoryCallback) and cb.trainer is trainer
        assert trainer.callback_handler.callbacks.count(cb) == 1
        assert attach(trainer, cb) is cb  # already held: not added twice
        assert trainer.callback_handler.callbacks.count(cb) == 1
        trainer.train()
    assert _fallback_warnings(caplog) == []
    store = TrajectoryStore.open(tmp_path / "traj")
    assert store.steps.tolist() == [0, 2] and store.complete_columns().tolist() == [0, 1]
    # the explicit Trainer gave the raw dataset's fingerprint and the Trainer.log summaries
    assert store.dataset_fingerprint == trainer.train_dataset._fingerprint
    assert any("probe/mean_loss" in h for h in trainer.state.log_history)


def test_attach_refuses_bad_arguments(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    trainer = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers)
    with pytest.raises(TypeError, match="not both"):
        attach(trainer, TrajectoryCallback(tmp_path / "a"), output_dir=tmp_path / "b")
    with pytest.raises(TypeError, match="InStepRecorder is TrajectoryCallback"):
        attach(trainer, InStepRecorder(tmp_path / "c"))
    with pytest.raises(TypeError, match="needs a transformers Trainer"):
        attach(object(), output_dir=tmp_path / "d")
    assert not any(isinstance(c, TrajectoryCallback) for c in trainer.callback_handler.callbacks)


def test_set_trainer_reaches_the_in_step_recorder(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers
):
    cb = TrajectoryCallback(tmp_path / "traj", mode="both", num_points=1)
    trainer = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers)
    trainer.add_callback(cb)
    cb.set_trainer(trainer)
    rec = cb.in_step_recorder
    assert rec.trainer is trainer
    # found without any Trainer on the call stack (we are in the test function here)
    assert run.find_trainer(rec) is trainer and run.find_trainer(cb) is trainer
    # a Trainer that does not hold the recorder is not taken for it
    other = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers)
    rec.set_trainer(other)
    assert run.find_trainer(rec) is None


def test_plain_callbacks_list_still_works_and_warns_once(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers, caplog, fresh_warning
):
    with caplog.at_level(logging.WARNING, logger="hf_s2l"):
        for k in range(2):  # two runs in one process: one warning
            cb = TrajectoryCallback(tmp_path / f"traj{k}", mode="both", num_points=1)
            trainer = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers, [cb])
            trainer.train()
            # the stack walk wired both recorders to the Trainer
            assert cb.trainer is trainer and cb.in_step_recorder.trainer is trainer
            store = TrajectoryStore.open(tmp_path / f"traj{k}")
            assert store.dataset_fingerprint == trainer.train_dataset._fingerprint
            in_step = TrajectoryStore.open(tmp_path / f"traj{k}" / "in_step")
            assert in_step.dataset_fingerprint == store.dataset_fingerprint
    assert len(_fallback_warnings(caplog)) == 1


def test_dataset_identity_one_rule(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    from hf_s2l.record.in_step_hash import ContentTable, dataset_keys

    trainer = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers)
    loader_ds = trainer.get_train_dataloader().dataset
    table = ContentTable(*dataset_keys(loader_ds, tokenizer.pad_token_id))
    raw = trainer.train_dataset
    # with the Trainer: its raw dataset and fingerprint, content keys or not
    assert run.dataset_identity(trainer, loader_ds) == (raw, raw._fingerprint)
    assert run.dataset_identity(trainer, loader_ds, table) == (raw, raw._fingerprint)
    # without: the content fingerprint when keys are given (in-step), else the loader's (probe)
    got, fp = run.dataset_identity(None, loader_ds, table)
    assert got is loader_ds and fp == run.content_fingerprint(table) and fp.startswith("content-")
    assert run.dataset_identity(None, loader_ds) == (loader_ds, loader_ds._fingerprint)
    # a Trainer dataset of another length is not the loader's rows
    trainer.train_dataset = raw.select(range(3))
    assert run.dataset_identity(trainer, loader_ds) == (loader_ds, loader_ds._fingerprint)


def test_attach_without_arguments_wires_the_held_callback(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers
):
    cb = TrajectoryCallback(tmp_path / "traj", num_points=1)
    trainer = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers, [cb])
    assert attach(trainer) is cb and cb.trainer is trainer
    assert trainer.callback_handler.callbacks.count(cb) == 1
    bare = _trainer(tmp_path, record_ds, tokenizer, make_causal_lm, helpers)
    added = attach(bare)  # none held: one is added, into <output_dir>/trajectories
    assert added.output_dir == tmp_path / "run" / "trajectories" and added.trainer is bare
    assert attach(bare) is added  # idempotent
