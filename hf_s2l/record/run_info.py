"""What a probe store records about its run: provenance, example ids and metadata columns.

* :func:`provenance` — the ``extra["recorder"]`` dict (schedule, training arguments, model
  and collator classes, library versions);
* :func:`raw_columns` — the ``id_column`` and ``metadata_columns`` of the raw training
  dataset (both recorders save them with their store);
* :func:`check_unique_ids` — refuse an id column with repeated values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..compat import TRL_KEEPS_COLUMNS, sft_drops_columns
from ..store.jsonable import to_jsonable
from ..version import __version__
from .probe import unwrap_collator, unwrap_model

ARG_NAMES = (
    "seed",
    "learning_rate",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "world_size",
    "bf16",
    "fp16",
    "remove_unused_columns",
    "output_dir",
)


def plain(v: Any) -> Any:
    """``None``/bool/int/float/str as they are, anything else ``str`` (training arguments)."""
    return to_jsonable(v, recurse=False)


def provenance(
    recorder: Any, args: Any, state: Any, model: Any, trainer: Any, collate_fn: Any
) -> dict[str, Any]:
    """The run's description stored in ``extra["recorder"]`` of a probe store."""
    import transformers

    base = unwrap_model(model)
    return {
        "schedule": recorder.schedule.to_dict(),
        "point_steps": recorder.schedule.point_steps(int(state.max_steps or 0)),
        "batch_size": recorder.batch_size,
        "mode": recorder.mode,
        "max_steps": int(state.max_steps or 0),
        "resumed_from_step": int(state.global_step),
        "trainer": type(trainer).__name__ if trainer is not None else None,
        "model_class": type(base).__name__,
        "peft": type(model).__name__ if base is not model else None,
        "collator": type(unwrap_collator(collate_fn)).__name__,
        "training_args": {k: plain(getattr(args, k, None)) for k in ARG_NAMES},
        "versions": {
            "hf_s2l": __version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
    }


def raw_columns(
    raw: Any, id_column: str | None, metadata_columns: tuple[str, ...], trainer: Any = None
) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
    """``(example ids or None, {metadata name: strings})`` from the raw training dataset of
    ``trainer`` (named in the error when its TRL dropped the column)."""
    names = list(getattr(raw, "column_names", None) or [])
    ids = None
    if id_column and id_column in names:
        ids = np.asarray(raw[id_column])
        check_unique_ids(ids, id_column)
    metadata: dict[str, np.ndarray] = {}
    for name in metadata_columns:
        if name not in names and (trl := sft_drops_columns(trainer)):
            raise ValueError(
                f"metadata column {name!r} is not in the training dataset (columns: {names}): "
                f"the SFTTrainer of trl {trl} drops the dataset's other columns when it "
                f"tokenises (trl>={TRL_KEEPS_COLUMNS} keeps them). Install "
                f"trl>={TRL_KEEPS_COLUMNS}, or record without metadata_columns and give the "
                f"values to the selection: hf_s2l.select(store, ..., groups=dataset[{name!r}]) "
                "(without packing, the rows keep the dataset's order)"
            )
        if name not in names:
            raise ValueError(
                f"metadata column {name!r} is not in the training dataset (columns: {names}); "
                "it must be a column of trainer.train_dataset"
            )
        metadata[name] = np.asarray([str(v) for v in raw[name]])
    return ids, metadata


def check_unique_ids(ids: np.ndarray, column: str) -> None:
    """Refuse an id column with repeated values before anything is recorded."""
    values, counts = np.unique(np.asarray(ids).astype(str), return_counts=True)
    if (counts > 1).any():
        dup = values[counts > 1]
        raise ValueError(
            f"id_column {column!r} is not unique: {len(dup)} value(s) occur more than once "
            f"(e.g. {dup[0]!r} x{int(counts[counts > 1][0])}); ids must name one example each. "
            "Regenerate them with hf_s2l.add_example_ids(dataset) or pass id_column=None"
        )
