"""PEFT virtual tokens, DataCollatorWithFlattening and streaming datasets (issue 18)."""

from __future__ import annotations

import re

import pytest
from transformers import DataCollatorForSeq2Seq, DataCollatorWithFlattening

from hf_s2l.compat import stack_limit

from .conftest import MODES, assert_stops_early, check_run, record, trainer_factory


@pytest.fixture(scope="module")
def all_targets_ds(compat_ds):
    """Every token is a target (labels == input_ids): the case virtual tokens got wrong."""
    return compat_ds.map(lambda ex: {"labels": list(ex["input_ids"])})


def _peft(model, kind):
    from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model

    cfg = (
        PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)
        if kind == "prompt"
        else PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)
    )
    return get_peft_model(model, cfg)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("targets", ["all_targets", "prompt_masked"])
@pytest.mark.parametrize("kind", ["prompt", "prefix"])
def test_peft_virtual_tokens(
    tmp_path, tokenizer, compat_ds, all_targets_ds, causal_lm, mode, targets, kind
):
    """Prompt / prefix tuning: labels aligned with the virtual tokens in both modes."""
    if kind == "prefix" and (why := stack_limit("prefix_tuning")):
        pytest.skip(why)
    ds = all_targets_ds if targets == "all_targets" else compat_ds
    model = _peft(causal_lm(), kind)
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    check_run(
        record(tmp_path, trainer_factory(tmp_path, model, ds, collator, learning_rate=3e-2), mode)
    )


@pytest.mark.parametrize("mode", MODES)
def test_flattening_collator(tmp_path, compat_ds, causal_lm, mode):
    """DataCollatorWithFlattening (padding-free): in-step right (refused at train begin on
    transformers 4.x, where the values would be wrong); the probe, which cannot score
    flattened rows, stops at the first step (also with at_train_begin=False) naming the way out."""
    collator = DataCollatorWithFlattening()
    make = trainer_factory(tmp_path, causal_lm(), compat_ds, collator)
    if mode == "in_step":
        if stack_limit("flattening"):  # transformers 4.x: the values would be wrong, refused
            assert_stops_early(
                tmp_path, make, mode, match=r"DataCollatorWithFlattening.*transformers 4\."
            )
            return
        check_run(record(tmp_path, make, mode))
        return
    for at_begin in (True, False):
        assert_stops_early(
            tmp_path / str(at_begin),
            trainer_factory(
                tmp_path / str(at_begin), causal_lm(), compat_ds, DataCollatorWithFlattening()
            ),
            mode,
            at_train_begin=at_begin,
        )


@pytest.mark.parametrize("mode", MODES)
def test_streaming_dataset_advice_works(tmp_path, tokenizer, compat_ds, causal_lm, mode):
    """A streaming IterableDataset: an early error whose advice, followed, records right."""
    import datasets

    stream = compat_ds.to_iterable_dataset()
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    err = assert_stops_early(
        tmp_path / "stream",
        trainer_factory(tmp_path / "stream", causal_lm(), stream, collator, max_steps=3),
        mode,
    )
    msg = str(err)
    assert "from_list" in msg or "from_generator" in msg, msg
    assert not re.search(r"use mode=.in_step", msg), msg  # in-step cannot stream either
    converted = datasets.Dataset.from_list(list(stream.take(len(compat_ds))))
    check_run(record(tmp_path, trainer_factory(tmp_path, causal_lm(), converted, collator), mode))
