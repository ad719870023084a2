"""In-step values are training-mode losses (issue 25, item 3): dropout, NEFTune and left padding
with absolute positions are detected at train begin, warned once (cause, size, the exact
alternative) and kept in the store's metadata (``hf-s2l info``, select provenance, report);
the alternatives, followed, give the examples' own losses."""

from __future__ import annotations

import copy
import logging

import pytest
import torch
from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback

from .conftest import check_run, deviation, log_lines, record, training_args


def _gpt2(tokenizer, dropout: float):
    import transformers

    torch.manual_seed(0)
    cfg = transformers.GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=64,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        pad_token_id=tokenizer.pad_token_id,
        use_cache=False,
    )
    return transformers.GPT2LMHeadModel(cfg)


# cause -> (dropout, neftune_noise_alpha, padding side), and the same set-up with the advice
SETUPS = {
    "dropout": ((0.1, None, "right"), (0.0, None, "right")),
    "neftune": ((0.0, 5.0, "right"), (0.0, None, "right")),
    "left_padding": ((0.0, None, "left"), (0.0, None, "right")),
}


def _make(tmp_path, tokenizer, ds, dropout, alpha, side):
    tok = copy.deepcopy(tokenizer)
    tok.padding_side = side
    model = _gpt2(tok, dropout)
    extra = {"neftune_noise_alpha": alpha} if alpha else {}

    def make(callbacks):
        return Trainer(
            model=model,
            args=training_args(
                tmp_path / "run",
                num_train_epochs=1,
                max_steps=-1,
                per_device_train_batch_size=8,
                **extra,
            ),
            train_dataset=ds,
            data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100),
            callbacks=callbacks,
        )

    return make


@pytest.mark.parametrize("cause", sorted(SETUPS))
def test_training_mode_values_are_said_and_kept(
    tmp_path, tokenizer, compat_tokenized, cause, caplog, capsys
):
    import hf_s2l
    from hf_s2l.cli import main

    ds = compat_tokenized.remove_columns(["example_id"])
    caplog.set_level(logging.WARNING)
    bad, good = SETUPS[cause]
    seen = _SaidBy(caplog)
    make = _make(tmp_path, tokenizer, ds, *bad)
    run = record(tmp_path, lambda cbs: make([*cbs, seen]), "in_step", metadata_columns=("source",))
    said = log_lines(caplog, "in-step values are training-mode losses")
    assert len(said) == 1, said  # once, this cause only
    assert seen.at_step_1 == said, "not said at train begin (before the first step ended)"
    assert 'mode="probe"' in said[0] and "relative" in said[0], said[0]  # alternative, size
    assert {"dropout": "dropout", "neftune": "neftune_noise_alpha", "left_padding": "right"}[
        cause
    ] in said[0]
    path = run.stores["in_step"]
    store = hf_s2l.TrajectoryStore.open(path)
    kept = store.meta["extra"]["training_mode"]
    assert [c["cause"] for c in kept] == [cause], kept
    dev = deviation(path, run, batch_fn=_model_columns)
    with capsys.disabled():
        print(f"\n{cause}: in-step cells vs the alone loss: max relative deviation {dev:.2e}")
    assert dev > 1e-4  # really training-mode values (what the warning says)

    assert main(["info", str(path)]) == 0
    assert f"training-mode values: {cause}" in capsys.readouterr().out
    sel = hf_s2l.select(store, "random", budget=8, seed=0)
    assert sel.provenance["recording_caveats"][0].startswith(cause)
    report = hf_s2l.build_report(store, sel, tmp_path / "report")
    del report
    assert f"{cause}:" in (tmp_path / "report" / "index.html").read_text()

    # The alternatives, followed: probe mode, and in-step without the cause.
    probe = record(tmp_path / "probe", _make(tmp_path / "probe", tokenizer, ds, *bad), "probe")
    check_run(probe, batch_fn=_model_columns)
    caplog.clear()
    fixed = record(tmp_path / "fixed", _make(tmp_path / "fixed", tokenizer, ds, *good), "in_step")
    check_run(fixed, batch_fn=_model_columns)
    assert not log_lines(caplog, "training-mode losses")
    assert not hf_s2l.TrajectoryStore.open(fixed.stores["in_step"]).meta["extra"]["training_mode"]


class _SaidBy(TrainerCallback):
    """The training-mode warnings already logged when the first optimizer step ends."""

    def __init__(self, caplog) -> None:
        self.caplog = caplog
        self.at_step_1: list[str] | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if self.at_step_1 is None:
            self.at_step_1 = log_lines(self.caplog, "in-step values are training-mode losses")


def test_left_padding_with_rotary_positions_is_not_a_caveat(
    tmp_path, tokenizer, compat_ds, causal_lm, caplog
):
    """Left padding on a rotary model (GPT-NeoX, as Llama / Qwen2): positions are relative, the
    in-step cells are the examples' losses alone; nothing to warn about or keep."""
    import hf_s2l

    caplog.set_level(logging.WARNING)
    tok = copy.deepcopy(tokenizer)
    tok.padding_side = "left"
    model = causal_lm()

    def make(callbacks):
        return Trainer(
            model=model,
            args=training_args(
                tmp_path / "run", num_train_epochs=1, max_steps=-1, per_device_train_batch_size=8
            ),
            train_dataset=compat_ds,
            data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100),
            callbacks=callbacks,
        )

    run = record(tmp_path, make, "in_step")
    check_run(run)
    assert not log_lines(caplog, "training-mode losses")
    assert not hf_s2l.TrajectoryStore.open(run.stores["in_step"]).meta["extra"]["training_mode"]


def _model_columns(trainer, row):
    ex = {k: trainer.train_dataset[row][k] for k in ("input_ids", "attention_mask", "labels")}
    batch = trainer.data_collator([ex])
    return {"input_ids": batch["input_ids"], "labels": batch["labels"]}
