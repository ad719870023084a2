"""What the model is given vs the dataset's rows (issue 25, items 4, 7, 8, 10): in-step
recording stops before the second optimizer step with the real cause and a way out that works,
instead of an empty store or a crash."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from transformers import DataCollatorForLanguageModeling, DataCollatorForSeq2Seq

from .conftest import (
    assert_stops_early,
    check_run,
    check_store,
    model_columns_batch,
    record,
    trainer_factory,
)


class TruncatingCollator:
    """A user's collator that cuts every row to ``max_length`` tokens, then pads."""

    def __init__(self, tokenizer, max_length: int) -> None:
        self.inner = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
        self.max_length = max_length

    def __call__(self, rows):
        cut = [
            {k: list(r[k])[: self.max_length] for k in ("input_ids", "attention_mask", "labels")}
            for r in rows
        ]
        return self.inner(cut)


# ------------------------------------------------------------ item 4: a truncating collator


@pytest.mark.parametrize("cut", ["every_row", "some_rows"])
def test_truncating_collator_in_step(tmp_path, tokenizer, compat_ds, causal_lm, cut):
    """A collator that cuts every row (none matches) or some: in-step stops at step 1 naming the
    collator (was: 0 columns, or 48 of 96 cells, with warnings only). The advice: mode='probe'
    records right; allow_partial_match records the rows that match, right."""
    lengths = np.array([len(x) for x in compat_ds["input_ids"]])
    max_length = int(lengths.min()) - 1 if cut == "every_row" else int(np.median(lengths))
    cut = int((lengths > max_length).sum())
    assert 0 < cut <= len(lengths)
    err = assert_stops_early(
        tmp_path / "stop",
        trainer_factory(
            tmp_path / "stop", causal_lm(), compat_ds, TruncatingCollator(tokenizer, max_length)
        ),
        "in_step",
        match=r"matched (none|only)",
    )
    assert "collator" in str(err)
    if cut < len(lengths):
        assert "allow_partial_match" in str(err)
        make = trainer_factory(
            tmp_path / "partial",
            causal_lm(),
            compat_ds,
            TruncatingCollator(tokenizer, max_length),
        )
        run = record(
            tmp_path / "partial",
            make,
            "in_step",
            in_step_options={"allow_partial_match": True},
        )
        store = check_store(run.stores["in_step"], run, complete=False)
        stored = ~np.isnan(np.asarray(store.losses)[:, 0])
        assert stored.sum() == len(lengths) - cut, (stored.sum(), cut)
        assert not stored[lengths > max_length].any()
    make = trainer_factory(
        tmp_path, causal_lm(), compat_ds, TruncatingCollator(tokenizer, max_length)
    )
    check_run(record(tmp_path, make, "probe"))


class LateTruncatingCollator(TruncatingCollator):
    """Pads only, until its ``start``-th call; then cuts every row (a cut that step 1 misses,
    as a max_length does when step 1's rows happen to be short)."""

    def __init__(self, tokenizer, max_length: int, start: int) -> None:
        super().__init__(tokenizer, max_length)
        self.calls, self.start = 0, start

    def __call__(self, rows):
        self.calls += 1
        return super().__call__(rows) if self.calls >= self.start else self.inner(rows)


@pytest.mark.parametrize("partial", [False, True])
def test_truncation_first_met_after_step_1(tmp_path, tokenizer, compat_ds, causal_lm, partial):
    """A cut first met at step 3: the next flush (here the epoch's end) stops training naming
    the steps and the collator (was: a warning at the end and a partly empty store); with
    allow_partial_match, training ends, the rows of steps 1-2 hold their losses alone and the
    cut rows none."""
    from hf_s2l.record.stacks import InStepError

    collator = LateTruncatingCollator(tokenizer, max_length=3, start=3)
    make = trainer_factory(tmp_path, causal_lm(), compat_ds, collator)
    if not partial:
        with pytest.raises(InStepError, match=r"matched only \d+ of the \d+ .*steps 2-\d+") as e:
            record(tmp_path, make, "in_step")
        assert "collator" in str(e.value) and "allow_partial_match" in str(e.value)
        return
    run = record(tmp_path, make, "in_step", in_step_options={"allow_partial_match": True})
    store = check_store(
        run.stores["in_step"],
        run,
        complete=False,
        batch_fn=lambda trainer, row: model_columns_batch_padded(collator, trainer, row),
    )
    stored = int((~np.isnan(np.asarray(store.losses)[:, 0])).sum())
    assert 0 < stored < len(compat_ds)


def model_columns_batch_padded(collator, trainer, row):
    """Row ``row`` alone through the collator's padding part (its cut is the fault)."""
    ex = {k: trainer.train_dataset[row][k] for k in ("input_ids", "attention_mask", "labels")}
    batch = collator.inner([ex])
    return {"input_ids": batch["input_ids"], "labels": batch["labels"]}


def test_mlm_collator_in_step_stops_at_train_begin(tmp_path, tokenizer, compat_ds):
    """DataCollatorForLanguageModeling(mlm=True) (was: 0 columns): refused at train begin with
    the way out (pre-mask the rows; tests/compat/test_labels.py::test_masked_lm_pre_masked_rows
    records those right in both modes)."""
    from .test_labels import _bert, pre_masked

    tok = copy.deepcopy(tokenizer)
    tok.mask_token = tok.unk_token
    ds = compat_ds.remove_columns(["labels"])
    err = assert_stops_early(
        tmp_path / "mlm",
        trainer_factory(
            tmp_path / "mlm", _bert(tok), ds, DataCollatorForLanguageModeling(tok, mlm=True)
        ),
        "in_step",
        match=r"mlm=True.*pre-masked|Mask the rows once",
    )
    assert "mode='in_step'" in str(err)
    masked = pre_masked(compat_ds, mask_id=tok.mask_token_id)
    collator = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)
    run = record(tmp_path, trainer_factory(tmp_path, _bert(tok), masked, collator), "in_step")
    check_run(run, shifted=False)


# ------------------------------------------- item 7: a streaming dataset with example ids


def test_iterable_dataset_with_example_ids_in_step(
    tmp_path, tokenizer, compat_tokenized, causal_lm
):
    """A streaming IterableDataset whose rows carry example_id (was: ValueError: setting an array
    element with a sequence): refused in Trainer(...) with the conversion; the conversion
    followed records right and keeps the ids."""
    import datasets

    ds = compat_tokenized.remove_columns(["source"])
    stream = ds.to_iterable_dataset()
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    err = assert_stops_early(
        tmp_path / "stream",
        trainer_factory(tmp_path / "stream", causal_lm(), stream, collator, max_steps=3),
        "in_step",
        match=r"map-style",
    )
    assert "from_list" in str(err)
    converted = datasets.Dataset.from_list(list(stream.take(len(ds))))
    run = record(tmp_path, trainer_factory(tmp_path, causal_lm(), converted, collator), "in_step")
    store = check_store(run.stores["in_step"], run, batch_fn=model_columns_batch)
    assert list(store.example_ids) == ds["example_id"]


# ------------------------------------------------ item 8: rows tokenised by the collator


class TokenizingCollator:
    """A user's collator that tokenises raw question/answer text on the fly."""

    def __init__(self, tokenizer) -> None:
        self.tok = tokenizer

    def __call__(self, rows):
        ids, labels = [], []
        for r in rows:
            p = self.tok("Q: " + r["q"] + "\nA:", add_special_tokens=False)["input_ids"]
            a = self.tok(" " + r["a"], add_special_tokens=False)["input_ids"]
            ids.append(p + a)
            labels.append([-100] * len(p) + a)
        n = max(len(x) for x in ids)
        pad = self.tok.pad_token_id
        return {
            "input_ids": torch.tensor([x + [pad] * (n - len(x)) for x in ids]),
            "attention_mask": torch.tensor([[1] * len(x) + [0] * (n - len(x)) for x in ids]),
            "labels": torch.tensor([y + [-100] * (n - len(y)) for y in labels]),
        }


def test_collator_tokenizing_raw_text_in_step(tmp_path, tokenizer, compat_raw, causal_lm):
    """Raw text tokenised in the collator (was: KeyError 'input_ids'): refused at train begin;
    the advice (mode='probe', which applies the collator to every row) records right."""
    from datasets import Dataset

    raw = Dataset.from_list(
        [{"q": r["instruction"][:60], "a": r["output"][:60]} for r in compat_raw]
    )
    collator = TokenizingCollator(tokenizer)
    assert_stops_early(
        tmp_path / "raw",
        trainer_factory(tmp_path / "raw", causal_lm(), raw, collator, remove_unused_columns=False),
        "in_step",
        match=r"no 'input_ids' column.*mode='probe'",
    )
    make = trainer_factory(tmp_path, causal_lm(), raw, collator, remove_unused_columns=False)
    check_run(record(tmp_path, make, "probe"))


def test_unmatched_message_names_the_steps_it_covers():
    """Step 1's check names step 1; a later flush names the steps since the last check."""
    from hf_s2l.record.in_step_inputs import unmatched_message

    assert unmatched_message(8, 0, 1) is None
    assert "none of the 8 training items of step 1 " in unmatched_message(8, 8, 1)
    assert "of step 1 " in unmatched_message(8, 3, 1, first_step=1)
    later = unmatched_message(40, 3, 12, first_step=6)
    assert "matched only 37 of the 40 training items of steps 6-12 " in later
    assert "allow_partial_match" in later
