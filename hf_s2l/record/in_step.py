"""In-step recording: every example's loss taken from the training forward itself.


:class:`InStepRecorder` is a ``TrainerCallback`` (used alone, or created by
``TrajectoryCallback(..., mode="in_step" | "both")`` which forwards every event to it). It
writes a :class:`~hf_s2l.TrajectoryStore` (``mode="in_step"``) with one column per epoch
(kind ``"epoch"``): cell ``(i, e)`` is the loss of dataset row ``i`` in the training forward
that saw it during epoch ``e``, and ``cell_steps[i, e]`` the global step of that forward, i.e.
the loss under the weights after that many optimizer updates.

The recorder is three one-concept parts: this module (the ``TrainerCallback``: set-up,
events, pause/resume), :mod:`hf_s2l.record.in_step_capture` (the forward hook and the
per-token loss paths), :mod:`hf_s2l.record.in_step_writer` (content keys -> dataset rows ->
store cells, across processes) and :mod:`hf_s2l.record.in_step_hash` (the content keys). Its
Trainer (for the raw dataset's fingerprint and the labels tap) comes from
:meth:`InStepRecorder.set_trainer` (``TrajectoryCallback.set_trainer`` and
:func:`hf_s2l.record.attach` call it), else from the call stack
(:func:`hf_s2l.record.run.find_trainer`, warned once).

At ``on_epoch_end`` the epoch's column is marked complete when every row was seen, otherwise a
warning gives the count (e.g. ``max_steps`` cut the epoch). Resuming from a checkpoint at step
``g`` clears the cells measured at steps ``>= g`` (they are measured again) and continues the
columns.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback
from transformers.utils import logging

from ..compat import in_step_refusal
from ..store import TrajectoryStore
from ..store.caveats import CAVEATS_KEY
from . import _dist
from .in_step_capture import InStepCapture
from .in_step_hash import ContentTable, dataset_keys
from .in_step_inputs import check_in_step_rows, unmatched_message
from .in_step_writer import InStepWriter, _Pending
from .label_layout import label_layout, shifts
from .losses import IGNORE_INDEX
from .probe import is_encoder_decoder, unwrap_collator, unwrap_model
from .recorders import check_recorders
from .run import dataset_identity, find_trainer, open_run_store
from .self_check import FirstBatchCheck
from .stacks import InStepError, LabelTap, check_rows_are_examples, combine_keys
from .train_mode import caveat_warning, training_mode_caveats

logger = logging.get_logger(__name__)

LOSS_DEFINITION = (
    "in-step: mean token cross-entropy over the example's target tokens (labels != -100, "
    "shifted for causal LMs) in the training forward that saw it (train mode, weights after "
    "cell_steps[i, e] optimizer steps)"
)


class InStepRecorder(InStepCapture, InStepWriter, TrainerCallback):
    """Record every example's loss from the training forward itself (no extra pass).

    Args:
        output_dir: the in-step store's directory (created by rank 0; an existing in-step
            store of the same dataset is continued).
        pad_token_id: padding id stripped from both ends of every sequence before keying
            (default: the collator's / processing class's / model config's pad token).
        fast_path: read the token log-probs saved by the model's own cross-entropy (checked
            once against the slow path) instead of recomputing them from the logits.
        chunk_tokens: tokens per float32 chunk of the slow path (bounds its extra memory).
        materialize_every: collect device results to the CPU every this many steps.
        flush_every_steps: also write to the store every this many steps (default: at
            epoch end, checkpoint save and train end only).
        overwrite: let a fresh run (from step 0) replace the store in ``output_dir`` (an
            earlier run's, or one of another dataset); without it that is an error.
        allow_partial_match: when only some of the first step's training items match a
            dataset row (a collator that truncates some of them), record the rows that match
            and leave the others empty instead of stopping at step 1 (none matching always
            stops).

    Example:
        >>> trainer = Trainer(model, args, train_dataset=ds, data_collator=collator,
        ...                   callbacks=[InStepRecorder("runs/in_step")])
        >>> trainer.train()
        >>> TrajectoryStore.open("runs/in_step").losses.shape  # (len(ds), epochs)
    """

    def __init__(
        self,
        output_dir: str | Path,
        *,
        pad_token_id: int | None = None,
        fast_path: bool = True,
        chunk_tokens: int = 8192,
        materialize_every: int = 16,
        flush_every_steps: int | None = None,
        overwrite: bool = False,
        allow_partial_match: bool = False,
    ) -> None:
        self.output_dir = Path(output_dir)
        self.allow_partial_match = bool(allow_partial_match)
        self.pad_token_id = pad_token_id
        self.fast_path = fast_path
        self.chunk_tokens = int(chunk_tokens)
        self.materialize_every = max(1, int(materialize_every))
        self.flush_every_steps = flush_every_steps
        self.overwrite = overwrite
        self.store: TrajectoryStore | None = None
        self.table: ContentTable | None = None
        self.stats: dict[str, int] = {"forwards": 0, "items": 0, "unmatched": 0, "dropped": 0}
        self._handle: Any = None
        self._model: torch.nn.Module | None = None
        self._state: Any = None
        self._rank = 0
        self._writers: _dist.Writers | None = None
        self._epoch = 0
        self._active = False
        self._shift = True
        self._pad: int | None = None
        self._last_step = -1
        self._micro = 0
        self._fast_checked = False
        self._pending: list[_Pending] = []
        self._records: list[dict[str, np.ndarray]] = []
        self._columns: dict[int, tuple[int, np.ndarray]] = {}  # epoch -> (column, taken)
        self._warned: set[str] = set()
        self.error: str | None = None
        self._example_ids: np.ndarray | None = None
        self._tap = LabelTap()
        self._key_labels = False
        self._metadata: dict[str, np.ndarray] = {}
        self.trainer: Any = None
        self._check: FirstBatchCheck | None = None  # the self-check of the first forward
        # (items, unmatched) flushed since the last check; the step of that check
        self._match_stats: tuple[int, int] | None = None
        self._match_checked = False
        self._checked_step = 0
        self._checks = 0  # match checks done in this training
        self.caveats: list[dict[str, str]] = []

    def set_trainer(self, trainer: Any) -> None:
        """Tell the recorder its Trainer explicitly (otherwise found on the call stack)."""
        self.trainer = trainer

    def store_folders(self) -> list[Path]:
        """The store folder this recorder writes (one recorder per folder: ``recorders.py``)."""
        return [self.output_dir]

    def set_columns(self, example_ids: Any, metadata: dict[str, Any]) -> None:
        """Example ids and metadata columns to save with the store (as a probe store does)."""
        self._example_ids = None if example_ids is None else np.asarray(example_ids)
        self._metadata = dict(metadata)

    # ------------------------------------------------------------------ events
    def on_train_begin(self, args, state, control, **kwargs):
        check_recorders(find_trainer(self))  # one recorder per store folder, before any step
        model = kwargs.get("model")
        loader = kwargs.get("train_dataloader")
        if model is None or loader is None:
            raise ValueError("InStepRecorder needs the model and train_dataloader (Trainer events)")
        dataset = loader.dataset
        try:
            n = len(dataset)
        except TypeError:
            raise ValueError(
                "in-step recording needs a map-style training dataset (with a length; its rows "
                f"are the store's rows); got {type(dataset).__name__}. Convert a streaming "
                "IterableDataset first, e.g. datasets.Dataset.from_list(list(stream.take(n)))"
            ) from None
        check_rows_are_examples(args, loader.collate_fn, "in-step")
        # a TRL version, or flattening on a transformers version, that cannot be recorded
        if refusal := in_step_refusal(
            args, unwrap_collator(loader.collate_fn), unwrap_model(model)
        ):
            raise InStepError(refusal)
        trainer = find_trainer(self)
        check_in_step_rows(dataset, loader.collate_fn, trainer)
        base = unwrap_model(model)
        layout = label_layout(base)  # refuses heads without a per-example cross-entropy
        self._check = FirstBatchCheck(
            layout,
            f"{type(trainer).__name__ if trainer is not None else 'Trainer'} with "
            f"{type(base).__name__}",
        )
        self._match_stats, self._match_checked = None, False
        self._checked_step, self._checks = int(state.global_step), 0  # a resume starts later
        self._state = state
        self._rank = int(getattr(args, "process_index", 0))
        self._writers = _dist.Writers.from_args(args)
        self._shift = shifts(layout)
        self.caveats = training_mode_caveats(
            model, args, trainer, loader.collate_fn, kwargs.get("processing_class")
        )
        if self._writers.is_main:
            for caveat in self.caveats:
                logger.warning(caveat_warning(caveat))
        self._pad = self.pad_token_id
        if self._pad is None:
            for holder in (unwrap_collator(loader.collate_fn), kwargs.get("processing_class")):
                tok = getattr(holder, "tokenizer", holder)
                pad = getattr(tok, "pad_token_id", None)
                if isinstance(pad, int):
                    self._pad = pad
                    break
            else:
                pad = getattr(getattr(unwrap_model(model), "config", None), "pad_token_id", None)
                self._pad = pad if isinstance(pad, int) else None
        self._epoch = int(math.floor(float(state.epoch or 0.0) + 1e-6))
        config = getattr(unwrap_model(model), "config", None)
        self.store = None
        self.table = None

        def setup() -> bool:
            t0 = time.time()
            keys = dataset_keys(dataset, self._pad)
            if self._key_labels:
                keys = combine_keys(keys, dataset_keys(dataset, IGNORE_INDEX, column="labels"))
            self.table = ContentTable(*keys)
            store = self._open_store(args, n, int(state.global_step), dataset, config)
            self._continue(store, int(state.global_step))
            if self._example_ids is not None and store.example_ids is None:
                store.set_example_ids(self._example_ids)
            for name, values in self._metadata.items():
                store.set_metadata(name, values)
            store.update_extra(**{CAVEATS_KEY: self.caveats})
            self.store = store
            dup = int((self.table.group_size > 1).sum())
            logger.info(
                f"in-step recording into {self.output_dir}: {n} examples keyed in "
                f"{time.time() - t0:.2f}s ({dup} duplicated contents)"
            )
            if len(self.table.unkeyed):
                logger.warning(
                    f"{len(self.table.unkeyed)} training examples have no tokens; they cannot be "
                    "recorded in-step"
                )
            return True

        # Encoder-decoder rows sharing their input (findings) differ by their labels
        # (impression): key them by both.
        self._key_labels = is_encoder_decoder(model) and "labels" in (
            getattr(dataset, "column_names", None) or []
        )
        self._writers.run(setup)  # non-writers never touch the store folder
        self._tap.install(find_trainer(self))
        self._model = model
        self._active = True
        self.resume()

    @property
    def _is_writer(self) -> bool:
        return self._writers is not None and self._writers.is_writer

    def _open_store(
        self, args: Any, n: int, global_step: int, dataset: Any, config: Any
    ) -> TrajectoryStore:
        """Create (or continue) the store; a fresh run replaces one only with ``overwrite``."""
        _, fingerprint = dataset_identity(find_trainer(self), dataset, content_keys=self.table)
        kwargs: dict[str, Any] = dict(
            dataset_fingerprint=fingerprint,
            model_name_or_path=getattr(config, "_name_or_path", None) or None,
            model_revision=getattr(config, "_commit_hash", None),
            mode="in_step",
            loss_definition=LOSS_DEFINITION,
            track_cell_steps=True,
        )

        def validate(store: TrajectoryStore) -> None:
            if store.cell_steps is None:
                raise ValueError(
                    f"{self.output_dir} holds a store without per-cell steps (not in-step)"
                )

        return open_run_store(
            self.output_dir,
            n,
            kwargs,
            fresh=global_step == 0,
            overwrite=self.overwrite,
            args=args,
            is_recorded=lambda store: bool((np.asarray(store.cell_steps) >= 0).any()),
            validate=validate,
            label="in-step trajectory store",
        )

    def pause(self) -> None:
        """Stop recording (the forward hook is removed) until :meth:`resume`."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def resume(self) -> None:
        """(Re-)attach the forward hook to the training model."""
        if self._handle is None and self._model is not None and self._active:
            # Never traced by dynamo (torch_compile=True): the hook runs eagerly after the
            # compiled forward (one graph break at its end) instead of being compiled into it,
            # which split the graph and recompiled on the recorder's changing step counters.
            hook = torch.compiler.disable(self._hook, recursive=True)
            self._handle = self._model.register_forward_hook(hook, with_kwargs=True)

    def on_step_end(self, args, state, control, **kwargs):
        if not self._active:
            return
        if not self._match_checked and (self._pending or self._records):
            # Step 1: every item must map to a dataset row, else stop now with the cause
            # (not an empty store at the end of training).
            self._match_checked = True
            self._flush_checked(args, int(state.global_step))
        if len(self._pending) and state.global_step % self.materialize_every == 0:
            self._materialize()
        if getattr(control, "should_save", False) or (
            self.flush_every_steps and state.global_step % self.flush_every_steps == 0
        ):
            # A checkpoint follows this event: the store must hold every cell it covers
            # before the checkpoint exists (a crash right after it must lose nothing).
            self._flush_checked(args, int(state.global_step))

    def on_epoch_end(self, args, state, control, **kwargs):
        if not self._active:
            return
        self._flush_checked(args, int(state.global_step))
        if self._is_writer and self._epoch in self._columns:
            self._finish_column(self._epoch, int(state.global_step))
        self._epoch += 1

    def _flush_checked(self, args: Any, step: int) -> None:
        """Flush, then stop (every rank) if the flushed items did not all match dataset rows:
        at step 1, and at every later flush (a collator that cuts only long rows may first
        meet one after step 1), unless ``allow_partial_match``."""
        self._flush(args)
        try:
            assert self._writers is not None
            self._writers.run(lambda: self._check_matched(step))
        except Exception:
            self._stop()
            raise

    def _check_matched(self, step: int) -> None:
        total, bad = self._match_stats or (0, 0)
        first, self._checked_step = self._checked_step, step
        self._checks += 1
        self._match_stats = None  # counted afresh until the next check
        msg = unmatched_message(total, bad, step, first_step=first + 1)
        nothing = bad == total and self._checks == 1  # the first step matched nothing
        if msg is not None and (nothing or not self.allow_partial_match):
            raise InStepError(msg)

    def _stop(self) -> None:
        """Stop recording for good (an error is on its way): hook off, labels tap off, the
        store's writer lock released."""
        self._active = False
        self.pause()
        self._tap.remove()
        if self.store is not None:
            self.store.close()

    def on_save(self, args, state, control, **kwargs):
        if self._active:
            self._flush(args)

    def on_train_end(self, args, state, control, **kwargs):
        if not self._active:
            return
        self._flush_checked(args, int(state.global_step))
        self.pause()
        self._tap.remove()
        self._active = False
        self._model = None
        if self.store is not None:
            self.store.close()  # release the writer lock
        if self.stats["unmatched"]:
            logger.warning(
                f"in-step recording: {self.stats['unmatched']} training items matched no dataset "
                "row (did the collator truncate or re-tokenise them?)"
            )
