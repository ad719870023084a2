"""Bad input to the recording callback: a clear error of a known type before training
starts, and nothing on disk changed (no half-made or modified store)."""

# ruff: noqa: F811  (the recording fixtures are imported, then requested by name)
from __future__ import annotations

import copy
import logging
import os
import signal
import subprocess
import sys

import datasets
import numpy as np
import pytest
from transformers import (
    DataCollatorForLanguageModeling,
    DataCollatorForSeq2Seq,
    Trainer,
    TrainerCallback,
)

from hf_s2l import StoreLockedError, StoreMismatchError, TrajectoryCallback, TrajectoryStore
from hf_s2l.record import ProbeError
from tests.bad_inputs.test_store_and_selection import digest as _digest
from tests.record.conftest import (  # noqa: F401  (fixtures)
    helpers,
    make_causal_lm,
    record_ds,
    record_full,
    record_raw,
)


def _trainer(tmp_path, model, ds, collator, cb, helpers, **args):
    return Trainer(
        model=model,
        args=helpers.training_args(tmp_path / "run", max_steps=2, **args),
        train_dataset=ds,
        data_collator=collator,
        callbacks=[cb],
    )


@pytest.mark.parametrize("mismatch", ["length", "fingerprint"])
def test_store_of_another_dataset(
    tmp_path, mismatch, record_ds, tokenizer, make_causal_lm, helpers
):
    out = tmp_path / "traj"
    n = 10 if mismatch == "length" else len(record_ds)
    with TrajectoryStore.create(out, n, dataset_fingerprint="another-dataset") as old:
        c = old.add_column(0, 0.0, "train_begin")
        old.write(c, np.arange(n), np.arange(n, dtype=np.float32))
        old.mark_complete(c)
    before = _digest(tmp_path, skip=("run",))
    model = make_causal_lm()
    trainer = _trainer(
        tmp_path,
        model,
        record_ds,
        DataCollatorForSeq2Seq(tokenizer),
        TrajectoryCallback(out),
        helpers,
    )
    with pytest.raises(StoreMismatchError, match="use another output directory") as info:
        trainer.train()
    assert "overwrite=True" in str(info.value)
    assert trainer.state.global_step == 0
    assert _digest(tmp_path, skip=("run",)) == before
    # overwrite=True replaces it, as documented (issue 12 point 9)
    cb = TrajectoryCallback(out, num_points=1, overwrite=True)
    _trainer(
        tmp_path, make_causal_lm(), record_ds, DataCollatorForSeq2Seq(tokenizer), cb, helpers
    ).train()
    store = TrajectoryStore.open(out)
    assert store.num_examples == len(record_ds)
    assert store.dataset_fingerprint == record_ds._fingerprint
    assert store.steps.tolist() == [0, 2] and store.complete_columns().tolist() == [0, 1]


def test_store_being_written_by_another_process(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers
):
    out = tmp_path / "traj"
    TrajectoryStore.create(out, len(record_ds), dataset_fingerprint=record_ds._fingerprint).close()
    hold = "import sys,time; from hf_s2l import TrajectoryStore as T; s=T.open(sys.argv[1],'r+'); print('LOCKED',flush=True); time.sleep(120)"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(out)],
        env=helpers.subprocess_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "LOCKED"
        before = _digest(tmp_path, skip=("run",))
        trainer = _trainer(
            tmp_path,
            make_causal_lm(),
            record_ds,
            DataCollatorForSeq2Seq(tokenizer),
            TrajectoryCallback(out),
            helpers,
        )
        with pytest.raises(
            StoreLockedError, match=f"being written by another process \\(pid {holder.pid}"
        ):
            trainer.train()
        assert trainer.state.global_step == 0
        assert _digest(tmp_path, skip=("run",)) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)


def test_metadata_column_name_is_not_a_path(tmp_path, record_full):
    with pytest.raises(ValueError, match="invalid metadata column name"):
        TrajectoryCallback(tmp_path / "traj", metadata_columns=("../example_ids",))
    assert list(tmp_path.iterdir()) == []


def test_output_dir_is_a_file(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    target = tmp_path / "a_file"
    target.write_text("not a directory")
    before = _digest(tmp_path, skip=("run",))
    cb = TrajectoryCallback(target)
    trainer = _trainer(
        tmp_path, make_causal_lm(), record_ds, DataCollatorForSeq2Seq(tokenizer), cb, helpers
    )
    with pytest.raises(FileExistsError, match="not an empty directory"):
        trainer.train()
    assert target.read_text() == "not a directory"
    cb = TrajectoryCallback(target / "traj")  # a path under a regular file
    trainer = _trainer(
        tmp_path, make_causal_lm(), record_ds, DataCollatorForSeq2Seq(tokenizer), cb, helpers
    )
    with pytest.raises(PermissionError, match="cannot create the store directory"):
        trainer.train()
    assert trainer.state.global_step == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert _digest(tmp_path, skip=("run",)) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_directory(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        cb = TrajectoryCallback(ro / "traj")
        trainer = _trainer(
            tmp_path, make_causal_lm(), record_ds, DataCollatorForSeq2Seq(tokenizer), cb, helpers
        )
        with pytest.raises(PermissionError):
            trainer.train()
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_empty_dataset(tmp_path, tokenizer, make_causal_lm, helpers):
    empty = datasets.Dataset.from_dict({"input_ids": [], "attention_mask": [], "labels": []})
    with pytest.raises(ProbeError, match="empty"):
        _trainer(
            tmp_path,
            make_causal_lm(),
            empty,
            DataCollatorForSeq2Seq(tokenizer),
            TrajectoryCallback(tmp_path / "traj"),
            helpers,
        )
    assert not (tmp_path / "traj").exists()


def test_iterable_dataset(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    it = record_ds.to_iterable_dataset()
    with pytest.raises(ProbeError, match="map-style"):
        _trainer(
            tmp_path,
            make_causal_lm(),
            it,
            DataCollatorForSeq2Seq(tokenizer),
            TrajectoryCallback(tmp_path / "traj"),
            helpers,
        )
    # added after construction: caught in on_train_begin, still before any step
    trainer = Trainer(
        model=make_causal_lm(),
        args=helpers.training_args(tmp_path / "run", max_steps=2),
        train_dataset=it,
        data_collator=DataCollatorForSeq2Seq(tokenizer),
    )
    trainer.add_callback(TrajectoryCallback(tmp_path / "traj"))
    with pytest.raises(ProbeError, match="IterableDataset"):
        trainer.train()
    assert not (tmp_path / "traj").exists()


def test_random_masking_collator_rejected(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    tokenizer = copy.deepcopy(tokenizer)
    tokenizer.mask_token = tokenizer.unk_token
    ds = record_ds.remove_columns("labels")
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True)
    cb = TrajectoryCallback(tmp_path / "traj")
    trainer = _trainer(tmp_path, make_causal_lm(), ds, collator, cb, helpers)
    with pytest.raises(ProbeError, match="mlm=True"):
        trainer.train()
    assert not (tmp_path / "traj").exists()


def test_all_masked_labels_are_nan_with_one_warning(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers, caplog
):
    masked = {2, 5, 11}

    def mask(ex, i):
        return {"labels": [-100] * len(ex["labels"])} if i in masked else {}

    ds = record_ds.map(mask, with_indices=True)
    cb = TrajectoryCallback(tmp_path / "traj", num_points=2, batch_size=7)
    trainer = _trainer(
        tmp_path, make_causal_lm(), ds, DataCollatorForSeq2Seq(tokenizer), cb, helpers
    )
    with caplog.at_level(logging.WARNING, logger="hf_s2l"):
        trainer.train()
    store = TrajectoryStore.open(tmp_path / "traj")
    assert store.num_columns == 3
    nan_rows = set(np.flatnonzero(np.isnan(store.losses).any(axis=1)).tolist())
    assert nan_rows == masked
    assert np.isnan(store.losses[sorted(masked)]).all()
    assert [c["nan_count"] for c in store.columns] == [3, 3, 3]
    assert store.num_tokens[sorted(masked)].tolist() == [0, 0, 0]
    warnings = [r for r in caplog.records if "no target token" in r.getMessage()]
    assert len(warnings) == 1 and "3 training example(s)" in warnings[0].getMessage()


def test_fresh_run_into_recorded_store(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    """With no checkpoint the error must not advise resume_from_checkpoint (which fails with
    "No valid checkpoint found"); what it advises works."""
    out = tmp_path / "traj"
    collator = DataCollatorForSeq2Seq(tokenizer)
    _trainer(
        tmp_path,
        make_causal_lm(),
        record_ds,
        collator,
        TrajectoryCallback(out, num_points=1),
        helpers,
    ).train()
    before = _digest(tmp_path, skip=("run",))
    again = _trainer(
        tmp_path,
        make_causal_lm(1),
        record_ds,
        collator,
        TrajectoryCallback(out, num_points=1),
        helpers,
    )
    with pytest.raises(FileExistsError, match="left no checkpoint") as info:
        again.train()
    assert "overwrite=True" in str(info.value)
    assert "resume_from_checkpoint" not in str(info.value)
    assert _digest(tmp_path, skip=("run",)) == before
    cb = TrajectoryCallback(out, num_points=1, overwrite=True)
    _trainer(tmp_path, make_causal_lm(1), record_ds, collator, cb, helpers).train()
    store = TrajectoryStore.open(out)
    assert store.steps.tolist() == [0, 2] and store.complete_columns().tolist() == [0, 1]


def test_fresh_run_into_recorded_store_with_checkpoint(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers
):
    out = tmp_path / "traj"
    collator = DataCollatorForSeq2Seq(tokenizer)
    ckpt = dict(save_strategy="steps", save_steps=2)
    cb = TrajectoryCallback(out, num_points=1)
    _trainer(tmp_path, make_causal_lm(), record_ds, collator, cb, helpers, **ckpt).train()
    recorded = TrajectoryStore.open(out)
    assert recorded.complete_columns().tolist() == list(range(recorded.num_columns))
    before = _digest(tmp_path)
    cb = TrajectoryCallback(out, num_points=1)
    again = _trainer(tmp_path, make_causal_lm(), record_ds, collator, cb, helpers, **ckpt)
    with pytest.raises(FileExistsError, match="resume_from_checkpoint=True") as info:
        again.train()
    assert "checkpoint-2" in str(info.value)
    assert _digest(tmp_path) == before
    again.train(resume_from_checkpoint=True)  # the advice works
    resumed = TrajectoryStore.open(out)  # the recorded columns are kept as they were
    t = recorded.num_columns
    assert resumed.steps.tolist()[:t] == recorded.steps.tolist()
    np.testing.assert_array_equal(resumed.losses[:, :t], recorded.losses)


def test_fresh_in_step_run_into_recorded_in_step_store(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers
):
    """The in-step recorder no longer wipes an earlier run's store silently; overwrite=True
    (passed through TrajectoryCallback) replaces it, also when it is of another dataset."""
    out = tmp_path / "traj"
    collator = DataCollatorForSeq2Seq(tokenizer)
    cb = TrajectoryCallback(out, mode="in_step")
    _trainer(tmp_path, make_causal_lm(), record_ds, collator, cb, helpers).train()
    before = _digest(tmp_path, skip=("run",))
    cb = TrajectoryCallback(out, mode="in_step")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        _trainer(tmp_path, make_causal_lm(), record_ds, collator, cb, helpers).train()
    assert _digest(tmp_path, skip=("run",)) == before
    other = record_ds.select(range(40))
    cb = TrajectoryCallback(out, mode="in_step")
    with pytest.raises(StoreMismatchError, match="overwrite=True"):
        _trainer(tmp_path, make_causal_lm(), other, collator, cb, helpers).train()
    assert _digest(tmp_path, skip=("run",)) == before
    cb = TrajectoryCallback(out, mode="in_step", overwrite=True)
    _trainer(tmp_path, make_causal_lm(), other, collator, cb, helpers).train()
    store = TrajectoryStore.open(out)
    assert store.num_examples == 40 and store.mode == "in_step"


@pytest.mark.parametrize("mode", ["probe", "in_step"])
def test_iterable_dataset_advice_works(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers, mode
):
    """The streaming error's advice names no mode that fails as well; following it trains."""
    it = record_ds.to_iterable_dataset()
    trainer = Trainer(
        model=make_causal_lm(),
        args=helpers.training_args(tmp_path / "run", max_steps=2),
        train_dataset=it,
        data_collator=DataCollatorForSeq2Seq(tokenizer),
    )
    trainer.add_callback(TrajectoryCallback(tmp_path / "traj", mode=mode))
    with pytest.raises(ValueError, match="from_list") as err:
        trainer.train()
    # the advice offers no other mode as the way out (in-step needs a map-style dataset too)
    assert f"TrajectoryCallback(mode={mode!r})" in str(err.value)
    assert "use mode=" not in str(err.value) and "try mode=" not in str(err.value)
    converted = datasets.Dataset.from_list(list(it.take(len(record_ds))))
    trainer = _trainer(
        tmp_path,
        make_causal_lm(),
        converted,
        DataCollatorForSeq2Seq(tokenizer),
        TrajectoryCallback(tmp_path / "traj2", mode=mode),
        helpers,
    )
    trainer.train()
    assert TrajectoryStore.open(tmp_path / "traj2").num_columns >= 1


@pytest.mark.parametrize("mode", ["probe", "in_step"])
def test_non_unique_id_column_refused_at_train_begin(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers, mode
):
    """A repeated example id stops the run before the first step, not after the proxy run."""
    ids = [f"id{i}" for i in range(len(record_ds))]
    ids[5] = ids[2]
    ds = record_ds.add_column("example_id", ids)
    steps = []

    class Steps(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            steps.append(state.global_step)

    trainer = _trainer(
        tmp_path,
        make_causal_lm(),
        ds,
        DataCollatorForSeq2Seq(tokenizer),
        TrajectoryCallback(tmp_path / "traj", mode=mode, at_train_begin=False),
        helpers,
    )
    trainer.add_callback(Steps())
    with pytest.raises(ValueError, match="not unique.*'id2'"):
        trainer.train()
    assert steps == []


@pytest.mark.parametrize("mode", ["probe", "in_step"])
def test_store_with_no_column_says_it_recorded_nothing(tmp_path, mode):
    """select() on a store that recorded nothing says so (not "record more points")."""
    from hf_s2l import select

    TrajectoryStore.create(tmp_path / "empty", 10, mode=mode, track_cell_steps=mode == "in_step")
    with pytest.raises(ValueError, match="recorded nothing: it has 0 columns") as err:
        select(TrajectoryStore.open(tmp_path / "empty"), "s2l", budget=0.5)
    assert "record more points" not in str(err.value)


def test_flattening_collator_refused_at_train_begin(
    tmp_path, record_ds, tokenizer, make_causal_lm, helpers
):
    """Probe mode refuses DataCollatorWithFlattening before any step, at_train_begin or not."""
    from transformers import DataCollatorWithFlattening

    cb = TrajectoryCallback(tmp_path / "traj", at_train_begin=False, num_points=2)
    trainer = _trainer(
        tmp_path, make_causal_lm(), record_ds, DataCollatorWithFlattening(), cb, helpers
    )
    with pytest.raises(ProbeError, match="DataCollatorWithFlattening.*mode='in_step'"):
        trainer.train()
    assert trainer.state.global_step == 0
