"""What both recorders share about the run: its Trainer, its dataset's identity, its store.

* :func:`find_trainer` — the ``Trainer`` a recorder works for. Explicit wiring first
  (``TrajectoryCallback.set_trainer`` / ``InStepRecorder.set_trainer`` /
  :func:`hf_s2l.record.attach`); only without it the call stack is walked to the Trainer
  whose callbacks hold the recorder (``TrainerCallback`` events never receive the Trainer),
  with one warning per process saying how to wire it explicitly.
* :func:`dataset_identity` — the raw training dataset and the fingerprint stored with the
  store (one rule for the probe and the in-step recorder).
* :func:`open_run_store` — create or continue the run's store; a fresh run replaces a store of
  another dataset, or one already recorded, only with ``overwrite``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from transformers.utils import logging

from ..store import StoreMismatchError, TrajectoryStore

logger = logging.get_logger(__name__)

FALLBACK_WARNING = (
    "hf_s2l found its Trainer by walking the call stack; wire it explicitly with "
    "hf_s2l.attach(trainer) after building the Trainer"
)


_warned: set[str] = set()  # the fallback warning is given once per process


def holds(trainer: Any, recorder: Any) -> bool:
    """Whether ``trainer``'s callbacks hold ``recorder`` (directly or as a callback's in-step
    recorder)."""
    callbacks = getattr(getattr(trainer, "callback_handler", None), "callbacks", None)
    if callbacks is None:
        return False
    return any(
        cb is recorder or getattr(cb, "in_step_recorder", None) is recorder for cb in callbacks
    )


def trainer_on_stack(recorder: Any) -> Any:
    """The ``Trainer`` on the call stack whose callbacks hold ``recorder`` (the one running the
    event being handled), else ``None``."""
    try:
        from transformers import Trainer
    except ImportError:  # pragma: no cover
        return None
    frame = sys._getframe(1)
    while frame is not None:
        obj = frame.f_locals.get("self")
        if isinstance(obj, Trainer) and holds(obj, recorder):
            return obj
        frame = frame.f_back
    return None


def find_trainer(recorder: Any) -> Any:
    """The ``Trainer`` of ``recorder``: ``recorder.trainer`` if set (and holding it), else the
    one on the call stack (warned once; then wired with ``recorder.set_trainer``), else ``None``.
    """
    explicit = getattr(recorder, "trainer", None)
    if explicit is not None and (
        getattr(explicit, "callback_handler", None) is None or holds(explicit, recorder)
    ):
        return explicit
    found = trainer_on_stack(recorder)
    if found is not None:
        if "fallback" not in _warned:
            _warned.add("fallback")
            logger.warning(FALLBACK_WARNING)
        setter = getattr(recorder, "set_trainer", None)
        if callable(setter):
            setter(found)
    return found


def content_fingerprint(table: Any) -> str:
    """An order-independent fingerprint of a ``ContentTable`` (the rows' content keys)."""
    h = hashlib.sha256()
    for part in (
        np.array([table.num_rows]),
        table.rows,
        table.group_h1,
        table.group_h2,
        table.group_size,
    ):
        h.update(np.ascontiguousarray(part).tobytes())
    return "content-" + h.hexdigest()[:16]


def raw_dataset(trainer: Any, loader_dataset: Any) -> Any:
    """The dataset the user gave the Trainer when it has the dataloader's rows, else the
    dataloader's (``remove_unused_columns`` drops ``example_id`` / metadata columns)."""
    raw = getattr(trainer, "train_dataset", None) if trainer is not None else None
    if (
        raw is None
        or not hasattr(raw, "__len__")
        or (hasattr(loader_dataset, "__len__") and len(raw) != len(loader_dataset))
    ):
        return loader_dataset
    return raw


def dataset_identity(
    trainer: Any, loader_dataset: Any, content_keys: Any = None
) -> tuple[Any, str | None]:
    """``(raw dataset, fingerprint)`` of the training data, one rule for both recorders.

    ``loader.dataset`` is the Trainer's copy after ``remove_unused_columns``, which drops
    columns in set order, so its ``_fingerprint`` changes with ``PYTHONHASHSEED`` (a resume in a
    new process would not match). Hence, in order: the ``_fingerprint`` of the Trainer's
    ``train_dataset`` when it has the dataloader's length; without a Trainer and with
    ``content_keys`` (the in-step recorder's ``ContentTable``), a content fingerprint
    ``"content-…"``; else the dataloader dataset's ``_fingerprint``. The probe passes no content
    keys, so its stores keep the fingerprints they always had (a resumed probe store must match).
    """
    raw = raw_dataset(trainer, loader_dataset)
    if raw is not loader_dataset:
        fp = getattr(raw, "_fingerprint", None)
        if fp is not None:
            return raw, fp
    if trainer is None and content_keys is not None:
        return raw, content_fingerprint(content_keys)
    return raw, getattr(loader_dataset, "_fingerprint", None)


def recorded_store_message(output_dir: Path, args: Any) -> str:
    """Why a fresh run cannot write into a recorded store, and what works instead."""
    from transformers.trainer_utils import get_last_checkpoint

    run_dir = getattr(args, "output_dir", None)
    checkpoint = None
    if run_dir and Path(run_dir).is_dir():
        checkpoint = get_last_checkpoint(run_dir)
    head = (
        f"{output_dir} holds a trajectory store with columns recorded by an earlier run, but "
        "this training starts at step 0. "
    )
    if checkpoint is not None:
        return head + (
            f"To continue that run, resume it: trainer.train(resume_from_checkpoint=True) (last "
            f"checkpoint: {checkpoint}). To start over, pass TrajectoryCallback(..., "
            "overwrite=True) (the recorded columns are deleted) or choose another output_dir."
        )
    return head + (
        f"The earlier run left no checkpoint in {run_dir}, so it cannot be resumed: pass "
        "TrajectoryCallback(..., overwrite=True) to record the store again from step 0 (the "
        "recorded columns are deleted), or choose another output_dir."
    )


def open_run_store(
    output_dir: Path,
    n: int,
    create_kwargs: dict[str, Any],
    *,
    fresh: bool,
    overwrite: bool,
    args: Any,
    is_recorded: Callable[[TrajectoryStore], bool],
    validate: Callable[[TrajectoryStore], None] | None = None,
    overwrite_hint: str = "overwrite=True",
    label: str = "trajectory store",
) -> TrajectoryStore:
    """Create (or continue) the store in ``output_dir`` for a run over ``n`` examples.

    A resumed run (``fresh=False``) must find its own store (a mismatch is raised). A fresh
    run replaces a store of another dataset or size, or one where ``is_recorded(store)``, only
    with ``overwrite`` (warned); otherwise it raises ``StoreMismatchError`` /
    ``FileExistsError`` with the way out. ``validate(store)`` may refuse the store (it is
    closed first).
    """
    try:
        store = TrajectoryStore.create(output_dir, n, exist_ok=True, **create_kwargs)
    except StoreMismatchError as e:
        if not fresh:
            raise
        if not overwrite:
            raise StoreMismatchError(f"{e}, or pass {overwrite_hint} to replace it") from None
        logger.warning(f"replacing the trajectory store of another dataset in {output_dir}")
        return TrajectoryStore.create(output_dir, n, replace=True, **create_kwargs)
    if validate is not None:
        try:
            validate(store)
        except Exception:
            store.close()
            raise
    if fresh and is_recorded(store):
        if not overwrite:
            store.close()
            raise FileExistsError(recorded_store_message(output_dir, args))
        logger.warning(f"overwriting the {label} in {output_dir}")
        old, store = store, TrajectoryStore.create(output_dir, n, replace=True, **create_kwargs)
        old.close()
    return store
