"""Label layouts and model outputs (issue 25, items 1, 2, 5, 6, 9): every stored cell == the
row's loss alone, or an early stop saying what differs and a way out that works."""

from __future__ import annotations

import logging

import pytest
import torch
from transformers import DataCollatorForSeq2Seq, DataCollatorWithPadding

from .conftest import (
    MODES,
    TINY_SIZES,
    assert_stops_early,
    check_run,
    deviation,
    log_lines,
    record,
    seeded_model,
    token_ce,
    trainer_factory,
)


def _seq2seq(tokenizer):
    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)


@pytest.fixture
def collator(tokenizer):
    return _seq2seq(tokenizer)


# ----------------------------------------------------------------------- item 1: masked LM


def _bert(tokenizer, head="BertForMaskedLM", **config):
    return seeded_model(
        tokenizer,
        "BertConfig",
        head,
        **TINY_SIZES,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        **config,
    )


def pre_masked(ds, mask_id: int):
    """Rows masked once (every 4th token from position 2): input_ids with the mask id, labels
    the original token there and -100 elsewhere (what a masked LM trains on)."""

    def mask(row):
        ids = list(row["input_ids"])
        labels = [-100] * len(ids)
        for t in range(2, len(ids), 4):
            labels[t], ids[t] = ids[t], mask_id
        return {"input_ids": ids, "labels": labels}

    return ds.map(mask)


@pytest.mark.parametrize("mode", MODES)
def test_masked_lm_pre_masked_rows(tmp_path, tokenizer, compat_ds, mode):
    """BertForMaskedLM on pre-masked rows: labels are NOT shifted (was 5.8e-2 / 6.9e-2 off)."""
    ds = pre_masked(compat_ds, mask_id=len(tokenizer) - 1)
    make = trainer_factory(tmp_path, _bert(tokenizer), ds, _seq2seq(tokenizer))
    run = record(tmp_path, make, mode)
    print(f"{mode}: max relative deviation {deviation(run.stores[mode], run, shifted=False):.2e}")
    check_run(run, shifted=False)


# ------------------------------------------------- item 1/2: pre-shifted labels + loss func


def _unshifted_ce(outputs, labels, num_items_in_batch=None):
    """A user's loss for PRE-SHIFTED labels: position t against label t (no shift)."""
    return token_ce(outputs, labels, num_items_in_batch, shift=False)


@pytest.mark.parametrize("mode", MODES)
def test_pre_shifted_labels_with_compute_loss_func(tmp_path, compat_ds, causal_lm, collator, mode):
    """Pre-shifted labels + a compute_loss_func that does not shift: the recording (shifted,
    as the model's own loss) is not what the Trainer trains on; stop at the first batch
    (was stored 6.9e-2 / 6.3e-2 off, silently). The advice (unshifted labels, a shifting loss
    function) records right."""
    shifted = compat_ds.map(lambda r: {"labels": list(r["labels"][1:]) + [-100]})
    err = assert_stops_early(
        tmp_path / "shifted",
        trainer_factory(
            tmp_path / "shifted", causal_lm(), shifted, collator, compute_loss_func=_unshifted_ce
        ),
        mode,
        match=r"pre-shifted",
    )
    assert "labels[:, 1:]" in str(err)
    # the advice followed: unshifted labels, a loss function that shifts (token_ce)
    make = trainer_factory(tmp_path, causal_lm(), compat_ds, collator, compute_loss_func=token_ce)
    check_run(record(tmp_path, make, mode))


# ------------------------------------------------ items 2 + 5: a custom model, (loss, logits)


class TupleLM(torch.nn.Module):
    """A user's model returning ``(loss, logits)``; ``shift=False``: its loss does not shift
    (it expects pre-shifted labels), which no class name tells the recorder."""

    def __init__(self, lm: torch.nn.Module, shift: bool = True) -> None:
        super().__init__()
        self.lm = lm
        self.shift = shift

    def forward(self, input_ids, attention_mask=None, labels=None):
        logits = self.lm(input_ids=input_ids, attention_mask=attention_mask).logits
        loss = None
        if labels is not None:
            lg, lb = (logits[:, :-1], labels[:, 1:]) if self.shift else (logits, labels)
            loss = torch.nn.functional.cross_entropy(
                lg.reshape(-1, lg.size(-1)).float(), lb.reshape(-1), ignore_index=-100
            )
        return (loss, logits)


@pytest.mark.parametrize("mode", MODES)
def test_tuple_output_model(tmp_path, compat_ds, causal_lm, collator, mode):
    """A model returning a (loss, logits) tuple: recorded (probe crashed with
    AttributeError: 'tuple' object has no attribute 'logits')."""
    make = trainer_factory(tmp_path, TupleLM(causal_lm()), compat_ds, collator)
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_self_check_stops_a_loss_the_recorder_does_not_reproduce(
    tmp_path, compat_ds, causal_lm, collator, mode
):
    """The self-check at the first recorded batch: a model whose own loss does not shift (no
    class name says so) stops recording before the second step, saying what differs; a model
    whose loss is the shifted token CE (the advice) records right."""
    err = assert_stops_early(
        tmp_path / "noshift",
        trainer_factory(
            tmp_path / "noshift", TupleLM(causal_lm(), shift=False), compat_ds, collator
        ),
        mode,
        match=r"self-check failed",
    )
    msg = str(err)
    assert "model's own loss for that batch" in msg and "lined up the other way" in msg, msg
    make = trainer_factory(tmp_path, TupleLM(causal_lm(), shift=True), compat_ds, collator)
    check_run(record(tmp_path, make, mode))


# ------------------------------------------------------------- item 2: an added loss term


def _mixtral(tokenizer):
    return seeded_model(
        tokenizer,
        "MixtralConfig",
        "MixtralForCausalLM",
        **TINY_SIZES,
        num_key_value_heads=1,
        num_local_experts=2,
        num_experts_per_tok=1,
        output_router_logits=True,
        router_aux_loss_coef=0.02,
        use_cache=False,
    )


@pytest.mark.parametrize("mode", MODES)
def test_router_aux_loss_recorded_as_plain_ce(
    tmp_path, tokenizer, compat_ds, collator, mode, caplog
):
    """Mixtral with output_router_logits: its loss adds the router aux loss; the store holds the
    plain CE (== the alone loss minus the aux term), said once in the log."""
    caplog.set_level(logging.WARNING)
    model = _mixtral(tokenizer)
    coef = model.config.router_aux_loss_coef
    run = record(tmp_path, trainer_factory(tmp_path, model, compat_ds, collator), mode)
    check_run(run, loss_fn=lambda out: out.loss - coef * out.aux_loss)
    said = log_lines(caplog, "auxiliary term")
    assert len(said) == 1, said
    assert "plain per-example cross-entropy" in said[0]


# -------------------------------------------------------- item 6: sequence classification


def _classified(compat_tokenized):
    sources = sorted(set(compat_tokenized["source"]))
    ds = compat_tokenized.remove_columns(["labels"])
    ds = ds.map(lambda r: {"labels": sources.index(r["source"])})
    return ds.remove_columns(["example_id", "source"]), len(sources)


@pytest.mark.parametrize("mode", MODES)
def test_sequence_classification(tmp_path, tokenizer, compat_tokenized, mode):
    """BertForSequenceClassification (one class label per row): each row's cross-entropy is
    recorded (probe crashed: ArrowNotImplementedError; in-step advised mode='probe')."""
    ds, k = _classified(compat_tokenized)
    model = _bert(tokenizer, "BertForSequenceClassification", num_labels=k)
    make = trainer_factory(tmp_path, model, ds, DataCollatorWithPadding(tokenizer))
    check_run(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_sequence_regression_stops_at_train_begin(tmp_path, tokenizer, compat_tokenized, mode):
    """A regression head (num_labels=1, MSE) has no per-example cross-entropy: refused at train
    begin; the advice (a classifier with integer labels) records right."""
    ds, k = _classified(compat_tokenized)
    reg = ds.map(lambda r: {"labels": float(r["labels"])})
    model = _bert(tokenizer, "BertForSequenceClassification", num_labels=1)
    assert_stops_early(
        tmp_path / "reg",
        trainer_factory(tmp_path / "reg", model, reg, DataCollatorWithPadding(tokenizer)),
        mode,
        match=r"regression",
    )
    model = _bert(tokenizer, "BertForSequenceClassification", num_labels=k)
    check_run(
        record(
            tmp_path, trainer_factory(tmp_path, model, ds, DataCollatorWithPadding(tokenizer)), mode
        )
    )


# ------------------------------------------------------- item 9: torch.compile(model) first


@pytest.mark.parametrize("mode", MODES)
def test_model_compiled_by_the_user(tmp_path, compat_ds, causal_lm, collator, mode):
    """torch.compile(model) before the Trainer (probe: ValueError 'You must specify exactly one
    of input_ids or inputs_embeds'): the probe calls the original module, values right."""
    model = torch.compile(causal_lm(), backend="eager")  # dynamo only: fast on CPU
    # the Trainer reads the columns to keep from OptimizedModule.forward(*args, **kwargs)
    make = trainer_factory(tmp_path, model, compat_ds, collator, remove_unused_columns=False)
    check_run(record(tmp_path, make, mode))
