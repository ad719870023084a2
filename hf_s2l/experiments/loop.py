"""The proxy → select → target loop shared by the demo, the recipes and the benchmark.

Each step is one small function so the three drivers differ only where their protocols do:

1. :func:`drop_rows_without_target` — the one "has a target token" rule
   (:func:`hf_s2l.record.losses.has_target`, the rule the recorders score by);
2. :func:`record_proxy` — train the proxy with a :class:`~hf_s2l.TrajectoryCallback`;
3. :func:`select_all` — one :func:`hf_s2l.select` per method; a failing method is reported,
   the others still run;
4. :func:`target_dataset` — the target's training set, always through
   :class:`~hf_s2l.SelectedDataset` (the id / fingerprint alignment of the selection);
5. :func:`train_model` — a Trainer run with quiet logs (with :func:`cpu_training_args`, the
   one set of CPU training arguments); :func:`answer_token_loss` evaluates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from transformers.utils import logging

from ..compat import sampling_kwargs, warmup_kwargs
from ..record.losses import has_target
from .heldout import answer_token_loss
from .quiet import quiet_trainer

logger = logging.get_logger(__name__)

__all__ = [
    "answer_token_loss",
    "cpu_training_args",
    "drop_rows_without_target",
    "has_target",
    "record_proxy",
    "select_all",
    "target_dataset",
    "train_model",
]

IGNORE_INDEX = -100


def drop_rows_without_target(dataset: Any, *, shift: bool = True) -> tuple[Any, list[bool]]:
    """``(dataset without the rows that have no target token, keep mask)``: such rows (a
    prompt filling ``max_length``) give no loss and no gradient."""
    keep = [has_target(lab, shift=shift) for lab in dataset["labels"]]
    if not all(keep):
        dataset = dataset.select([i for i, k in enumerate(keep) if k])
    return dataset, keep


def cpu_training_args(
    output_dir: str | Path,
    *,
    epochs: float,
    batch_size: int,
    learning_rate: float,
    scheduler: str,
    warmup_ratio: float,
    seed: int,
    progress_bars: bool = False,
) -> Any:
    """The ``TrainingArguments`` of every proxy and target run of the demo and the benchmark.

    On CPU; no weight decay; ``seed`` seeds the data order too; a warm-up over
    ``warmup_ratio`` of the steps; length-grouped batches (less padding: ~1.5x faster on CPU);
    nothing saved, logged or reported; progress bars only if ``progress_bars``.
    """
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        lr_scheduler_type=scheduler,
        **warmup_kwargs(warmup_ratio),
        weight_decay=0.0,
        seed=seed,
        data_seed=seed,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=not progress_bars,
        dataloader_num_workers=0,
        **sampling_kwargs("group_by_length"),
    )


def train_model(
    model: Any,
    args: Any,
    dataset: Any,
    collator: Any,
    callbacks: Sequence[Any] = (),
) -> float:
    """Train ``model`` on ``dataset`` (progress bars without the raw log dicts); seconds.

    Every :class:`~hf_s2l.TrajectoryCallback` in ``callbacks`` is added after the Trainer is
    built, with :func:`hf_s2l.attach` (wired explicitly: no Trainer is looked up on the call
    stack); the other callbacks go to the Trainer as given.
    """
    from transformers import Trainer

    from ..record import TrajectoryCallback, attach

    t0 = time.perf_counter()
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
        callbacks=[cb for cb in callbacks if not isinstance(cb, TrajectoryCallback)] or None,
    )
    for callback in callbacks:
        if isinstance(callback, TrajectoryCallback):
            attach(trainer, callback)
    quiet_trainer(trainer).train()
    return time.perf_counter() - t0


def record_proxy(
    model: Any,
    args: Any,
    dataset: Any,
    collator: Any,
    store_dir: str | Path,
    **callback_kwargs: Any,
) -> tuple[Any, float]:
    """Train the proxy with a :class:`~hf_s2l.TrajectoryCallback` writing to ``store_dir``;
    ``(the opened TrajectoryStore, training seconds)``."""
    from ..record import TrajectoryCallback
    from ..store import TrajectoryStore

    callback = TrajectoryCallback(store_dir, **callback_kwargs)
    seconds = train_model(model, args, dataset, collator, [callback])
    return TrajectoryStore.open(store_dir), seconds


def select_all(
    store: Any,
    methods: Mapping[str, tuple[str, dict[str, Any]]],
    budget: int | float,
    *,
    seed: int = 0,
    save_dir: str | Path | None = None,
    on_error: Callable[[str, Exception], None] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """One :func:`hf_s2l.select` per ``{name: (registered method, kwargs)}``;
    ``(selections, failures)``. A method raising ``ValueError`` (e.g. too few scored rows)
    lands in ``failures`` and the others still run. Saved under ``save_dir/<name>``."""
    from ..selection import select

    selections: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for name, (registered, kwargs) in methods.items():
        try:
            sel = select(store, registered, budget, seed=seed, **kwargs)
        except ValueError as e:
            logger.warning("selection with %s failed: %s", name, e)
            if on_error is not None:
                on_error(name, e)
            failures[name] = str(e)
            continue
        if save_dir is not None:
            sel.save(Path(save_dir) / name)
        selections[name] = sel
    return selections, failures


def target_dataset(
    dataset: Any,
    selection: Any | None,
    *,
    id_column: str | None = None,
    verify: bool = True,
) -> Any:
    """The target's training set: ``dataset`` itself for the full-data run
    (``selection=None``), else ``SelectedDataset(dataset, selection, …)`` — the rows the
    selection picked, aligned by ``id_column`` or by position (fingerprint-checked unless
    ``verify=False``)."""
    if selection is None:
        return dataset
    from ..data import SelectedDataset

    return SelectedDataset(dataset, selection, id_column=id_column, verify=verify)
