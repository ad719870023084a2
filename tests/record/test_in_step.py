"""In-step recording: losses of the training forward itself, mapped back to dataset rows."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hf_s2l.compat import sampling_kwargs, stack_limit

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRIPT = HERE / "in_step_train_script.py"

_spec = importlib.util.spec_from_file_location("in_step_train_script", SCRIPT)
h = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(h)


@pytest.fixture(scope="module")
def dataset(math_raw, tokenizer):
    """34 rows: 32 real math examples + exact copies of rows 3 and 7 (duplicates)."""
    return h.build_dataset(math_raw, tokenizer)


def _recorder(trainer):
    from hf_s2l.record.in_step import InStepRecorder

    return next(c for c in trainer.callback_handler.callbacks if isinstance(c, InStepRecorder))


def _steps_per_epoch(trainer, epochs: int) -> int:
    return trainer.state.max_steps // epochs


def test_in_step_shuffled_grad_accum(tmp_path, dataset, tokenizer):
    if why := stack_limit("accumulation_remainder"):  # 9 batches, accumulation 2
        pytest.skip(why)
    trainer, states = h.train(tmp_path, dataset, tokenizer)
    h.check_store(
        tmp_path / "store",
        dataset,
        tokenizer,
        states,
        epochs=2,
        steps_per_epoch=_steps_per_epoch(trainer, 2),
    )
    rec = _recorder(trainer)
    assert rec.fast_path  # the model's own log-probs were used (and checked once)
    assert rec.stats["unmatched"] == 0 and rec.stats["dropped"] == 0


def test_in_step_group_by_length_workers(tmp_path, dataset, tokenizer):
    if why := stack_limit("accumulation_remainder"):  # 9 batches, accumulation 2
        pytest.skip(why)
    trainer, states = h.train(
        tmp_path,
        dataset,
        tokenizer,
        **sampling_kwargs("group_by_length"),
        dataloader_num_workers=2,
    )
    h.check_store(
        tmp_path / "store",
        dataset,
        tokenizer,
        states,
        epochs=2,
        steps_per_epoch=_steps_per_epoch(trainer, 2),
    )


def _refused_where_flattening_is_wrong(tmp_path, dataset, tokenizer):
    """transformers 4.x (stack_limit "flattening"): in-step + DataCollatorWithFlattening is
    refused at train begin naming the version (the values would be wrong), before any step."""
    from hf_s2l.record.stacks import InStepError

    if not (why := stack_limit("flattening")):
        return False
    with pytest.raises(InStepError, match=r"DataCollatorWithFlattening.*transformers 4\."):
        h.train(tmp_path, dataset, tokenizer, packing=True, epochs=1)
    assert not list((tmp_path / "store").glob("**/*.npy")), why
    return True


def test_in_step_packing_flattening(tmp_path, dataset, tokenizer):
    if _refused_where_flattening_is_wrong(tmp_path, dataset, tokenizer):
        return
    trainer, states = h.train(tmp_path, dataset, tokenizer, packing=True)
    h.check_store(
        tmp_path / "store",
        dataset,
        tokenizer,
        states,
        epochs=2,
        steps_per_epoch=_steps_per_epoch(trainer, 2),
    )
    rec = _recorder(trainer)
    assert rec.stats["items"] == 2 * len(dataset)


def test_in_step_slow_path_matches(tmp_path, dataset, tokenizer, monkeypatch):
    from hf_s2l.record import in_step

    monkeypatch.setattr(
        in_step.InStepRecorder.__init__,
        "__kwdefaults__",
        {**in_step.InStepRecorder.__init__.__kwdefaults__, "fast_path": False, "chunk_tokens": 64},
    )
    if _refused_where_flattening_is_wrong(tmp_path, dataset, tokenizer):
        return
    trainer, states = h.train(tmp_path, dataset, tokenizer, packing=True, epochs=1)
    h.check_store(
        tmp_path / "store",
        dataset,
        tokenizer,
        states,
        epochs=1,
        steps_per_epoch=trainer.state.max_steps,
    )


def test_training_bit_identical(tmp_path, dataset, tokenizer):
    runs = {}
    for rec in ("recorder", None):
        trainer, _ = h.train(tmp_path / str(rec), dataset, tokenizer, record=rec, snapshots=False)
        losses = [x["loss"] for x in trainer.state.log_history if "loss" in x]
        runs[rec] = (losses, {k: v.clone() for k, v in trainer.model.state_dict().items()})
    (l1, w1), (l2, w2) = runs["recorder"], runs[None]
    assert l1 == l2 and len(l1) > 0
    assert w1.keys() == w2.keys() and all(torch.equal(w1[k], w2[k]) for k in w1)


def test_max_steps_cut_leaves_column_incomplete(tmp_path, dataset, tokenizer, caplog):
    from hf_s2l.store import TrajectoryStore

    trainer, _ = h.train(tmp_path, dataset, tokenizer, max_steps=7, snapshots=False)
    store = TrajectoryStore.open(tmp_path / "store")
    assert store.num_columns == 2
    assert list(store.complete_columns()) == [0]
    seen = np.isfinite(np.asarray(store.losses)[:, 1]).sum()
    assert 0 < seen < len(dataset)
    assert store.columns[1]["seen"] == seen


def test_eval_never_written(tmp_path, dataset, tokenizer):
    """Evaluation forwards (eval mode, no_grad) during training are never recorded."""
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from hf_s2l.record.in_step import InStepRecorder
    from hf_s2l.store import TrajectoryStore

    rec = InStepRecorder(tmp_path / "store")
    args = TrainingArguments(
        output_dir=str(tmp_path / "t"),
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        num_train_epochs=1,
        eval_strategy="steps",
        eval_steps=2,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=h.make_model(tokenizer),
        args=args,
        train_dataset=dataset,
        eval_dataset=dataset.select(range(8)),
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[rec],
    )
    trainer.train()
    assert sum("eval_loss" in x for x in trainer.state.log_history) >= 2
    assert rec.stats["items"] == len(dataset)  # training items only
    store = TrajectoryStore.open(tmp_path / "store")
    assert list(store.complete_columns()) == [0]


@pytest.mark.slow
def test_in_step_torchrun_two_processes(tmp_path, dataset, tokenizer, tokenizer_dir):
    """torchrun --nproc_per_node 2 (gloo, CPU): each rank sees other rows; the last uneven
    batch is evened out by accelerate with repeated samples, which must not be recorded twice."""
    data_dir = tmp_path / "data"
    dataset.save_to_disk(str(data_dir))
    out = tmp_path / "run"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(SCRIPT),
        str(data_dir), str(tokenizer_dir), str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    info = json.loads((out / "info.json").read_text())
    assert info["world_size"] == 2
    states = torch.load(out / "snapshots.pt")
    h.check_store(
        out / "store", dataset, tokenizer, states, epochs=2, steps_per_epoch=info["max_steps"] // 2
    )
    # 34 rows over 2 ranks x 3 per batch: accelerate repeats 2 samples per epoch; dropped.
    assert info["stats"]["dropped"] == 4, info
    assert info["stats"]["unmatched"] == 0


def _needs_mode_support():
    from hf_s2l import TrajectoryCallback

    if not hasattr(TrajectoryCallback, "in_step_recorder"):
        pytest.skip("TrajectoryCallback has no in-step mode yet")
    return TrajectoryCallback


def test_in_step_through_trajectory_callback(tmp_path, dataset, tokenizer):
    """``TrajectoryCallback(mode="in_step")`` forwards the Trainer events to the recorder."""
    _needs_mode_support()
    # no gradient accumulation: 34 rows are 9 batches of 4, and transformers 4.x (4.46.3) ends
    # a one-epoch run after 9 // 2 = 4 updates, before the last batch (its rows unseen)
    trainer, states = h.train(
        tmp_path, dataset, tokenizer, record="callback", epochs=1, gradient_accumulation_steps=1
    )
    h.check_store(
        tmp_path / "store",
        dataset,
        tokenizer,
        states,
        epochs=1,
        steps_per_epoch=trainer.state.max_steps,
    )


def test_both_modes_probe_passes_not_recorded_in_step(tmp_path, dataset, tokenizer):
    """With probe and in-step together, the probe passes never reach the in-step store."""
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from hf_s2l.store import TrajectoryStore

    cb = _needs_mode_support()(tmp_path / "traj", mode="both", at_train_begin=True, num_points=2)
    args = TrainingArguments(
        output_dir=str(tmp_path / "t"),
        per_device_train_batch_size=4,
        num_train_epochs=1,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=h.make_model(tokenizer),
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[cb],
    )
    trainer.train()
    rec = cb.in_step_recorder
    assert rec.stats["items"] == len(dataset)
    probe = TrajectoryStore.open(tmp_path / "traj")
    assert probe.num_columns >= 2 and probe.mode == "probe"
    in_step = TrajectoryStore.open(tmp_path / "traj" / "in_step")
    assert in_step.kinds == ["epoch"] and list(in_step.complete_columns()) == [0]


def test_in_step_peft_lora(tmp_path, dataset, tokenizer):
    """A LoRA-wrapped model: the hook sits on the PeftModel, losses still exact."""
    peft = pytest.importorskip("peft")
    model = peft.get_peft_model(
        h.make_model(tokenizer),
        peft.LoraConfig(r=4, lora_alpha=8, target_modules=["query_key_value"], lora_dropout=0.0),
    )
    trainer, states = h.train(  # no accumulation: see test_in_step_through_trajectory_callback
        tmp_path, dataset, tokenizer, model=model, epochs=1, gradient_accumulation_steps=1
    )
    h.check_store(
        tmp_path / "store",
        dataset,
        tokenizer,
        states,
        epochs=1,
        steps_per_epoch=trainer.state.max_steps,
        model=trainer.model,
    )
