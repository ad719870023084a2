"""Every difference between the library versions hf-s2l supports, in one place (issue 24).

The supported ranges are declared in ``pyproject.toml`` and listed in ``docs/compatibility.md``
(``tests/test_versions.py`` checks that they agree). Where two supported versions need
different code, the difference lives here, named by version, and the library, the demo
(``hf_s2l.experiments``) and the tests call these helpers instead of branching themselves:

* ``TrainingArguments`` sampling: transformers 5 has ``train_sampling_strategy=
  "group_by_length" | "sequential"``; transformers 4.x has ``group_by_length=True`` (and no
  sequential sampler) — :func:`sampling_kwargs`.
* warm-up as a share of the steps: transformers 5 takes a float ``warmup_steps < 1``;
  transformers 4.x needs ``warmup_ratio`` — :func:`warmup_kwargs`.
* TRL ``SFTConfig``: ``max_length`` was ``max_seq_length`` before TRL 0.20;
  ``completion_only_loss`` / ``assistant_only_loss`` / ``packing_strategy`` /
  ``padding_free`` exist from the TRL version :data:`TRL_SFT_FEATURES` names —
  :func:`sft_config_kwargs`, :func:`trl_supports`.
* TRL 1.0.x: in-step recording under ``SFTTrainer`` is refused (:func:`unrecordable_trl`).
* datasets 4 returns a lazy ``Column`` for ``ds["name"]`` that numpy integers cannot index;
  datasets 3 returns a list — :func:`column`.
* GPT-NeoX with an odd number of rotary dimensions: transformers 4.x rejects it, 5.x rounds
  it up — :func:`gpt_neox_rotary_pct` gives an even count everywhere.
* what the installed stack itself cannot train right (PEFT prefix tuning on peft 0.13,
  flattened rows on transformers 4.x) — :func:`stack_limit`.
* ``Trainer(processing_class=...)`` (transformers ≥ 4.46, the floor) and the
  ``num_items_in_batch`` argument of ``compute_loss`` (also 4.46) need no branch: the floor
  has them.

This module imports nothing from ``hf_s2l`` (layer 0: every layer may use it).
"""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import metadata
from typing import Any

from packaging.version import Version

#: TRL versions whose ``SFTTrainer`` cannot be recorded in-step (see :func:`unrecordable_trl`).
TRL_IN_STEP_BROKEN = ("1.0.0", "1.1.0")  # [first bad, first good)

#: The first TRL whose ``SFTTrainer`` keeps the dataset's other columns (e.g. ``source``);
#: before it, its tokenisation drops them (see :func:`sft_drops_columns`).
TRL_KEEPS_COLUMNS = "0.15.0"

#: ``SFTConfig`` keyword -> the first TRL version that has it.
TRL_SFT_FEATURES: dict[str, str] = {
    "completion_only_loss": "0.20.0",
    "assistant_only_loss": "0.20.0",
    "packing_strategy": "0.19.0",
    "padding_free": "0.14.0",
}


@cache
def installed(package: str) -> Version | None:
    """The installed version of ``package`` (a distribution name), or ``None``."""
    try:
        return Version(metadata.version(package))
    except metadata.PackageNotFoundError:
        return None


def at_least(package: str, version: str) -> bool:
    """Whether ``package`` is installed at ``version`` or newer (pre-releases count)."""
    have = installed(package)
    return have is not None and have.release >= Version(version).release


@cache
def _training_fields_full() -> tuple[dataclasses.Field, ...]:
    from transformers import TrainingArguments

    return dataclasses.fields(TrainingArguments)


def _training_fields() -> frozenset[str]:
    return frozenset(f.name for f in _training_fields_full())


def sampling_kwargs(strategy: str) -> dict[str, Any]:
    """``TrainingArguments`` keywords for the train sampler: ``"random"`` (the default),
    ``"group_by_length"`` or ``"sequential"``.

    transformers 5: ``train_sampling_strategy=strategy``. transformers 4.x:
    ``group_by_length=True``; ``"sequential"`` has no argument there (use
    :func:`hf_s2l.data.curriculum_trainer`) and raises ``ValueError``.
    """
    if strategy not in ("random", "group_by_length", "sequential"):
        raise ValueError(f"unknown sampling strategy {strategy!r}")
    if "train_sampling_strategy" in _training_fields():
        return {"train_sampling_strategy": strategy}
    if strategy == "group_by_length":
        return {"group_by_length": True}
    if strategy == "sequential":
        raise ValueError(
            "TrainingArguments has no sequential sampler before transformers 5; "
            "use hf_s2l.data.curriculum_trainer() instead"
        )
    return {}


def warmup_kwargs(ratio: float) -> dict[str, Any]:
    """``TrainingArguments`` keywords for a linear warm-up over ``ratio`` of the steps.

    transformers 5 takes ``warmup_steps=ratio`` (a float below 1 is a ratio) and deprecates
    ``warmup_ratio``; transformers 4.x needs ``warmup_ratio=ratio`` (its ``warmup_steps`` is
    an int).
    """
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"warm-up ratio must be in [0, 1), got {ratio}")
    if at_least("transformers", "5.0"):
        return {"warmup_steps": ratio}
    return {"warmup_ratio": ratio}


def trl_supports(keyword: str) -> bool:
    """Whether the installed TRL's ``SFTConfig`` has ``keyword`` (see :data:`TRL_SFT_FEATURES`)."""
    first = TRL_SFT_FEATURES.get(keyword)
    return first is None or at_least("trl", first)


def sft_config_kwargs(**kwargs: Any) -> dict[str, Any]:
    """``SFTConfig`` keywords written for current TRL, renamed for the installed one.

    ``max_length`` is ``max_seq_length`` before TRL 0.20. A keyword the installed TRL does
    not have at all (:data:`TRL_SFT_FEATURES`) raises ``TypeError`` naming the version.
    """
    out = dict(kwargs)
    if "max_length" in out and not at_least("trl", "0.20.0"):
        out["max_seq_length"] = out.pop("max_length")
    for key in out:
        if not trl_supports(key):
            raise TypeError(
                f"SFTConfig({key}=...) needs trl>={TRL_SFT_FEATURES[key]} "
                f"(installed: {installed('trl')})"
            )
    return out


def unrecordable_trl() -> str | None:
    """The installed TRL version if its ``SFTTrainer`` cannot be recorded in-step, else None.

    TRL 1.0.x (:data:`TRL_IN_STEP_BROKEN`): its ``SFTTrainer`` collator truncates rows to
    ``max_length`` after tokenisation, so in-step recording leaves columns incomplete
    ("training items matched no dataset row"). Checked right: 0.12, 0.24, 1.16.
    """
    have = installed("trl")
    lo, hi = (Version(v) for v in TRL_IN_STEP_BROKEN)
    if have is not None and lo <= Version(have.base_version) < hi:
        return str(have)
    return None


def sft_drops_columns(trainer: Any) -> str | None:
    """The installed TRL version if ``trainer`` is a TRL ``SFTTrainer`` whose tokenisation
    drops the dataset's other columns (TRL < :data:`TRL_KEEPS_COLUMNS`: 0.12 to 0.14 map with
    ``remove_columns=dataset.column_names``), else ``None``."""
    is_sft = any(
        c.__name__ == "SFTTrainer" and c.__module__.startswith("trl") for c in type(trainer).__mro__
    )
    if trainer is None or not is_sft or at_least("trl", TRL_KEEPS_COLUMNS):
        return None
    return str(installed("trl"))


def in_step_refusal(args: Any, collator: Any = None, model: Any = None) -> str | None:
    """Why in-step recording cannot run under these training arguments, else ``None``.

    Refuses, at train begin, naming the version and the way out: TRL's ``SFTConfig`` (an
    ``SFTTrainer`` run) on the TRL versions of :func:`unrecordable_trl`; and
    ``DataCollatorWithFlattening`` on transformers 4.x outside ``flash_attention_2``
    (:func:`stack_limit` ``"flattening"``: the training loss of a packed example is not its
    own there, so in-step cells would be silently wrong).
    """
    if type(collator).__name__ == "DataCollatorWithFlattening":
        attn = getattr(getattr(model, "config", None), "_attn_implementation", None)
        if attn != "flash_attention_2" and (why := stack_limit("flattening")):
            return (
                f"in-step recording with DataCollatorWithFlattening is not supported on {why} "
                "(the training loss of a packed example is not its own, so the recorded "
                "values would be wrong). Use attn_implementation='flash_attention_2', "
                "transformers>=5, or DataCollatorForSeq2Seq (padding) with mode='in_step' "
                "or mode='probe'"
            )
    if not type(args).__module__.startswith("trl"):
        return None
    bad = unrecordable_trl()
    if bad is None:
        return None
    lo, hi = TRL_IN_STEP_BROKEN
    return (
        f"in-step recording under SFTTrainer is not supported on trl {bad}: trl>={lo},<{hi} "
        "truncates rows to max_length in its collator, after the dataset was tokenised, so "
        "the recorder cannot match training rows to dataset rows and columns stay incomplete. "
        f"Install trl>={hi} (or trl<{lo}), or record with mode='probe'"
    )


def alone_rtol() -> float:
    """Relative tolerance of the tests' cell-by-cell check against the example's loss alone.

    1e-4 on transformers >= 5. Earlier runs on transformers 4.46.3 (the floor) found a few
    in-step cells further off in fp32: 1.02e-4 (GPT-NeoX, ``mode="both"``) and 3.8e-4 (T5,
    in-step), in runs where a leaked ``ACCELERATE_DYNAMO_BACKEND`` compiled some Trainers;
    not reproduced since that leak was fixed, but the floor stays at 5e-4 until CI's machine
    confirms it (docs/compatibility.md).
    """
    return 1e-4 if at_least("transformers", "5.0.0") else 5e-4


def stack_limit(feature: str) -> str | None:
    """Why ``feature`` does not train right on the installed stack, with or without hf-s2l.

    ``"prefix_tuning"``: PEFT prefix tuning on GPT-NeoX fails inside peft 0.13 with
    transformers >= 4.46 (tuple ``past_key_values``: no ``get_seq_length``); peft 0.21 runs it.
    ``"flattening"``: with ``DataCollatorWithFlattening``, transformers 4.x eager/SDPA
    attention lets the packed examples of a row attend to each other (only
    ``flash_attention_2`` separates them), so a training loss is not the example's own
    (in-step cells ~1e-3 off on 4.46.3); transformers 5 separates them.
    ``"peft_model_checkpointing"``: TRL 0.12's ``SFTTrainer`` given a ``PeftModel`` with
    ``gradient_checkpointing=True`` fails in ``backward`` ("element 0 of tensors does not
    require grad"; reentrant checkpointing, inputs not made to require grad); trl 0.24 runs it.
    ``"sft_prompt_completion"``: TRL 0.12's ``SFTTrainer`` wants a chat template for
    ``prompt``/``completion`` rows; trl 0.24 tokenises them as text.
    Both checked failing on trl 0.12.2 and right on 0.24.0 (versions between: not tried).
    ``"accumulation_remainder"``: transformers 4.x (4.46.3) sets ``max_steps`` from
    ``batches // gradient_accumulation_steps`` per epoch but also steps on an epoch's partial
    last window, so a multi-epoch run stops before its last epoch ends (one-epoch: before the
    last batch); the in-step column of that epoch is left incomplete, with a warning.
    transformers 5 trains every batch.
    ``"ddp_token_average"``: without ``TrainingArguments(average_tokens_across_devices=True)``
    (missing or off by default in transformers 4.46.3), each process divides its loss by its
    own token count, so a multi-process run trains to other weights than one process with the
    same global batch (probe columns after step 0 ~1e-3 apart on 4.46.3; step 0 identical).
    ``"ddp_cpu_resume"``: resuming a multi-process CPU (gloo) run from a checkpoint fails
    inside the Trainer on transformers 4.46.3 with torch 2.4.1 (optimizer state loaded with
    ``map_location='cpu:0'``); transformers 5 resumes it.
    ``"fsdp2_cpu"``: FSDP2 ``fully_shard`` on CPU processes (gloo) fails initialising CUDA on
    torch 2.4.1 (the PyPI CUDA build on a machine without a GPU driver).
    """
    if feature == "prefix_tuning":
        if not at_least("peft", "0.14.0") and at_least("transformers", "4.46.0"):
            return (
                f"PEFT prefix tuning fails in peft {installed('peft')} with transformers "
                f"{installed('transformers')} itself"
            )
        return None
    if feature == "flattening":
        if not at_least("transformers", "5.0.0"):
            return (
                f"transformers {installed('transformers')}: packed examples attend to each "
                "other outside flash_attention_2"
            )
        return None
    if feature == "accumulation_remainder":
        if not at_least("transformers", "5.0.0"):
            return (
                f"transformers {installed('transformers')}: with gradient accumulation that "
                "does not divide an epoch's batches, training stops before the last epoch ends"
            )
        return None
    if feature == "ddp_token_average":
        field = {f.name: f for f in _training_fields_full()}.get("average_tokens_across_devices")
        if field is None or field.default is not True:
            return (
                f"transformers {installed('transformers')}: TrainingArguments does not average "
                "the loss over the tokens of all processes by default, so N processes train "
                "to other weights than one"
            )
        return None
    if feature == "fsdp2_cpu":
        if not at_least("torch", "2.6.0"):
            return (
                f"torch {installed('torch')}: FSDP2 fully_shard (torch.distributed._composable) "
                "on CPU/gloo fails initialising CUDA (checked on 2.4.1; 2.13 runs it)"
            )
        return None
    if feature == "ddp_cpu_resume":
        if not at_least("transformers", "5.0.0"):
            return (
                f"transformers {installed('transformers')}: resuming a multi-process CPU run "
                "fails in Trainer._load_optimizer_and_scheduler (torch.load map_location "
                "'cpu:0': \"don't know how to restore data location\")"
            )
        return None
    if feature in ("peft_model_checkpointing", "sft_prompt_completion"):
        if not at_least("trl", "0.24.0"):
            what = (
                "SFTTrainer with a PeftModel and gradient_checkpointing=True fails in backward"
                if feature == "peft_model_checkpointing"
                else "SFTTrainer asks for a chat template for prompt/completion rows"
            )
            return f"trl {installed('trl')}: {what} itself (trl 0.24 runs it)"
        return None
    raise ValueError(f"unknown feature {feature!r}")


def column(dataset: Any, name: str) -> list[Any]:
    """``dataset[name]`` as a list on every datasets version.

    datasets 4 returns a lazy ``Column`` that a ``numpy.int64`` cannot index
    (``TypeError: Wrong key type``); datasets 3 returns a list already.
    """
    values = dataset[name]
    return values if isinstance(values, list) else list(values)


def gpt_neox_rotary_pct(head_dim: int, pct: float = 0.25) -> float:
    """``pct``, or the ``rotary_pct`` that rounds an odd rotary dimension count up to even.

    GPT-NeoX rotates ``int(head_dim * rotary_pct)`` dimensions. An odd count fails in
    transformers 4.x (shape mismatch in ``apply_rotary_pos_emb``) and is rounded up by
    transformers 5 (it rotates ``cos.shape[-1]`` dimensions); an even count is the same model
    on both. ``gpt_neox_rotary_pct(12)`` (3 dimensions at 0.25) gives 4 dimensions.
    """
    ndims = int(head_dim * pct)
    if ndims % 2 == 0 and ndims > 0:
        return pct
    dims = max(2, ndims + ndims % 2)
    if dims > head_dim:
        raise ValueError(f"head dimension {head_dim} is too small for rotary embeddings")
    return (dims + 0.5) / head_dim  # int(head_dim * pct) == dims without rounding doubt
