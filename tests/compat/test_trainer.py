"""Plain ``transformers.Trainer`` stacks (issue 18): every stored cell == the row's loss alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import DataCollatorForSeq2Seq, Trainer

from hf_s2l.compat import sampling_kwargs

from .conftest import (
    MODES,
    assert_stops_early,
    check_run,
    check_store,
    model_columns_batch,
    record,
    token_ce,
    trainer_factory,
)


def _collator(tokenizer):
    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)


def _make(tmp_path, tokenizer, model, ds, **kw):
    """:func:`trainer_factory` with the seq2seq collator of ``tokenizer``."""
    return trainer_factory(tmp_path, model, ds, _collator(tokenizer), **kw)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_accumulation(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    make = _make(
        tmp_path,
        tokenizer,
        causal_lm(),
        compat_ds,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
    )
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_group_by_length(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    make = _make(tmp_path, tokenizer, causal_lm(), compat_ds, **sampling_kwargs("group_by_length"))
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_max_steps_mid_epoch(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """max_steps=2 of a 3-step epoch: the in-step column is partial (only seen rows)."""
    make = _make(tmp_path, tokenizer, causal_lm(), compat_ds, max_steps=2)
    run = record(tmp_path, make, mode)
    if mode == "probe":
        check_run(run)
    else:
        store = check_store(run.stores["in_step"], run, complete=False)
        seen = (~np.isnan(np.asarray(store.losses)[:, 0])).sum()
        assert seen == 16, seen  # 2 steps x 8 rows


@pytest.mark.parametrize("mode", MODES)
def test_lora(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(
        causal_lm(), LoraConfig(r=4, lora_alpha=8, target_modules=["query_key_value"])
    )
    make = _make(tmp_path, tokenizer, model, compat_ds)
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_lora_gradient_checkpointing(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(
        causal_lm(), LoraConfig(r=4, lora_alpha=8, target_modules=["query_key_value"])
    )
    make = _make(
        tmp_path,
        tokenizer,
        model,
        compat_ds,
        gradient_checkpointing=True,
        gradient_checkpointing_kwargs={"use_reentrant": False},
    )
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_bf16(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """bf16 autocast: compared with the alone forward under the same autocast (bf16 rounding)."""
    make = _make(tmp_path, tokenizer, causal_lm(), compat_ds, bf16=True)
    check_run(record(tmp_path, make, mode), autocast=torch.bfloat16, rtol=2e-2)


@pytest.mark.parametrize("mode", MODES)
def test_label_smoothing(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """label_smoothing_factor=0.1: the stored value is the UNSMOOTHED per-example CE."""
    make = _make(tmp_path, tokenizer, causal_lm(), compat_ds, label_smoothing_factor=0.1)
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_compute_loss_func(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """Trainer(compute_loss_func=...): labels are popped before the model sees them."""
    make = _make(tmp_path, tokenizer, causal_lm(), compat_ds, compute_loss_func=token_ce)
    check_run(record(tmp_path, make, mode))


class PopLabelsTrainer(Trainer):
    """A user's compute_loss override: the model never sees ``labels``."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = token_ce(outputs, labels)
        return (loss, outputs) if return_outputs else loss


@pytest.mark.parametrize("mode", MODES)
def test_compute_loss_override_pops_labels(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """in_step: either the right values or an error at the first step naming mode="probe"."""
    make = _make(tmp_path, tokenizer, causal_lm(), compat_ds, trainer_cls=PopLabelsTrainer)
    if mode == "probe":
        check_run(record(tmp_path, make, mode))
        return
    try:
        run = record(tmp_path, make, mode)
    except Exception:  # noqa: BLE001 - then it must be the early, explained stop
        assert_stops_early(
            tmp_path / "again",
            _make(
                tmp_path / "again", tokenizer, causal_lm(), compat_ds, trainer_cls=PopLabelsTrainer
            ),
            mode,
            match=r"probe",
        )
        return
    check_run(run)


@pytest.mark.parametrize("mode", ["in_step", "both"])
def test_metadata_and_ids_in_in_step_store(tmp_path, tokenizer, compat_tokenized, causal_lm, mode):
    """metadata_columns and id_column are kept in the in-step store as in the probe store."""
    import hf_s2l

    make = _make(tmp_path, tokenizer, causal_lm(), compat_tokenized, num_train_epochs=2)
    run = record(tmp_path, make, mode, metadata_columns=("source",), id_column="example_id")
    for kind, path in run.stores.items():
        store = check_store(path, run, batch_fn=model_columns_batch)
        assert "source" in store.metadata_columns, (kind, store.metadata_columns)
        assert store.metadata("source").tolist() == compat_tokenized["source"]
        assert store.example_ids is not None, kind
        assert list(store.example_ids) == compat_tokenized["example_id"]
    in_step = hf_s2l.TrajectoryStore.open(run.stores["in_step"])
    sel = hf_s2l.select(in_step, "s2l", budget=8, seed=0, by_column="source")
    assert len(sel) == 8
    picked = hf_s2l.SelectedDataset(compat_tokenized, sel, id_column="example_id")
    assert len(picked) == 8


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_torch_compile(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """torch_compile=True: the compiled training forward records the same values."""
    make = _make(tmp_path, tokenizer, causal_lm(), compat_ds, torch_compile=True)
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_the_check_fails_on_wrong_weights(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """The reference can fail: with every step's weights replaced by the last ones, no store
    of a real run passes."""
    run = record(tmp_path, _make(tmp_path, tokenizer, causal_lm(), compat_ds), mode)
    last = run.states[max(run.states)]
    run.snapshots.states = {k: last for k in run.states}
    with pytest.raises(AssertionError, match="cells off"):
        check_run(run)
