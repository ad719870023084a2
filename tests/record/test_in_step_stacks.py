"""In-step recording in the training stacks of issue 18: every stored cell equals the
example's loss computed alone (``model(input_ids=x[None], labels=y[None]).loss`` at the
weights of the step that cell records), or training stops at the first step with an error."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

from hf_s2l import TrajectoryCallback, TrajectoryStore
from hf_s2l.compat import TRL_SFT_FEATURES, alone_rtol, sft_config_kwargs, stack_limit, trl_supports

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
    args_cls: type = TrainingArguments,
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
        args=args_cls(**kw),
        train_dataset=dataset,
        data_collator=collator or DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[snaps, cb],
        **(trainer_kwargs or {}),
    )
    trainer.train()
    return trainer, snaps.states


def check_alone(
    store_dir: Path,
    dataset: Any,
    tokenizer: Any,
    states: dict,
    model: Any = None,
    rtol: float | None = None,
):
    """Every cell recorded and within ``alone_rtol()`` (1e-4 on transformers 5) of the
    example's loss alone."""
    rtol = alone_rtol() if rtol is None else rtol
    store = TrajectoryStore.open(store_dir)
    losses, steps = np.asarray(store.losses), np.asarray(store.cell_steps)
    assert store.num_columns >= 1 and not np.isnan(losses).any()
    for e in range(store.num_columns):
        ref = h.independent_losses(
            dataset, tokenizer, states, np.arange(len(dataset)), steps[:, e], model
        )
        rel = np.abs(losses[:, e] - ref) / np.abs(ref)
        assert rel.max() <= rtol, (e, rel.max(), int(np.argmax(rel)))
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


def _ce_loss_func(outputs, labels, num_items_in_batch=None):
    logits = outputs.logits[:, :-1].float()
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100
    )


class PopLabelsTrainer(Trainer):
    """A ``compute_loss`` override that pops the labels and computes the loss itself."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = _ce_loss_func(outputs, labels)
        return (loss, outputs) if return_outputs else loss


@pytest.mark.parametrize(
    "setup",
    [
        {"arg_overrides": {"label_smoothing_factor": 0.1}},
        {"trainer_kwargs": {"compute_loss_func": _ce_loss_func}},
        {"trainer_cls": PopLabelsTrainer},
    ],
    ids=["label_smoothing", "compute_loss_func", "compute_loss_pops_labels"],
)
def test_labels_kept_from_the_model_are_read(tmp_path, dataset, tokenizer, setup):
    """The unsmoothed per-example CE is recorded when the Trainer keeps labels from the model."""
    _, states = run(
        tmp_path,
        dataset,
        tokenizer,
        trainer_cls=setup.get("trainer_cls", Trainer),
        trainer_kwargs=setup.get("trainer_kwargs"),
        **setup.get("arg_overrides", {}),
    )
    check_alone(tmp_path / "store", dataset, tokenizer, states)


class SelfLabellingTrainer(Trainer):
    """No labels anywhere: the loss is built from the input ids after the model call."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        loss = _ce_loss_func(outputs, inputs["input_ids"])
        return (loss, outputs) if return_outputs else loss


def test_no_labels_stop_at_first_step(tmp_path, dataset, tokenizer):
    """Where no labels reach the model or compute_loss: an error at the first step naming
    the way out, never a warning and an empty store."""
    from transformers import DataCollatorWithPadding

    from hf_s2l.record.stacks import InStepError

    ds = dataset.remove_columns(["labels", "source", "example_id"])
    with pytest.raises(InStepError, match="no labels.*mode='probe'") as err:
        run(
            tmp_path,
            ds,
            tokenizer,
            trainer_cls=SelfLabellingTrainer,
            collator=DataCollatorWithPadding(tokenizer),
        )
    assert "SelfLabellingTrainer" in str(err.value)


def _prompt_tuning_model(tokenizer, kind="prompt"):
    peft = pytest.importorskip("peft")
    if kind == "prompt":
        cfg = peft.PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)
    else:
        cfg = peft.PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)
    return peft.get_peft_model(h.make_model(tokenizer), cfg)


@pytest.mark.parametrize("kind", ["prompt", "prefix"])
def test_prompt_tuning_every_token_a_target(tmp_path, dataset, tokenizer, kind):
    """PEFT virtual tokens: labels aligned in both modes (the first token is a target too)."""
    if kind == "prefix" and (why := stack_limit("prefix_tuning")):
        pytest.skip(why)
    ds = dataset.map(lambda ex: {"labels": list(ex["input_ids"])})
    _, states = run(tmp_path, ds, tokenizer, model=_prompt_tuning_model(tokenizer, kind))
    check_alone(
        tmp_path / "store", ds, tokenizer, states, model=_prompt_tuning_model(tokenizer, kind)
    )

    snaps = h.Snapshots()
    model = _prompt_tuning_model(tokenizer, kind)
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=str(tmp_path / "run_probe"),
            per_device_train_batch_size=4,
            max_steps=1,
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            save_strategy="no",
        ),
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True),
        callbacks=[snaps, TrajectoryCallback(tmp_path / "probe", num_points=1, batch_size=5)],
    )
    trainer.train()
    probe = TrajectoryStore.open(tmp_path / "probe")
    ref = h.independent_losses(
        ds,
        tokenizer,
        snaps.states,
        np.arange(len(ds)),
        np.zeros(len(ds), int),
        _prompt_tuning_model(tokenizer, kind),
    )
    rel = np.abs(np.asarray(probe.losses[:, 0]) - ref) / np.abs(ref)
    assert rel.max() <= 1e-4, rel.max()


def _bart(tokenizer):
    import transformers as tf

    torch.manual_seed(0)
    cfg = tf.BartConfig(
        vocab_size=len(tokenizer),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=128,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=1,
        decoder_start_token_id=1,
        forced_eos_token_id=None,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
    )
    return _no_dropout(tf.BartForConditionalGeneration(cfg))


def _t5(tokenizer):
    from hf_s2l.experiments.tiny import tiny_model

    return _no_dropout(
        tiny_model(family="t5", vocab_size=len(tokenizer), hidden_size=32, num_layers=1)
    )


def _no_dropout(model):
    """Training forward == the alone (eval) forward: no dropout."""
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if isinstance(getattr(m, "dropout", None), float):  # functional dropout (attention)
            m.dropout = 0.0
    return model


@pytest.mark.parametrize("make", [_t5, _bart], ids=["t5", "bart"])
def test_seq2seq_rows_sharing_their_input_keep_their_own_loss(tmp_path, dataset, tokenizer, make):
    """Seq2SeqTrainer: rows with the same encoder input and different labels (findings shared,
    impressions differ) are keyed by the whole example and get their own losses."""
    from datasets import Dataset
    from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments

    rows = []
    for ex in dataset:
        n_prompt = sum(1 for t in ex["labels"] if t == -100)
        rows.append({"input_ids": ex["input_ids"][:n_prompt], "labels": ex["input_ids"][n_prompt:]})
    for i in range(6):  # same input as row i, the answer of row i + 6
        rows.append({"input_ids": rows[i]["input_ids"], "labels": rows[i + 6]["labels"]})
    ds = Dataset.from_list([{**r, "attention_mask": [1] * len(r["input_ids"])} for r in rows])
    _, states = run(
        tmp_path,
        ds,
        tokenizer,
        trainer_cls=Seq2SeqTrainer,
        model=make(tokenizer),
        args_cls=Seq2SeqTrainingArguments,
    )
    check_alone(tmp_path / "store", ds, tokenizer, states, model=make(tokenizer))


def _sft(tmp_path, rows, tokenizer, *, mode="in_step", model=None, **config):
    """Train TRL's SFTTrainer one epoch on ``rows``; return (trainer, snapshots)."""
    trl = pytest.importorskip("trl")
    missing = [key for key in config if not trl_supports(key)]
    if missing:  # a TRL feature newer than the installed TRL
        pytest.skip(f"SFTConfig({missing[0]}=...) needs trl>={TRL_SFT_FEATURES[missing[0]]}")
    from datasets import Dataset

    kw: dict[str, Any] = dict(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=4,
        num_train_epochs=1,
        learning_rate=3e-3,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        bf16=False,
        seed=0,
        disable_tqdm=True,
        max_length=48,
        gradient_checkpointing=False,
    )
    kw.update(config)
    snaps = h.Snapshots()
    trainer = trl.SFTTrainer(
        model=h.make_model(tokenizer) if model is None else model,
        args=trl.SFTConfig(**sft_config_kwargs(**kw)),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[snaps, TrajectoryCallback(tmp_path / "store", mode=mode, num_points=1)],
    )
    trainer.train()
    return trainer, snaps.states


def _sft_labelled(trainer):
    """The rows SFTTrainer trained on, with the labels its collator builds."""
    ds = trainer.train_dataset

    def labels(ex):
        ids = list(ex["labels"] if "labels" in ex else ex["input_ids"])
        for name in ("completion_mask", "assistant_masks"):
            if name in ex and ex[name] is not None:
                ids = [t if m else -100 for t, m in zip(ids, ex[name])]
        return {"labels": ids, "attention_mask": [1] * len(ex["input_ids"])}

    return ds.map(labels)


_CHAT_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'assistant' %}A: {% generation %}"
    "{{ m['content'] }}{{ eos_token }}{% endgeneration %}{% else %}Q: {{ m['content'] }}\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}A: {% endif %}"
)


def _texts(math_raw, n=24):
    return [math_raw[3 * i] for i in range(n)]


@pytest.mark.parametrize(
    "kind", ["text", "prompt_completion", "messages", "lora_checkpointing", "padding_free"]
)
def test_trl_sft_fused_head_recorded(tmp_path, math_raw, tokenizer, kind):
    """TRL SFTTrainer's fused LM head (log_probs + label_mask, no logits) is read in-step."""
    ex = _texts(math_raw)
    model, config = None, {}
    if kind == "prompt_completion":
        rows = [
            {"prompt": "Q: " + r["instruction"][:80], "completion": " " + r["output"]} for r in ex
        ]
        config["completion_only_loss"] = True
    elif kind == "messages":  # assistant_only_loss: a chat template with generation marks
        tokenizer = copy.deepcopy(tokenizer)
        tokenizer.chat_template = _CHAT_TEMPLATE
        rows = [
            {
                "messages": [
                    {"role": "user", "content": r["instruction"][:80]},
                    {"role": "assistant", "content": r["output"]},
                ]
            }
            for r in ex
        ]
        config["assistant_only_loss"] = True
    else:
        rows = [{"text": r["instruction"][:80] + " " + r["output"]} for r in ex]
    if kind == "padding_free":  # one row per batch, examples as position_ids segments
        config.update(padding_free=True, max_length=None)
    if kind == "lora_checkpointing":
        peft = pytest.importorskip("peft")
        if limit := stack_limit("peft_model_checkpointing"):
            pytest.skip(limit)
        config["gradient_checkpointing"] = True
        model = peft.get_peft_model(
            h.make_model(tokenizer),
            peft.LoraConfig(
                r=4, lora_alpha=8, target_modules=["query_key_value"], lora_dropout=0.0
            ),
        )
    trainer, states = _sft(tmp_path, rows, tokenizer, model=model, **config)
    ds = _sft_labelled(trainer)
    ref_model = None
    if kind == "lora_checkpointing":
        ref_model = peft.get_peft_model(
            h.make_model(tokenizer),
            peft.LoraConfig(
                r=4, lora_alpha=8, target_modules=["query_key_value"], lora_dropout=0.0
            ),
        )
    check_alone(tmp_path / "store", ds, tokenizer, states, model=ref_model)


@pytest.mark.parametrize("mode", ["probe", "in_step"])
def test_trl_packing_refused_at_train_begin(tmp_path, math_raw, tokenizer, mode):
    """Packed rows are not examples: both modes refuse them before the first step."""
    rows = [{"text": r["instruction"] + " " + r["output"]} for r in _texts(math_raw)]
    with pytest.raises(ValueError, match="packing=True.*not an example"):
        _sft(
            tmp_path,
            rows,
            tokenizer,
            mode=mode,
            packing=True,
            packing_strategy="wrapped",
        )
    assert not (tmp_path / "run" / "checkpoint-1").exists()


def test_trl_sftconfig_defaults(tmp_path, math_raw, tokenizer):
    """SFTConfig defaults (bf16 autocast, gradient checkpointing): every cell recorded, equal
    to the fp32 alone forward within bf16 precision."""
    trl = pytest.importorskip("trl")
    from datasets import Dataset

    rows = [{"text": r["instruction"][:80] + " " + r["output"]} for r in _texts(math_raw)]
    snaps = h.Snapshots()
    kw: dict[str, Any] = dict(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        report_to=[],
        num_train_epochs=1,
        per_device_train_batch_size=4,
        save_strategy="no",
        disable_tqdm=True,
    )
    config = trl.SFTConfig(**kw)
    if not (config.bf16 and config.gradient_checkpointing):
        # older TRL (0.12.2) defaults to fp32 without checkpointing: the same stack, set by hand
        config = trl.SFTConfig(**kw, bf16=True, gradient_checkpointing=True)
    assert config.bf16 and config.gradient_checkpointing
    trainer = trl.SFTTrainer(
        model=h.make_model(tokenizer),
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[snaps, TrajectoryCallback(tmp_path / "store", mode="in_step")],
    )
    trainer.train()
    check_alone(tmp_path / "store", _sft_labelled(trainer), tokenizer, snaps.states, rtol=2e-2)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"bf16": True}, id="bf16"),
        pytest.param({"torch_compile": True}, id="torch_compile", marks=pytest.mark.slow),
    ],
)
def test_plain_trainer_kept_right(tmp_path, dataset, tokenizer, overrides):
    """bf16 autocast and torch.compile: every cell recorded, equal to the alone forward
    (bf16: within its precision)."""
    _, states = run(tmp_path, dataset, tokenizer, **overrides)
    rtol = 2e-2 if overrides.get("bf16") else 1e-4
    check_alone(tmp_path / "store", dataset, tokenizer, states, rtol=rtol)


def test_label_tap_restores_compute_loss(tmp_path, dataset, tokenizer):
    """The wrapper around compute_loss is gone after training, also after a failed run."""
    trainer, _ = run(tmp_path, dataset, tokenizer, label_smoothing_factor=0.1)
    assert "compute_loss" not in vars(trainer)

    from hf_s2l.record.stacks import LabelTap

    first, second = LabelTap(), LabelTap()
    first.install(trainer)  # left behind, as by a run that raised before on_train_end
    second.install(trainer)
    assert trainer.compute_loss._hf_s2l_original.__func__ is Trainer.compute_loss
    second.remove()
    assert "compute_loss" not in vars(trainer)
