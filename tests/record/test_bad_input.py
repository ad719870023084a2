"""Bad input: clear errors before training starts, no half-made or modified store."""

from __future__ import annotations

import copy
import hashlib
import logging
import os
from pathlib import Path

import datasets
import numpy as np
import pytest
from transformers import DataCollatorForLanguageModeling, DataCollatorForSeq2Seq, Trainer

from hf_s2l import StoreMismatchError, TrajectoryCallback, TrajectoryStore
from hf_s2l.record import ProbeError


def _digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


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
    old = TrajectoryStore.create(out, n, dataset_fingerprint="another-dataset")
    c = old.add_column(0, 0.0, "train_begin")
    old.write(c, np.arange(n), np.arange(n, dtype=np.float32))
    old.mark_complete(c)
    before = _digest(out)
    model = make_causal_lm()
    trainer = _trainer(
        tmp_path,
        model,
        record_ds,
        DataCollatorForSeq2Seq(tokenizer),
        TrajectoryCallback(out),
        helpers,
    )
    with pytest.raises(StoreMismatchError, match="use another output directory"):
        trainer.train()
    assert trainer.state.global_step == 0
    assert _digest(out) == before


def test_output_dir_is_a_file(tmp_path, record_ds, tokenizer, make_causal_lm, helpers):
    target = tmp_path / "a_file"
    target.write_text("not a directory")
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
    before = _digest(out)
    again = _trainer(
        tmp_path,
        make_causal_lm(1),
        record_ds,
        collator,
        TrajectoryCallback(out, num_points=1),
        helpers,
    )
    with pytest.raises(FileExistsError, match="overwrite=True"):
        again.train()
    assert _digest(out) == before
    cb = TrajectoryCallback(out, num_points=1, overwrite=True)
    _trainer(tmp_path, make_causal_lm(1), record_ds, collator, cb, helpers).train()
    store = TrajectoryStore.open(out)
    assert store.steps.tolist() == [0, 2] and store.complete_columns().tolist() == [0, 1]
