"""TrajectoryCallback (probe mode): every stored loss vs an independent forward, metadata, RNG."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import DataCollatorForSeq2Seq, Trainer

from hf_s2l import RecordingSchedule, TrajectoryCallback, TrajectoryStore


def test_every_stored_loss_matches_independent_forward(
    tmp_path, tokenizer, record_full, record_ds, make_causal_lm, helpers
):
    """A tiny GPT-NeoX trains 6 steps (1 epoch); 4 columns, each checked row by row."""
    model = make_causal_lm()
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True)
    snaps = helpers.Snapshots()
    cb = TrajectoryCallback(
        tmp_path / "traj",
        num_points=3,
        at_epoch_end=True,
        batch_size=16,
        metadata_columns=("source",),
    )
    trainer = Trainer(
        model=model,
        args=helpers.training_args(tmp_path / "run", max_steps=6),
        train_dataset=record_full,  # example_id/source dropped by remove_unused_columns
        data_collator=collator,
        callbacks=[cb, snaps],
    )
    trainer.train()

    store = TrajectoryStore.open(tmp_path / "traj")
    assert store.num_examples == len(record_full) == 48
    assert store.steps.tolist() == [0, 2, 4, 6]
    assert store.kinds == ["train_begin", "point", "point", "point+epoch_end"]
    np.testing.assert_allclose(store.epochs, [0.0, 2 / 6, 4 / 6, 1.0])
    assert store.complete_columns().tolist() == [0, 1, 2, 3]
    for j, step in enumerate(store.steps):
        model.load_state_dict(snaps.states[int(step)])
        expected = helpers.independent_losses(model, record_ds, collator)
        helpers.assert_losses_close(store.losses[:, j], expected)
        col = store.columns[j]
        assert col["nan_count"] == int(np.isnan(expected).sum())
        assert col["mean_loss"] == pytest.approx(np.nanmean(expected), rel=1e-5)
        assert col["seconds"] > 0 and col["wall_time"] is not None
    # losses fall while training
    assert np.nanmean(store.losses[:, -1]) < np.nanmean(store.losses[:, 0])

    # per-example token counts: shifted labels != -100
    counts = [int((np.array(ex["labels"][1:]) != -100).sum()) for ex in record_ds]
    assert store.num_tokens.tolist() == counts

    # provenance
    meta = store.meta
    assert store.dataset_fingerprint == record_full._fingerprint
    assert meta["dataset"]["length"] == 48
    assert meta["model"]["name_or_path"] == (model.config._name_or_path or None)
    assert store.example_ids.tolist() == record_full["example_id"]
    assert store.metadata("source").tolist() == record_full["source"]
    rec = meta["extra"]["recorder"]
    assert rec["schedule"] == RecordingSchedule(num_points=3, at_epoch_end=True).to_dict()
    assert rec["point_steps"] == [2, 4, 6]
    assert rec["trainer"] == "Trainer" and rec["model_class"] == "GPTNeoXForCausalLM"
    assert rec["collator"] == "DataCollatorForSeq2Seq" and rec["batch_size"] == 16

    # the summary went through trainer.log
    logged = [h for h in trainer.state.log_history if "probe/mean_loss" in h]
    assert [h["step"] for h in logged] == [0, 2, 4, 6]
    assert logged[-1]["probe/mean_loss"] == pytest.approx(store.columns[-1]["mean_loss"], rel=1e-6)


def _train(tmp_path, name, record_ds, tokenizer, make_causal_lm, helpers, callbacks):
    torch.manual_seed(1234)
    model = make_causal_lm(dropout=0.2)
    trainer = Trainer(
        model=model,
        args=helpers.training_args(tmp_path / name, max_steps=4, seed=7),
        train_dataset=record_ds,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=callbacks,
    )
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return losses, model, torch.rand(3)


def test_training_is_bit_identical_with_and_without_callback(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers
):
    """Dropout on: any RNG draw or data-order change by the probe would change training."""
    base_losses, base_model, base_rng = _train(
        tmp_path, "a", record_ds, tokenizer, make_causal_lm, helpers, []
    )
    cb = TrajectoryCallback(tmp_path / "traj", every_n_steps=1, batch_size=8)
    cb_losses, cb_model, cb_rng = _train(
        tmp_path, "b", record_ds, tokenizer, make_causal_lm, helpers, [cb]
    )
    assert TrajectoryStore.open(tmp_path / "traj").num_columns == 5
    assert base_losses == cb_losses
    assert torch.equal(base_rng, cb_rng)
    for (k, a), (_, b) in zip(base_model.state_dict().items(), cb_model.state_dict().items()):
        assert torch.equal(a, b), k
    assert cb_model.training  # back in train mode after the last probe pass


def test_probe_restores_eval_mode_and_rng(record_ds, tokenizer, make_causal_lm):
    from hf_s2l.record.probe import eval_mode, preserved_rng

    model = make_causal_lm()
    model.train()
    model.gpt_neox.layers[0].eval()
    before = torch.get_rng_state()
    with preserved_rng(), eval_mode(model):
        assert not any(m.training for m in model.modules())
        torch.rand(5)
        np.random.rand()
    assert torch.equal(before, torch.get_rng_state())
    assert model.training and not model.gpt_neox.layers[0].training
    assert model.gpt_neox.layers[1].training


def test_schedule_points_and_kinds():
    s = RecordingSchedule(num_points=4, every_n_steps=5, at_epoch_end=True)
    assert s.point_steps(10) == [3, 5, 8, 10]
    assert s.kinds_at_step(5, 10) == ["point", "interval"]
    assert s.kinds_at_step(10, 10, epoch_end=True) == ["point", "interval", "epoch_end"]
    assert s.kinds_at_step(4, 10) == []
    assert RecordingSchedule(num_points=12).point_steps(5) == [1, 2, 3, 4, 5]
    assert RecordingSchedule(num_points=None).point_steps(5) == []
    with pytest.raises(ValueError, match="every_n_steps"):
        RecordingSchedule(every_n_steps=0)
    with pytest.raises(TypeError, match="unknown TrajectoryCallback option"):
        TrajectoryCallback("x", num_point=3)
    with pytest.raises(TypeError, match="either"):
        TrajectoryCallback("x", RecordingSchedule(), num_points=3)
    with pytest.raises(ValueError, match="mode"):
        TrajectoryCallback("x", mode="bogus")


def test_interval_schedule_over_two_epochs(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    """every_n_steps + epoch ends + no step 0; epoch end of a truncated last epoch recorded."""
    ds = record_ds.select(range(16))  # 2 steps per epoch
    cb = TrajectoryCallback(
        tmp_path / "traj",
        at_train_begin=False,
        at_epoch_end=True,
        every_n_steps=3,
        num_points=None,
        batch_size=5,
    )
    trainer = Trainer(
        model=make_causal_lm(),
        args=helpers.training_args(tmp_path / "run", max_steps=5),
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[cb],
    )
    trainer.train()
    store = TrajectoryStore.open(tmp_path / "traj")
    assert store.steps.tolist() == [2, 3, 4, 5]
    assert store.kinds == ["epoch_end", "interval", "epoch_end", "epoch_end"]
    assert not np.isnan(store.losses).any()
