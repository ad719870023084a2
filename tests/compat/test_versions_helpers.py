"""``hf_s2l.compat`` (issue 24): each version difference, on the real installed libraries.

CI runs this folder on the newest releases and on the declared floors (``.ci/run``), so each
helper is checked on both sides of the difference it hides.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hf_s2l import compat


def test_sampling_kwargs_group_by_length_reaches_the_trainer(tmp_path, tokenizer):
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq, Trainer
    from transformers.trainer_pt_utils import LengthGroupedSampler

    from hf_s2l.experiments.tiny import tiny_model

    from .conftest import training_args

    ds = Dataset.from_list(
        [{"input_ids": list(range(2, 2 + n)), "labels": list(range(2, 2 + n))} for n in (3, 9, 5)]
    )
    args = training_args(tmp_path, **compat.sampling_kwargs("group_by_length"))
    trainer = Trainer(
        model=tiny_model(vocab_size=len(tokenizer)),
        args=args,
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
    )
    assert isinstance(trainer._get_train_sampler(), LengthGroupedSampler)
    assert compat.sampling_kwargs("random") in ({}, {"train_sampling_strategy": "random"})
    with pytest.raises(ValueError, match="unknown sampling strategy"):
        compat.sampling_kwargs("by_length")


def test_warmup_kwargs_is_a_ratio_of_the_steps(tmp_path):
    from .conftest import training_args

    args = training_args(tmp_path, **compat.warmup_kwargs(0.03))
    assert args.get_warmup_steps(1000) == 30
    with pytest.raises(ValueError, match="warm-up ratio"):
        compat.warmup_kwargs(3)


def test_column_is_indexable_by_numpy_integers():
    from datasets import Dataset

    ds = Dataset.from_dict({"input_ids": [[1, 2], [3], [4, 5, 6]]})
    col = compat.column(ds, "input_ids")
    order = np.argsort([len(x) for x in col], kind="stable")  # numpy.int64 indices
    assert [col[i] for i in order] == [[3], [1, 2], [4, 5, 6]]


@pytest.mark.parametrize("head_dim", [8, 12, 16])
def test_gpt_neox_rotary_dims_are_even_and_the_model_runs(head_dim):
    from hf_s2l.experiments.tiny import tiny_model

    pct = compat.gpt_neox_rotary_pct(head_dim)
    dims = int(head_dim * pct)
    assert dims % 2 == 0 and dims == (4 if head_dim == 12 else head_dim // 4)
    model = tiny_model(hidden_size=4 * head_dim, num_heads=4, vocab_size=64)
    out = model(input_ids=torch.tensor([[1, 2, 3, 4]]), labels=torch.tensor([[1, 2, 3, 4]]))
    assert torch.isfinite(out.loss)


def test_sft_config_kwargs_max_length_reaches_the_installed_trl(tmp_path):
    trl = pytest.importorskip("trl")
    kw = compat.sft_config_kwargs(
        output_dir=str(tmp_path), max_length=37, use_cpu=True, report_to=[]
    )
    cfg = trl.SFTConfig(**kw)
    assert getattr(cfg, "max_length", None) == 37 or getattr(cfg, "max_seq_length", None) == 37
    for key, first in compat.TRL_SFT_FEATURES.items():
        if compat.trl_supports(key):
            assert key in {f.name for f in __import__("dataclasses").fields(trl.SFTConfig)}
        else:
            with pytest.raises(TypeError, match=f"trl>={first}"):
                compat.sft_config_kwargs(**{key: True})


def test_version_comparisons():
    assert compat.installed("no-such-distribution-hf-s2l") is None
    assert compat.at_least("torch", "2.4")
    assert not compat.at_least("no-such-distribution-hf-s2l", "0")


def test_sft_drops_columns_names_old_trl_sft_trainers_only(monkeypatch):
    """TRL < 0.15's SFTTrainer drops the dataset's other columns (metadata_columns then names
    the version and the way out: tests/compat/test_trl.py); a plain Trainer never does."""
    from packaging.version import Version

    class SFTTrainer:  # stands for trl's class: only the name and module are read
        pass

    SFTTrainer.__module__ = "trl.trainer.sft_trainer"

    class Mine(SFTTrainer):  # a user's subclass counts too
        pass

    class Trainer:
        pass

    for version, drops in [("0.12.2", True), ("0.14.0", True), ("0.15.0", False), ("1.16", False)]:
        monkeypatch.setattr(compat, "installed", lambda name, v=version: Version(v))
        for trainer in (SFTTrainer(), Mine()):
            assert (compat.sft_drops_columns(trainer) == version) is drops, version
        assert compat.sft_drops_columns(Trainer()) is None
        assert compat.sft_drops_columns(None) is None
