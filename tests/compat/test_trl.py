"""TRL ``SFTTrainer`` stacks (issue 18): every stored cell == the row's loss alone, or an early,
explained stop."""

from __future__ import annotations

import re

import pytest
import torch

from hf_s2l.compat import (
    TRL_KEEPS_COLUMNS,
    TRL_SFT_FEATURES,
    at_least,
    sft_config_kwargs,
    trl_supports,
)
from hf_s2l.compat import installed as _installed

from .conftest import MODES, assert_stops_early, check_run, one_epoch_args, record

trl = pytest.importorskip("trl")

CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}A: {% generation %}{{ m['content'] }}{{ eos_token }}"
    "{% endgeneration %}\n"
    "{% else %}Q: {{ m['content'] }}\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}A: {% endif %}"
)


def _short(raw, n=24):
    rows = [
        {"q": r["instruction"][:80], "a": r["output"][:80], "source": r["source"]}
        for r in raw.select(range(n))
    ]
    return rows


@pytest.fixture
def sft_data(compat_raw):
    from datasets import Dataset

    rows = _short(compat_raw)
    return {
        "text": Dataset.from_list([{"text": "Q: " + r["q"] + "\nA: " + r["a"]} for r in rows]),
        "prompt_completion": Dataset.from_list(
            [{"prompt": "Q: " + r["q"] + "\nA:", "completion": " " + r["a"]} for r in rows]
        ),
        "messages": Dataset.from_list(
            [
                {
                    "messages": [
                        {"role": "user", "content": r["q"]},
                        {"role": "assistant", "content": r["a"]},
                    ]
                }
                for r in rows
            ]
        ),
    }


@pytest.fixture
def chat_tokenizer(tokenizer):
    import copy

    tok = copy.deepcopy(tokenizer)
    tok.chat_template = CHAT_TEMPLATE
    return tok


def _sft(tmp_path, model, tok, ds, peft_config=None, defaults=False, **cfg):
    from trl import SFTConfig, SFTTrainer

    missing = [key for key in cfg if not trl_supports(key)]
    if missing:  # a row of the matrix for a TRL feature newer than the installed TRL
        pytest.skip(f"SFTConfig({missing[0]}=...) needs trl>={TRL_SFT_FEATURES[missing[0]]}")

    if defaults:  # SFTConfig's own defaults, only sized down for the test
        kw = dict(
            output_dir=str(tmp_path / "run"),
            per_device_train_batch_size=8,
            num_train_epochs=1,
            max_length=64,
            report_to=[],
            use_cpu=True,
            save_strategy="no",
            disable_tqdm=True,
        )
        kw.update(cfg)
        args = SFTConfig(**sft_config_kwargs(**kw))
    else:
        cfg.setdefault("max_length", 64)
        cfg.setdefault("bf16", False)
        cfg.setdefault("gradient_checkpointing", False)
        args = one_epoch_args(tmp_path / "run", SFTConfig, **sft_config_kwargs(**cfg))

    def make(callbacks):
        return SFTTrainer(
            model=model,
            args=args,
            train_dataset=ds,
            processing_class=tok,
            peft_config=peft_config,
            callbacks=callbacks,
        )

    return make


def _autocast(run):
    return torch.bfloat16 if run.trainer.args.bf16 else None


def _check(run):
    bf16 = run.trainer.args.bf16
    check_run(run, autocast=_autocast(run), rtol=2e-2 if bf16 else 1e-4)


@pytest.mark.parametrize("mode", MODES)
def test_sft_plain_text(tmp_path, tokenizer, causal_lm, sft_data, mode):
    make = _sft(tmp_path, causal_lm(), tokenizer, sft_data["text"])
    _check(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_sft_prompt_completion_only_loss(tmp_path, tokenizer, causal_lm, sft_data, mode):
    make = _sft(
        tmp_path, causal_lm(), tokenizer, sft_data["prompt_completion"], completion_only_loss=True
    )
    _check(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_sft_messages_assistant_only_loss(tmp_path, chat_tokenizer, causal_lm, sft_data, mode):
    make = _sft(
        tmp_path, causal_lm(), chat_tokenizer, sft_data["messages"], assistant_only_loss=True
    )
    _check(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
def test_sft_peft_lora_gradient_checkpointing(tmp_path, tokenizer, causal_lm, sft_data, mode):
    from peft import LoraConfig

    make = _sft(
        tmp_path,
        causal_lm(),
        tokenizer,
        sft_data["text"],
        peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["query_key_value"]),
        gradient_checkpointing=True,
    )
    _check(record(tmp_path, make, mode))


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_sft_config_defaults(tmp_path, tokenizer, causal_lm, sft_data, mode):
    """SFTConfig's defaults (bf16, gradient checkpointing where TRL turns them on)."""
    make = _sft(tmp_path, causal_lm(), tokenizer, sft_data["text"], defaults=True)
    _check(record(tmp_path, make, mode))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "packing",
    [{"packing": True, "packing_strategy": "wrapped"}, {"packing": True}],
    ids=["wrapped", "bfd"],
)
def test_sft_packing_stops_early(tmp_path, tokenizer, causal_lm, sft_data, mode, packing):
    """Packed rows are not examples: both modes refuse at the first step, naming the way out."""
    make = _sft(tmp_path, causal_lm(), tokenizer, sft_data["text"], **packing)
    assert_stops_early(tmp_path, make, mode, match="pack")
    if mode == "probe":  # whatever the schedule: no step-0 probe must not delay the refusal
        again = _sft(tmp_path / "late", causal_lm(), tokenizer, sft_data["text"], **packing)
        assert_stops_early(tmp_path / "late", again, mode, match="pack", at_train_begin=False)


@pytest.mark.parametrize("mode", MODES)
def test_sft_padding_free(tmp_path, tokenizer, causal_lm, sft_data, mode):
    """padding_free=True keeps one example per row: recorded right, or an early explained stop."""
    make = _sft(
        tmp_path, causal_lm(), tokenizer, sft_data["text"], padding_free=True, max_length=None
    )
    try:
        run = record(tmp_path, make, mode)
    except Exception:  # noqa: BLE001 - then it must be the early, explained stop
        again = _sft(
            tmp_path / "2",
            causal_lm(),
            tokenizer,
            sft_data["text"],
            padding_free=True,
            max_length=None,
        )
        assert_stops_early(tmp_path / "2", again, mode, match="padding_free|flatten")
        return
    _check(run)


@pytest.mark.parametrize("mode", ["in_step", "both"])
def test_sft_in_step_refused_on_unrecordable_trl(tmp_path, tokenizer, causal_lm, sft_data, mode):
    """TRL 1.0.x truncates in its collator; in-step recording stops at train begin naming the
    version (issue 24). On another TRL the gate's range is moved over the installed version,
    so the real SFTTrainer meets the same check; the real trl 1.0.0 is in docs/compatibility.md."""
    import hf_s2l.compat as compat

    have = str(compat.installed("trl"))
    patch = pytest.MonkeyPatch()
    if compat.unrecordable_trl() is None:
        patch.setattr(compat, "TRL_IN_STEP_BROKEN", (have, "999"))
    try:
        make = _sft(tmp_path, causal_lm(), tokenizer, sft_data["text"])
        err = assert_stops_early(
            tmp_path, make, mode, match=rf"trl {re.escape(have)}.*mode='probe'"
        )
    finally:
        patch.undo()
    assert type(err).__name__ == "InStepError"


def test_unrecordable_trl_range(monkeypatch):
    from packaging.version import Version

    import hf_s2l.compat as compat

    for version, bad in [("0.12.2", False), ("1.0.0", True), ("1.0.3", True), ("1.1.0", False)]:
        monkeypatch.setattr(compat, "installed", lambda name, v=version: Version(v))
        assert (compat.unrecordable_trl() == version) is bad, version


@pytest.mark.parametrize("mode", ["in_step", "both"])
def test_sft_packing_with_metadata_columns_names_packing(
    tmp_path, tokenizer, causal_lm, compat_raw, mode
):
    """packing=True with metadata_columns=("source",) (issue 25): the packing message, not
    "metadata column 'source' is not in the training dataset" (packing drops the column); the
    advice (packing=False) records right and keeps the column."""
    from datasets import Dataset

    import hf_s2l
    from hf_s2l import TrajectoryStore

    rows = _short(compat_raw)
    ds = Dataset.from_list(
        [{"text": "Q: " + r["q"] + "\nA: " + r["a"], "source": r["source"]} for r in rows]
    )
    make = _sft(tmp_path / "packed", causal_lm(), tokenizer, ds, packing=True)
    err = assert_stops_early(
        tmp_path / "packed", make, mode, match="packing=False", metadata_columns=("source",)
    )
    assert "packing=True" in str(err) and "metadata column" not in str(err)
    make = _sft(tmp_path, causal_lm(), tokenizer, ds, packing=False)
    if not at_least("trl", TRL_KEEPS_COLUMNS):
        # trl < 0.15 drops the column when it tokenises: said, and the advice (the values
        # given to the selection) works
        with pytest.raises(ValueError, match=r"SFTTrainer of trl .* drops .* groups=") as e:
            record(tmp_path / "dropped", make, mode, metadata_columns=("source",))
        assert str(_installed("trl")) in str(e.value)
        run = record(tmp_path, make, mode)
        _check(run)
        for path in run.stores.values():
            sel = hf_s2l.select(path, "random", 0.5, seed=0, groups=ds["source"])
            assert sel.stats["groups"], sel.stats
        return
    run = record(tmp_path, make, mode, metadata_columns=("source",))
    _check(run)
    for path in run.stores.values():
        assert TrajectoryStore.open(path).metadata("source").tolist() == ds["source"]


def test_dpo_in_step_stops_at_train_begin(tmp_path, tokenizer, causal_lm, compat_raw):
    """DPOTrainer in-step (was: KeyError 'input_ids'): refused at train begin; the advice (SFT
    on prompt + chosen completion, in-step) records right."""
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    rows = _short(compat_raw)
    pairs = Dataset.from_list(
        [
            {"prompt": "Q: " + r["q"] + "\nA:", "chosen": " " + r["a"], "rejected": " no idea"}
            for r in rows
        ]
    )
    args = one_epoch_args(tmp_path / "dpo", DPOConfig, max_length=64)

    def make(callbacks):
        return DPOTrainer(
            model=causal_lm(),
            ref_model=causal_lm(),
            args=args,
            train_dataset=pairs,
            processing_class=tokenizer,
            callbacks=callbacks,
        )

    err = assert_stops_early(tmp_path / "dpo", make, "in_step", match="preference pairs")
    assert "SFTTrainer" in str(err)
    sft = Dataset.from_list([{"prompt": r["prompt"], "completion": r["chosen"]} for r in pairs])
    follow = _sft(tmp_path, causal_lm(), tokenizer, sft, completion_only_loss=True)
    _check(record(tmp_path, follow, "in_step"))


def test_sft_neftune_in_step_said_and_kept(tmp_path, tokenizer, causal_lm, sft_data, caplog):
    """SFTTrainer with neftune_noise_alpha=5 (issue 25 item 3): in-step values are training-mode
    losses, said once and kept in the store's metadata; the advice (mode='probe') records the
    examples' own losses."""
    import logging

    from hf_s2l import TrajectoryStore

    from .conftest import deviation, log_lines

    caplog.set_level(logging.WARNING)
    make = _sft(tmp_path, causal_lm(), tokenizer, sft_data["text"], neftune_noise_alpha=5.0)
    run = record(tmp_path, make, "in_step")
    said = log_lines(caplog, "in-step values are training-mode losses")
    assert len(said) == 1 and "neftune_noise_alpha" in said[0], said
    store = TrajectoryStore.open(run.stores["in_step"])
    assert [c["cause"] for c in store.meta["extra"]["training_mode"]] == ["neftune"]
    assert deviation(run.stores["in_step"], run) > 1e-4
    probe = _sft(tmp_path / "p", causal_lm(), tokenizer, sft_data["text"], neftune_noise_alpha=5.0)
    _check(record(tmp_path / "p", probe, "probe"))
