"""No method silently uses a store column of the wrong kind (issue 11, point 4).

A real run records both stores at once (``TrajectoryCallback(mode="both")``): the probe store
(``train_begin`` + ``epoch_end`` columns) and the in-step store (one ``epoch`` column per
epoch, the epoch-0 one at global step 0). One test per selection method.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

from hf_s2l import TrajectoryCallback, TrajectoryStore
from hf_s2l.selection import select
from hf_s2l.selection.column_roles import before_training_columns
from hf_s2l.selection.columns import is_before_training

from .conftest import GOLDEN_PPL, GOLDEN_SCHEDULE, build_store

N_ROWS = 32


def _short_sft(example, tokenizer):
    """Truncated question (masked) + answer: every row has target tokens."""
    p = tokenizer("Q: " + example["instruction"], add_special_tokens=False)["input_ids"][:24]
    r = tokenizer(" " + example["output"], add_special_tokens=False)["input_ids"][:32]
    return {
        "input_ids": p + r,
        "attention_mask": [1] * (len(p) + len(r)),
        "labels": [-100] * len(p) + r,
    }


@pytest.fixture(scope="module")
def both_stores(tmp_path_factory, math_raw, tokenizer):
    """(probe store, in-step store) of one real 2-epoch run of a tiny causal LM."""
    from hf_s2l.experiments.tiny import tiny_model

    out = tmp_path_factory.mktemp("both")
    model = tiny_model(family="gpt_neox", vocab_size=len(tokenizer), hidden_size=32, num_layers=2)
    cb = TrajectoryCallback(
        out / "traj", mode="both", num_points=None, batch_size=16, log_to_trainer=False
    )
    args = TrainingArguments(
        output_dir=str(out / "run"),
        per_device_train_batch_size=8,
        num_train_epochs=2,
        learning_rate=5e-3,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=0,
        dataloader_num_workers=0,
    )
    Trainer(
        model=model,
        args=args,
        train_dataset=math_raw.select(range(N_ROWS)).map(
            _short_sft, fn_kwargs={"tokenizer": tokenizer}, remove_columns=math_raw.column_names
        ),
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[cb],
    ).train()
    return TrajectoryStore.open(out / "traj"), TrajectoryStore.open(out / "traj" / "in_step")


def test_the_stores_hold_what_the_tests_assume(both_stores):
    probe, in_step = both_stores
    assert probe.mode == "probe" and in_step.mode == "in_step"
    assert probe.kinds == ["train_begin", "epoch_end", "epoch_end"]
    assert in_step.kinds == ["epoch", "epoch"]
    assert in_step.steps[0] == 0  # the trap: an in-step column at step 0
    assert before_training_columns(probe) == [0]
    assert before_training_columns(in_step) == []
    assert not is_before_training(in_step, 0)


# ------------------------------------------------------------------------------------- lp
def test_lp_rejects_an_in_step_store_and_says_how_to_record(both_stores):
    probe, in_step = both_stores
    # before: P0 = P1 = the in-step epoch-0 column, every score 0, rows 0..k-1 "selected"
    with pytest.raises(ValueError, match=r"in-step.*mode='both'.*at_train_begin=True"):
        select(in_step, "lp", 8, unclustered=True)
    with pytest.raises(ValueError, match=r"in-step"):
        select(in_step, "lp", 8, variant="lp_app", unclustered=True)
    sel = select(probe, "lp", 8, unclustered=True)
    assert sel.stats["columns"]["p0"] == 0 and sel.stats["columns"]["p1"] == 1
    assert sel.stats["columns"]["pn"] == 2


def test_lp_needs_a_before_training_column_not_any_step_zero_column(tmp_path):
    """An in-step-like column (kind ``epoch``) at step 0 is not P0, even in a probe store."""
    x = np.log(GOLDEN_PPL)
    store = build_store(
        tmp_path / "s",
        x[:, :3],
        [(0, 0.0, "epoch"), (10, 1.0, "epoch_end"), (20, 2.0, "epoch_end")],
    )
    with pytest.raises(ValueError, match="before-training column.*add_column"):
        select(store, "lp", 3, unclustered=True)


# ----------------------------------------------------------------- least confidence & co.
def _only_step0_complete(tmp_path):
    """A run stopped early: step 0 recorded, the later columns still incomplete."""
    return build_store(tmp_path / "early", np.log(GOLDEN_PPL), GOLDEN_SCHEDULE, complete=[0])


def test_least_confidence_never_scores_the_untrained_model_by_default(tmp_path):
    store = _only_step0_complete(tmp_path)
    # before: the step-0 column, i.e. the untrained model, was scored without a word
    with pytest.raises(ValueError, match="no complete column recorded after training started"):
        select(store, "least_confidence", 3)
    sel = select(store, "least_confidence", 3, column=0)  # on purpose: allowed, and said so
    assert sel.stats["column_before_training"] is True


def test_middle_perplexity_never_scores_the_untrained_model_by_default(tmp_path, caplog):
    store = _only_step0_complete(tmp_path)
    with pytest.raises(ValueError, match="no complete column recorded after training started"):
        select(store, "middle_perplexity", 3)
    # columns 0..2 complete, the final one not: the last complete one is used, with a warning
    partial = build_store(tmp_path / "p", np.log(GOLDEN_PPL), GOLDEN_SCHEDULE, complete=[0, 1, 2])
    with caplog.at_level(logging.WARNING):
        sel = select(partial, "middle_perplexity", 3)
    assert sel.stats["column"] == 2 and "incomplete" in caplog.text


def test_high_learnability_needs_the_model_before_training(both_stores):
    probe, in_step = both_stores
    # before: early = the in-step epoch-0 column (a model already training), silently
    with pytest.raises(ValueError, match="no before-training column.*early_column"):
        select(in_step, "high_learnability", 8)
    sel = select(in_step, "high_learnability", 8, early_column=0)
    assert sel.stats["early_column_kind"] == "epoch"
    sel = select(probe, "high_learnability", 8)
    assert (sel.stats["early_column"], sel.stats["final_column"]) == (0, 2)


# ---------------------------------------------------------- trajectory-statistics methods
def _with_unlabelled_step0(tmp_path):
    """The golden store whose step-0 column carries no ``train_begin`` kind (hand-made or
    imported store), and the same store without that column."""
    x = np.log(GOLDEN_PPL)
    sched = [(s, e, "point" if s == 0 else k) for s, e, k in GOLDEN_SCHEDULE]
    with0 = build_store(tmp_path / "with0", x, sched)
    without = build_store(tmp_path / "without", x[:, 1:], sched[1:])
    return with0, without


@pytest.mark.parametrize("region", ["ambiguous", "easy", "hard"])
def test_cartography_leaves_out_a_step0_column_of_any_kind(tmp_path, region):
    with0, without = _with_unlabelled_step0(tmp_path)
    a = select(with0, "cartography", 4, region=region)
    b = select(without, "cartography", 4, region=region)
    assert a.indices.tolist() == b.indices.tolist()
    assert a.stats["columns"] == [1, 2, 3]


def test_curriculum_leaves_out_a_step0_column_of_any_kind(tmp_path):
    with0, without = _with_unlabelled_step0(tmp_path)
    a = select(with0, "curriculum", 6, subset="hardest")
    b = select(without, "curriculum", 6, subset="hardest")
    assert a.indices.tolist() == b.indices.tolist()
    assert a.order.tolist() == b.order.tolist()


def test_curriculum_and_cartography_keep_in_step_epoch_columns(both_stores):
    _, in_step = both_stores
    assert select(in_step, "cartography", 8).stats["columns"] == [0, 1]
    assert select(in_step, "curriculum", 8).stats["columns"] == [0, 1]


def test_facility_location_leaves_out_the_before_training_column(tmp_path):
    x = np.log(GOLDEN_PPL)
    noise = np.random.default_rng(0).normal(scale=5.0, size=(len(x), 1))
    noisy = build_store(tmp_path / "noisy", np.concatenate([noise, x[:, 1:]], 1), GOLDEN_SCHEDULE)
    clean = build_store(tmp_path / "clean", x[:, 1:], GOLDEN_SCHEDULE[1:])
    a = select(noisy, "facility_location", 4, k_neighbors=5)
    b = select(clean, "facility_location", 4, k_neighbors=5)
    assert a.indices.tolist() == b.indices.tolist()
    assert "columns [1, 2, 3]" in a.stats["space"]


def test_s2l_leaves_out_the_before_training_column(tmp_path):
    x = np.log(GOLDEN_PPL)
    noise = np.random.default_rng(0).normal(scale=5.0, size=(len(x), 1))
    noisy = build_store(tmp_path / "noisy", np.concatenate([noise, x[:, 1:]], 1), GOLDEN_SCHEDULE)
    clean = build_store(tmp_path / "clean", x[:, 1:], GOLDEN_SCHEDULE[1:])
    a = select(noisy, "s2l", 4, num_clusters=3)
    b = select(clean, "s2l", 4, num_clusters=3)
    assert a.indices.tolist() == b.indices.tolist()


def test_random_reads_no_column(both_stores, tmp_path):
    """Random needs no column: the same rows on an in-step, a probe and an empty store."""
    probe, in_step = both_stores
    empty = TrajectoryStore.create(tmp_path / "empty", N_ROWS)
    picks = [select(s, "random", 8, seed=3).indices.tolist() for s in (probe, in_step, empty)]
    assert picks[0] == picks[1] == picks[2]
