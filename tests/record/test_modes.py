"""Mode handling of TrajectoryCallback: events forwarded to the in-step recorder."""

from __future__ import annotations

import sys
import types
from collections import Counter
from pathlib import Path

from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback

from hf_s2l import TrajectoryCallback, TrajectoryStore
from hf_s2l.record.callback import _EVENTS


class FakeRecorder(TrainerCallback):
    def __init__(self, output_dir, **options):
        self.output_dir = Path(output_dir)
        self.options = options
        self.events: Counter = Counter()

    def __getattribute__(self, name):
        if name in _EVENTS:

            def record(args, state, control, **kw):
                object.__getattribute__(self, "events")[name] += 1

            return record
        return object.__getattribute__(self, name)


def _fake_module(monkeypatch):
    mod = types.ModuleType("hf_s2l.record.in_step")
    mod.InStepRecorder = FakeRecorder
    monkeypatch.setitem(sys.modules, "hf_s2l.record.in_step", mod)


def _train(tmp_path, cb, record_ds, tokenizer, make_causal_lm, helpers):
    Trainer(
        model=make_causal_lm(),
        args=helpers.training_args(tmp_path / "run", max_steps=2),
        train_dataset=record_ds.select(range(16)),
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[cb],
    ).train()


def test_in_step_mode_forwards_every_event_and_records_no_probe(
    tmp_path, monkeypatch, record_ds, tokenizer, make_causal_lm, helpers
):
    _fake_module(monkeypatch)
    cb = TrajectoryCallback(tmp_path / "traj", mode="in_step", in_step_options={"fast_path": False})
    rec = cb.in_step_recorder
    assert isinstance(rec, FakeRecorder) and rec.output_dir == tmp_path / "traj"
    assert rec.options == {"fast_path": False}
    _train(tmp_path, cb, record_ds, tokenizer, make_causal_lm, helpers)
    for event in (
        "on_init_end",
        "on_train_begin",
        "on_train_end",
        "on_epoch_begin",
        "on_epoch_end",
    ):
        assert rec.events[event] == 1, event
    assert rec.events["on_step_end"] == 2 and rec.events["on_step_begin"] == 2
    assert rec.events["on_optimizer_step"] == 2 and rec.events["on_pre_optimizer_step"] == 2
    assert rec.events["on_log"] >= 2
    assert not (tmp_path / "traj").exists()  # no probe store


def test_both_modes(tmp_path, monkeypatch, record_ds, tokenizer, make_causal_lm, helpers):
    _fake_module(monkeypatch)
    cb = TrajectoryCallback(tmp_path / "traj", mode="both", num_points=1)
    assert cb.in_step_recorder.output_dir == tmp_path / "traj" / "in_step"
    _train(tmp_path, cb, record_ds, tokenizer, make_causal_lm, helpers)
    assert TrajectoryStore.open(tmp_path / "traj").steps.tolist() == [0, 2]
    assert cb.in_step_recorder.events["on_train_begin"] == 1
    # probe summaries reach the forwarded on_log as well
    assert cb.in_step_recorder.events["on_log"] >= 4


def test_probe_mode_has_no_recorder():
    cb = TrajectoryCallback("unused", mode="probe")
    assert cb.in_step_recorder is None
    assert cb.on_step_begin(None, None, None) is None
