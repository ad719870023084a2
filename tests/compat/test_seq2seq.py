"""``Seq2SeqTrainer`` with tiny T5 and BART on radiology findings -> impression (issue 18).

Several rows share their findings but differ in impression: each row's cell must be ITS loss.
"""

from __future__ import annotations

import csv

import pytest
from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

from .conftest import MODES, check_run, record, trainer_factory


@pytest.fixture(scope="module")
def radiology_rows(fixture_data):
    """24 committed IU reports: every findings text that has 2+ impressions, then others."""
    with open(fixture_data / "radiology_iu" / "indiana_reports.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["findings"].strip() and r["impression"].strip()]
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["findings"], []).append(r)
    shared, seen = [], set()
    for g in groups.values():
        if len({x["impression"] for x in g}) > 1:
            for r in g:
                if (r["findings"], r["impression"]) not in seen:
                    seen.add((r["findings"], r["impression"]))
                    shared.append(r)
    others = [r for r in rows if len(groups[r["findings"]]) == 1][: 24 - len(shared)]
    out = shared + others
    assert len(shared) >= 6 and len(out) == 24
    return out


@pytest.fixture(scope="module")
def seq2seq_ds(radiology_rows, tokenizer):
    from datasets import Dataset

    def enc(r):
        x = tokenizer(r["findings"], add_special_tokens=False)["input_ids"][:96]
        y = tokenizer(r["impression"] + tokenizer.eos_token, add_special_tokens=False)
        return {"input_ids": x, "attention_mask": [1] * len(x), "labels": y["input_ids"][:48]}

    ds = Dataset.from_list([enc(r) for r in radiology_rows])
    # the point of the test: identical encoder inputs, different targets
    inputs = [tuple(x) for x in ds["input_ids"]]
    assert len(set(inputs)) < len(inputs)
    assert len({(tuple(x), tuple(y)) for x, y in zip(ds["input_ids"], ds["labels"])}) == len(ds)
    return ds


def _t5(tokenizer):
    import torch

    from hf_s2l.experiments.tiny import tiny_model

    model = tiny_model(family="t5", vocab_size=len(tokenizer), hidden_size=32, num_layers=2)
    # in-step losses are the training forward's: no dropout there (T5 attention applies
    # its dropout functionally from a float attribute, not an nn.Dropout module)
    model.config.dropout_rate = 0.0
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if isinstance(getattr(m, "dropout", None), float):
            m.dropout = 0.0
    return model


def _bart(tokenizer):
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    cfg = BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=256,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=1,
        decoder_start_token_id=1,
        forced_eos_token_id=None,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
    )
    torch.manual_seed(0)
    return BartForConditionalGeneration(cfg)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("family", ["t5", "bart"])
def test_seq2seq_shared_findings(tmp_path, tokenizer, seq2seq_ds, mode, family):
    model = _t5(tokenizer) if family == "t5" else _bart(tokenizer)
    make = trainer_factory(
        tmp_path,
        model,
        seq2seq_ds,
        DataCollatorForSeq2Seq(tokenizer, model=model, padding=True),
        trainer_cls=Seq2SeqTrainer,
        args_cls=Seq2SeqTrainingArguments,
        num_train_epochs=2,
    )
    check_run(record(tmp_path, make, mode))
