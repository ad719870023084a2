"""One recorder per store folder, refused when it is wired (before training): two callbacks of
one Trainer, one callback listed twice, ``attach`` on a Trainer that holds one, two trainings of
one process in two threads. And what ``attach(trainer)`` adds, and empty training sets."""

# ruff: noqa: F811  (the recording fixtures are imported, then requested by name)
from __future__ import annotations

import threading

import numpy as np
import pytest
from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback

from hf_s2l import RecorderConflictError, TrajectoryCallback, TrajectoryStore, attach
from hf_s2l.record import ProbeError
from hf_s2l.record.in_step import InStepRecorder
from tests.record.conftest import (  # noqa: F401  (fixtures)
    helpers,
    make_causal_lm,
    record_ds,
    record_full,
    record_raw,
)


@pytest.fixture
def new_trainer(tmp_path, make_causal_lm, record_ds, tokenizer, helpers):
    """``new_trainer(callbacks=(), out=tmp_path, **args)``: a Trainer of a fresh tiny causal LM
    on 16 rows, 2 steps (``args`` override ``helpers.training_args``), under ``out / "run"``."""

    def build(callbacks=(), out=None, **args):
        args.setdefault("max_steps", 2)
        return Trainer(
            model=make_causal_lm(),
            args=helpers.training_args((out or tmp_path) / "run", **args),
            train_dataset=record_ds.select(range(16)),
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
            callbacks=list(callbacks),
        )

    return build


def _recorders(trainer):
    return [
        c
        for c in trainer.callback_handler.callbacks
        if isinstance(c, (TrajectoryCallback, InStepRecorder))
    ]


def test_callback_plus_attach_to_the_same_folder_is_refused_at_attach(tmp_path, new_trainer):
    d = tmp_path / "traj"
    cb = TrajectoryCallback(d, num_points=1, batch_size=8)
    trainer = new_trainer([cb])
    with pytest.raises(RecorderConflictError, match="already holds a recorder.*never adds"):
        attach(trainer, output_dir=d, num_points=3)
    with pytest.raises(RecorderConflictError, match="already holds a recorder"):
        attach(trainer, TrajectoryCallback(tmp_path / "elsewhere"))
    assert _recorders(trainer) == [cb] and not d.exists()
    trainer.train()  # the one recorder records alone
    store = TrajectoryStore.open(d)
    assert store.steps.tolist() == [0, 2] and store.complete_columns().tolist() == [0, 1]


@pytest.mark.parametrize("how", ["callbacks", "add_callback"])
def test_two_callbacks_of_one_folder_are_refused_before_training(tmp_path, new_trainer, how):
    """Different schedules used to run the whole training, then fail in on_train_end with the
    store left unreadable."""
    d = tmp_path / "traj"
    first = TrajectoryCallback(d, num_points=1, batch_size=8)
    second = TrajectoryCallback(tmp_path / "x" / ".." / "traj", every_n_steps=1, batch_size=8)
    steps = []

    class Steps(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            steps.append(state.global_step)

    if how == "callbacks":  # at Trainer construction
        with pytest.raises(RecorderConflictError, match="two recorders of this Trainer write"):
            new_trainer([first, second])
    else:  # added after construction: at train begin, before the store is made
        trainer = new_trainer([Steps()])
        trainer.add_callback(first)
        trainer.add_callback(second)
        with pytest.raises(RecorderConflictError, match="two recorders of this Trainer write"):
            trainer.train()
        assert steps == []
    assert not d.exists()


def test_in_step_recorder_beside_a_callback_of_its_folder_is_refused(tmp_path, new_trainer):
    d = tmp_path / "traj"
    both = TrajectoryCallback(d, mode="both", num_points=1)
    with pytest.raises(RecorderConflictError, match="in_step"):
        new_trainer([both, InStepRecorder(d / "in_step")])


def test_one_callback_listed_twice_is_refused(tmp_path, new_trainer):
    cb = TrajectoryCallback(tmp_path / "traj", num_points=1, batch_size=8)
    with pytest.raises(RecorderConflictError, match="same TrajectoryCallback.*twice"):
        new_trainer([cb, cb])
    trainer = new_trainer()
    trainer.add_callback(cb)
    trainer.add_callback(cb)  # transformers only warns
    with pytest.raises(RecorderConflictError, match="twice"):
        attach(trainer)
    with pytest.raises(RecorderConflictError, match="twice"):
        trainer.train()
    assert not (tmp_path / "traj").exists()


def test_attach_is_idempotent_and_adds_one_when_there_is_none(tmp_path, new_trainer):
    trainer = new_trainer()
    cb = attach(trainer)  # README: adds a TrajectoryCallback if there is none
    assert isinstance(cb, TrajectoryCallback) and cb.trainer is trainer
    assert cb.output_dir == tmp_path / "run" / "trajectories"
    assert attach(trainer) is cb and attach(trainer, cb) is cb
    assert _recorders(trainer) == [cb]
    trainer.train()
    assert TrajectoryStore.open(tmp_path / "run" / "trajectories").num_columns > 0


def test_attach_twice_on_sft_trainer_never_adds_a_second_recorder(
    tmp_path, make_causal_lm, record_ds, tokenizer, helpers
):
    trl = pytest.importorskip("trl")
    args = trl.SFTConfig(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=8,
        max_steps=2,
        max_length=64,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
        bf16=False,
    )
    trainer = trl.SFTTrainer(
        model=make_causal_lm(),
        args=args,
        train_dataset=record_ds.select(range(16)),
        processing_class=tokenizer,
    )
    d = tmp_path / "traj"
    cb = attach(trainer, output_dir=d, num_points=1, batch_size=8)
    with pytest.raises(RecorderConflictError, match="never adds a\\s+second"):
        attach(trainer, output_dir=d, num_points=1, batch_size=8)
    assert attach(trainer) is cb and _recorders(trainer) == [cb]
    trainer.train()
    store = TrajectoryStore.open(d)
    assert store.complete_columns().tolist() == list(range(store.num_columns))


class _Gate(TrainerCallback):
    """Holds its training at the first step until released."""

    def __init__(self) -> None:
        self.at_step = threading.Event()
        self.go = threading.Event()

    def on_step_end(self, args, state, control, **kw):
        self.at_step.set()
        assert self.go.wait(120)


def _refused_while_first_trains(new_trainer, callback, make_second, match: str):
    """Train a Trainer holding ``callback`` in a thread called "first-training", held after
    its first step; meanwhile ``make_second().train()`` must raise ``RecorderConflictError``
    matching ``match``. The first then ends without error, its store whole: ``(second, that
    store)``."""
    gate = _Gate()
    first = new_trainer([callback, gate])
    errors: list[BaseException] = []

    def train_first() -> None:
        try:
            first.train()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    thread = threading.Thread(target=train_first, name="first-training")
    thread.start()
    try:
        assert gate.at_step.wait(120)
        second = make_second()
        with pytest.raises(RecorderConflictError, match=match):
            second.train()
    finally:
        gate.go.set()
        thread.join(120)
    assert errors == []
    store = TrajectoryStore.open(callback.output_dir)  # the first training's store, whole
    assert store.steps.tolist() == [0, 2] and store.complete_columns().tolist() == [0, 1]
    return second, store


def test_a_second_training_thread_into_the_same_folder_is_refused(tmp_path, new_trainer):
    d = tmp_path / "traj"
    second, store = _refused_while_first_trains(
        new_trainer,
        TrajectoryCallback(d, num_points=1, batch_size=8),
        lambda: new_trainer(
            [TrajectoryCallback(d, num_points=1, batch_size=8, overwrite=True)], out=tmp_path / "2"
        ),
        "another training of this process.*first-training",
    )
    first_id = store.meta["store_id"]
    second.train()  # once the first has ended, the folder is free again (overwrite=True)
    again = TrajectoryStore.open(d)
    assert again.meta["store_id"] != first_id and again.complete_columns().tolist() == [0, 1]


def test_a_training_that_failed_never_blocks_the_next_one_of_its_thread(tmp_path, new_trainer):
    """A notebook re-run after an error: the failed training's callback still exists."""
    d = tmp_path / "traj"

    class Boom(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            raise RuntimeError("boom")

    failed_cb = TrajectoryCallback(d, num_points=1, batch_size=8)
    failed = new_trainer([failed_cb, Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        failed.train()
    again = new_trainer([TrajectoryCallback(d, num_points=1, batch_size=8, overwrite=True)])
    again.train()
    store = TrajectoryStore.open(d)
    assert store.steps.tolist() == [0, 2] and store.complete_columns().tolist() == [0, 1]
    assert failed_cb.trainer is failed  # still alive, still not in the way


@pytest.mark.parametrize("mode", ["probe", "in_step", "both"])
@pytest.mark.parametrize("how", ["callbacks", "attach"])
def test_empty_training_set_is_a_clear_error_before_training(
    tmp_path, make_causal_lm, record_ds, tokenizer, helpers, mode, how
):
    empty = record_ds.select([])
    cb = TrajectoryCallback(tmp_path / "traj", mode=mode, num_points=1)

    def make(callbacks):
        return Trainer(
            model=make_causal_lm(),
            args=helpers.training_args(tmp_path / "run"),
            train_dataset=empty,
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
            callbacks=callbacks,
        )

    with pytest.raises(ProbeError, match="training dataset is empty \\(0 rows\\)"):
        if how == "callbacks":
            make([cb])
        else:
            attach(make([]), cb)
    assert not (tmp_path / "traj").exists()


def test_store_of_the_refused_recorder_is_untouched(tmp_path, new_trainer):
    """A refused second recorder changes nothing in a store recorded before."""
    d = tmp_path / "traj"
    new_trainer([TrajectoryCallback(d, num_points=1, batch_size=8)]).train()
    before = np.asarray(TrajectoryStore.open(d).losses).copy()
    trainer = new_trainer()
    trainer.add_callback(TrajectoryCallback(d, num_points=1, overwrite=True))
    trainer.add_callback(TrajectoryCallback(d, every_n_steps=1, overwrite=True))
    with pytest.raises(RecorderConflictError):
        trainer.train()
    np.testing.assert_array_equal(np.asarray(TrajectoryStore.open(d).losses), before)


def test_two_in_step_recorders_of_one_folder_are_refused_at_train_begin(tmp_path, new_trainer):
    d = tmp_path / "in_step"
    trainer = new_trainer([InStepRecorder(d), InStepRecorder(d)])
    with pytest.raises(RecorderConflictError, match="two recorders of this Trainer write"):
        trainer.train()
    assert not d.exists()


@pytest.mark.parametrize("mode", ["probe", "in_step", "both"])
def test_overwrite_of_a_store_with_ids_and_metadata_columns(
    tmp_path, make_causal_lm, record_full, tokenizer, helpers, mode
):
    """A re-run with overwrite=True replaced the store while its earlier writer was open; closing
    that writer raised FileNotFoundError (metadata/source.npy, example_ids.npy: the new store
    has none yet) and left an empty store."""
    d = tmp_path / "traj"
    kw = dict(mode=mode, num_points=1, batch_size=8, id_column="example_id")
    kw["metadata_columns"] = ["source"]

    def run(callback):
        Trainer(
            model=make_causal_lm(),
            args=helpers.training_args(tmp_path / "run", max_steps=2),
            train_dataset=record_full.select(range(16)),
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
            callbacks=[callback],
        ).train()
        return TrajectoryStore.open(d)

    first = run(TrajectoryCallback(d, **kw))
    again = run(TrajectoryCallback(d, overwrite=True, **kw))
    assert again.meta["store_id"] != first.meta["store_id"]
    assert again.complete_columns().tolist() == list(range(again.num_columns)) != []
    assert again.metadata("source").tolist() == first.metadata("source").tolist()
    assert again.example_ids.tolist() == first.example_ids.tolist()
    if mode == "both":
        assert TrajectoryStore.open(d / "in_step").metadata_columns == ["source"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_one_callback_given_to_two_trainers_training_at_once_is_refused(
    tmp_path, new_trainer, overwrite
):
    """The same callback object in two Trainers of two threads: the second training replaced
    the first's store mid-run (overwrite=True: one store of both trainings' columns), or failed
    its train begin after resetting the callback the first was using (the first then died)."""
    d = tmp_path / "traj"
    cb = TrajectoryCallback(d, num_points=1, batch_size=8, overwrite=overwrite)
    _refused_while_first_trains(
        new_trainer,
        cb,
        lambda: new_trainer([cb], out=tmp_path / "2"),
        "is recording another training.*first-training",
    )


@pytest.mark.parametrize("how", ["callbacks", "add_callback"])
def test_one_callback_given_to_a_second_trainer_records_that_trainers_rows(
    tmp_path, make_causal_lm, record_full, tokenizer, helpers, how
):
    """A notebook re-runs the cell that builds the Trainer, not the one that built the callback:
    the callback stayed wired to the first Trainer (which still holds it) and recorded the
    second training's losses with the first one's example ids and metadata, its probe logs in
    the first Trainer's history."""
    d = tmp_path / "traj"
    cb = TrajectoryCallback(
        d,
        num_points=1,
        batch_size=8,
        overwrite=True,
        id_column="example_id",
        metadata_columns=["source"],
    )

    def make(rows, callbacks):
        return Trainer(
            model=make_causal_lm(),
            args=helpers.training_args(tmp_path / "run", max_steps=2),
            train_dataset=rows,
            data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
            callbacks=callbacks,
        )

    first_rows, second_rows = record_full.select(range(16)), record_full.select(range(32, 48))
    first = make(first_rows, [cb])
    first.train()
    second = make(second_rows, [cb] if how == "callbacks" else [])
    if how == "add_callback":
        second.add_callback(cb)
    logged = len(first.state.log_history)
    second.train()
    store = TrajectoryStore.open(d)
    assert store.example_ids.tolist() == list(second_rows["example_id"])
    assert store.metadata("source").tolist() == list(second_rows["source"])
    assert cb.trainer is second and len(first.state.log_history) == logged
    assert any("probe/mean_loss" in entry for entry in second.state.log_history)
