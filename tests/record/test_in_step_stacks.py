"""In-step recording in the training stacks of issue 18: every stored cell equals the
example's loss computed alone (``model(input_ids=x[None], labels=y[None]).loss`` at the
weights of the step that cell records), or training stops at the first step with an error."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

from hf_s2l import TrajectoryCallback, TrajectoryStore

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "in_step_train_script", HERE / "in_step_train_script.py"
)
h = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(h)


@pytest.fixture(scope="module")
def dataset(math_raw, tokenizer):
    """24 tokenised math rows with a ``source`` and an ``example_id`` column."""
    ds = h.build_dataset(math_raw, tokenizer, n=24, duplicates=())
    ds = ds.add_column("source", ["alg" if i % 3 else "geo" for i in range(len(ds))])
    return ds.add_column("example_id", [f"ex{i}" for i in range(len(ds))])


def run(
    tmp_path: Path,
    dataset: Any,
    tokenizer: Any,
    *,
    trainer_cls: type = Trainer,
    model: Any = None,
    collator: Any = None,
    callback_kwargs: dict[str, Any] | None = None,
    trainer_kwargs: dict[str, Any] | None = None,
    **arg_overrides: Any,
):
    """Train one epoch with ``TrajectoryCallback(mode="in_step")`` and weight snapshots."""
    kw: dict[str, Any] = dict(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=4,
        num_train_epochs=1,
        learning_rate=3e-3,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    kw.update(arg_overrides)
    snaps = h.Snapshots()
    cb = TrajectoryCallback(tmp_path / "store", mode="in_step", **(callback_kwargs or {}))
    trainer = trainer_cls(
        model=h.make_model(tokenizer) if model is None else model,
        args=TrainingArguments(**kw),
        train_dataset=dataset,
        data_collator=collator or DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[snaps, cb],
        **(trainer_kwargs or {}),
    )
    trainer.train()
    return trainer, snaps.states


def check_alone(store_dir: Path, dataset: Any, tokenizer: Any, states: dict, model: Any = None):
    """Every cell recorded and within 1e-4 (relative) of the example's loss alone."""
    store = TrajectoryStore.open(store_dir)
    losses, steps = np.asarray(store.losses), np.asarray(store.cell_steps)
    assert store.num_columns >= 1 and not np.isnan(losses).any()
    for e in range(store.num_columns):
        ref = h.independent_losses(
            dataset, tokenizer, states, np.arange(len(dataset)), steps[:, e], model
        )
        rel = np.abs(losses[:, e] - ref) / np.abs(ref)
        assert rel.max() <= 1e-4, (e, rel.max(), int(np.argmax(rel)))
    return store


def test_in_step_store_keeps_ids_and_metadata(tmp_path, dataset, tokenizer):
    """README steps 2-3 on an in-step store: by_column and SelectedDataset(id_column=...)."""
    from hf_s2l import SelectedDataset, select

    _, states = run(tmp_path, dataset, tokenizer, callback_kwargs={"metadata_columns": ("source",)})
    store = check_alone(tmp_path / "store", dataset, tokenizer, states)
    assert store.example_ids.tolist() == dataset["example_id"]
    assert store.metadata("source").tolist() == dataset["source"]
    sel = select(store, "random", budget=0.5, by_column="source")
    picked = SelectedDataset(dataset, sel, id_column="example_id")
    assert len(picked) == len(sel.indices)
