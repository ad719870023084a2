"""What in-step recording needs from the training rows, checked before the first step.

In-step recording maps each training item back to its dataset row by the row's
``input_ids`` (:mod:`hf_s2l.record.in_step_hash`), so the dataset the Trainer iterates must
hold them, and the collator must hand them to the model unchanged (padding aside):

* :func:`check_in_step_rows` (train begin) refuses a dataset without ``input_ids`` (raw text
  tokenised by the collator on the fly; TRL ``DPOTrainer``'s preference pairs) and
  ``DataCollatorForLanguageModeling(mlm=True)`` (random masking changes ``input_ids`` at
  every step), each with a way out that works;
* :func:`unmatched_message` (step 1) says why a first step's items matched no row, or only
  some (a truncating collator), and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .probe import unwrap_collator
from .stacks import InStepError

PARTIAL_OPTION = "allow_partial_match"


def _columns(dataset: Any) -> list[str] | None:
    cols = getattr(dataset, "column_names", None)
    if cols is not None:
        return list(cols)
    try:
        first = dataset[0]
    except Exception:  # noqa: BLE001 - not indexable: nothing to check here
        return None
    return list(first) if isinstance(first, Mapping) else None


def check_in_step_rows(dataset: Any, collate_fn: Any, trainer: Any) -> None:
    """Refuse training rows in-step recording cannot match to dataset rows (before step 1)."""
    inner = unwrap_collator(collate_fn)
    if getattr(inner, "mlm", False):
        raise InStepError(
            f"{type(inner).__name__}(mlm=True) masks tokens at random at every step, so the "
            "model's input_ids are never the dataset's rows (in-step recording cannot match "
            "them) and each example's targets change between epochs. Mask the rows once before "
            "training (dataset.map: input_ids with [MASK] tokens, labels -100 except at the "
            "masked positions) and train with a padding collator (DataCollatorWithPadding / "
            "DataCollatorForSeq2Seq): a masked LM on pre-masked rows is recorded in "
            "mode='probe' and mode='in_step'"
        )
    cols = _columns(dataset)
    if cols is None or "input_ids" in cols:
        return
    name = type(trainer).__name__ if trainer is not None else ""
    if "DPO" in name or any(c.startswith(("chosen", "rejected")) for c in cols):
        raise InStepError(
            f"{name or 'this trainer'} trains on preference pairs (columns {cols}): its loss "
            "compares a chosen and a rejected response, it is not a per-example cross-entropy, "
            "and the rows have no input_ids to record. Record the proxy run with SFT on the "
            "same data instead (trl.SFTTrainer on prompt + chosen completion, "
            "TrajectoryCallback(mode='in_step') or mode='probe'), then select with that store"
        )
    raise InStepError(
        f"the training dataset has no 'input_ids' column (columns: {cols}): the collator "
        "tokenises rows on the fly, so in-step recording cannot map what the model sees back "
        "to dataset rows. Tokenise the dataset first (dataset.map(...) producing input_ids, "
        "attention_mask, labels, with a collator that only pads), or record with "
        "TrajectoryCallback(mode='probe'), which applies your collator to every row"
    )


def unmatched_message(
    total: int, unmatched: int, step: int, first_step: int | None = None
) -> str | None:
    """Why the items of steps ``first_step``..``step`` (default: step ``step`` alone) did not
    all match dataset rows (``None`` if they did)."""
    if not unmatched:
        return None
    steps = f"step {step}" if first_step in (None, step) else f"steps {first_step}-{step}"
    cause = (
        "the model is given input_ids that are not the training dataset's rows: the "
        "collator changes them (truncation, e.g. a max_length in the collator; masking; "
        "re-tokenisation)"
    )
    fix = (
        "Record with TrajectoryCallback(mode='probe') (it applies your collator to each row), "
        "or make the dataset rows what the model sees (truncate / tokenise in dataset.map) "
        "and keep a collator that only pads"
    )
    if unmatched == total:
        return (
            f"in-step recording matched none of the {total} training items of {steps} to a "
            f"dataset row, so nothing could be stored: {cause}. {fix}."
        )
    return (
        f"in-step recording matched only {total - unmatched} of the {total} training items of "
        f"{steps} to dataset rows, so the store would stay partly empty: {cause}. {fix}; "
        f"or pass in_step_options={{{PARTIAL_OPTION!r}: True}} to record the rows that match "
        "and leave the others empty."
    )
