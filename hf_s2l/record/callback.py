"""``TrajectoryCallback``: one Trainer callback that records per-example loss trajectories.

The callback holds the options and routes the Trainer events: the probe recording
(:class:`~hf_s2l.record.probe_recorder.ProbeRecorder`, mixed in) and, in modes ``"in_step"`` /
``"both"``, every event forwarded to an
:class:`~hf_s2l.record.in_step.InStepRecorder`.

Finding the Trainer: ``TrainerCallback`` events receive the model, the training dataloader
and the processing class, but not the Trainer itself. Wire it explicitly with
:func:`hf_s2l.record.attach` (or :meth:`TrajectoryCallback.set_trainer`, which reaches the
in-step recorder too); a plain ``callbacks=[TrajectoryCallback(...)]`` still works: the
Trainer whose callback handler holds the callback is then found on the call stack (with one
warning, :func:`hf_s2l.record.run.find_trainer`). The Trainer gives the raw training dataset
(its fingerprint, an ``example_id`` column and ``metadata_columns`` that
``remove_unused_columns`` drops before the dataloader) and the ``Trainer.log`` the column
summaries go through (``probe/mean_loss``, ``probe/nan_count``, ``probe/seconds``).

Distributed (torchrun / accelerate launch; DDP, FSDP, DeepSpeed ZeRO-3; one or several
nodes): see :mod:`hf_s2l.record.probe_recorder` and ``docs/recording.md``. Resume
(``trainer.train(resume_from_checkpoint=...)``): the store is reopened (a store of another
dataset is an error); complete columns up to the checkpoint's step are kept, columns after it
are reset and recorded again when training reaches their step; nothing is duplicated.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.utils import logging

from ..store.schema import check_metadata_name
from .probe import ProbeError, check_map_style
from .probe_recorder import ProbeRecorder
from .recorders import check_recorders, claim_folders, release_folders
from .run import find_trainer, raw_dataset, recorded_store_message, trainer_on_stack
from .run_info import check_unique_ids, plain, raw_columns
from .schedule import RecordingSchedule
from .stacks import check_rows_are_examples

logger = logging.get_logger(__name__)

# Old private names, kept importable from here (tests/store/test_jsonable.py and others).
_plain = plain
_recorded_store_message = recorded_store_message
__all__ = ["MODES", "TrajectoryCallback", "check_unique_ids"]

MODES = ("probe", "in_step", "both")

logger = logging.get_logger(__name__)

MODES = ("probe", "in_step", "both")

_EVENTS = (
    "on_init_end",
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_step_begin",
    "on_substep_end",
    "on_step_end",
    "on_pre_optimizer_step",
    "on_optimizer_step",
    "on_evaluate",
    "on_save",
    "on_log",
    "on_prediction_step",
)


class TrajectoryCallback(ProbeRecorder, TrainerCallback):
    """Record an ``N x T`` matrix of per-example losses while a ``Trainer`` trains.

    Args:
        output_dir: directory of the :class:`~hf_s2l.TrajectoryStore` (created; reopened
            when training resumes).
        schedule: a :class:`RecordingSchedule`; or give its fields as keyword arguments
            (``num_points=12``, ``at_epoch_end=True``, ``every_n_steps=100``...).
        batch_size: batch size of the probe pass (independent of the training batch size).
        mode: ``"probe"`` (default), ``"in_step"`` (losses of the training forward passes,
            recorded by ``hf_s2l.record.in_step.InStepRecorder``; no probe columns) or
            ``"both"`` (the in-step store goes to ``output_dir/in_step``).
        id_column: dataset column of stable example ids saved with the store when present
            (see ``hf_s2l.add_example_ids``).
        metadata_columns: per-example string columns of the training dataset (e.g.
            ``("source",)``) saved as store metadata.
        overwrite: let a fresh run (training from step 0, not resumed) replace the trajectory
            store in ``output_dir``, whatever it holds: columns of an earlier run, or a store of
            another dataset or size. Without it, such a store is an error. A resumed run never
            replaces its store, and a directory that is not a trajectory store is never deleted.
        write_every: write the column to disk every this many probe batches.
        log_to_trainer: log each column's summary through ``trainer.log``.
        in_step_options: keyword arguments for the in-step recorder.

    Example:
        >>> trainer = Trainer(model, args, train_dataset=ds, data_collator=collator,
        ...                   callbacks=[TrajectoryCallback("traj", num_points=12, batch_size=64)])
        >>> trainer.train()
        >>> TrajectoryStore.open("traj").losses.shape  # (len(ds), 13)
    """

    def __init__(
        self,
        output_dir: str | Path,
        schedule: RecordingSchedule | None = None,
        *,
        batch_size: int = 32,
        mode: str = "probe",
        id_column: str | None = "example_id",
        metadata_columns: tuple[str, ...] | list[str] = (),
        overwrite: bool = False,
        write_every: int = 32,
        log_to_trainer: bool = True,
        in_step_options: dict[str, Any] | None = None,
        **schedule_kwargs: Any,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if schedule is not None and schedule_kwargs:
            raise TypeError("pass either schedule=RecordingSchedule(...) or its fields, not both")
        fields = {f.name for f in dataclasses.fields(RecordingSchedule)}
        unknown = set(schedule_kwargs) - fields
        if unknown:
            raise TypeError(
                f"unknown TrajectoryCallback option(s) {sorted(unknown)}; schedule fields are {sorted(fields)}"
            )
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.output_dir = Path(output_dir)
        self.schedule = schedule if schedule is not None else RecordingSchedule(**schedule_kwargs)
        self.batch_size = batch_size
        self.mode = mode
        self.id_column = id_column
        self.metadata_columns = tuple(check_metadata_name(c) for c in metadata_columns)
        self.overwrite = overwrite
        self.write_every = max(1, int(write_every))
        self.log_to_trainer = log_to_trainer
        self.trainer: Any = None
        self._init_probe()
        self._in_step: Any = None
        if mode in ("in_step", "both"):
            from .in_step import InStepRecorder

            in_dir = self.output_dir / "in_step" if mode == "both" else self.output_dir
            options = dict(in_step_options or {})
            if overwrite:
                options.setdefault("overwrite", True)
            self._in_step = InStepRecorder(in_dir, **options)

    @property
    def probing(self) -> bool:
        return self.mode in ("probe", "both")

    @property
    def in_step_recorder(self) -> Any:
        """The in-step recorder events are forwarded to (``None`` in probe mode)."""
        return self._in_step

    def set_trainer(self, trainer: Any) -> None:
        """Tell the callback (and its in-step recorder) its Trainer explicitly.

        Without it the Trainer is found on the call stack (warned once); see
        :func:`hf_s2l.record.attach`, which adds the callback and calls this.
        """
        self.trainer = trainer
        setter = getattr(self._in_step, "set_trainer", None)
        if callable(setter):
            setter(trainer)

    # ------------------------------------------------------------------ events
    def _forward(self, event: str, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self._in_step is None:
            return None
        return getattr(self._in_step, event)(args, state, control, **kwargs)

    def store_folders(self) -> list[Path]:
        """The store folders this callback writes (probe store, in-step store)."""
        folders = [self.output_dir] if self.probing else []
        if self._in_step is not None:
            folders.append(Path(self._in_step.output_dir))
        return folders

    def check_trainer(self, trainer: Any) -> None:
        """Refuse, before training, what would fail later: a second recorder of one store
        (:class:`~hf_s2l.record.recorders.RecorderConflictError`), an empty training set, or
        one the probe pass cannot score. Run at Trainer construction and by ``attach``."""
        if trainer is None:
            return
        check_recorders(trainer)
        dataset = getattr(trainer, "train_dataset", None)
        if dataset is None:
            return
        check_map_style(dataset, self.mode)  # streaming: refused in every mode
        try:
            empty = len(dataset) == 0
        except TypeError:  # no length (an iterable dataset): the Trainer checks max_steps
            empty = False
        if empty:
            # torch's sampler would stop first with "num_samples should be a positive integer"
            raise ProbeError(
                "the training dataset is empty (0 rows): nothing to train on nor to record. "
                "Give the Trainer a train_dataset with rows (check the filters and the split)"
            )

    def on_init_end(self, args, state, control, **kwargs):
        # Fail fast (at Trainer construction), before any step: the Trainer being built (this
        # callback may still be wired to an earlier Trainer that holds it too)
        self.check_trainer(trainer_on_stack(self) or find_trainer(self))
        return self._forward("on_init_end", args, state, control, **kwargs)

    def on_train_begin(self, args, state, control, **kwargs):
        trainer = find_trainer(self)
        # The Trainer that trains now: a callback given to a second Trainer (a notebook cell
        # that builds the Trainer re-run) records for that one, not with the first one's
        # dataset (ids, metadata) and logs
        trainer = trainer_on_stack(self) or trainer
        if trainer is not None:
            check_recorders(trainer)  # also callbacks added after the Trainer was built
        claim_folders(self, self.store_folders())  # before rewiring: another thread may use it
        try:
            if trainer is not None and trainer is not self.trainer:
                self.set_trainer(trainer)
            if self.probing:
                self._begin(args, state, kwargs)
            if hasattr(self._in_step, "set_columns"):
                # The in-step store carries the same ids and metadata as a probe store.
                loader = kwargs.get("train_dataloader")
                # What the run trains on is refused first (packed rows, a streaming dataset):
                # its own message, not one about a column the packing or streaming dropped.
                check_rows_are_examples(args, getattr(loader, "collate_fn", None), "in-step")
                check_map_style(getattr(loader, "dataset", None), self.mode)
                raw = raw_dataset(trainer, getattr(loader, "dataset", None))
                ids, metadata = raw_columns(raw, self.id_column, self.metadata_columns, trainer)
                self._in_step.set_columns(ids, metadata)
            return self._forward("on_train_begin", args, state, control, **kwargs)
        except BaseException:
            release_folders(self)
            raise

    def on_step_end(self, args, state, control, **kwargs):
        if self.probing and self._setup is not None:
            self._probe_step_end(args, state, kwargs["model"])
        return self._forward("on_step_end", args, state, control, **kwargs)

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.probing and self._setup is not None and self.schedule.at_epoch_end:
            self._probe_epoch_end(args, state, kwargs["model"])
        return self._forward("on_epoch_end", args, state, control, **kwargs)

    def on_train_end(self, args, state, control, **kwargs):
        try:
            if self.probing and self._setup is not None and self.store is not None:
                self._probe_train_end()
            return self._forward("on_train_end", args, state, control, **kwargs)
        finally:
            release_folders(self)


def _make_forwarder(event: str):
    def handler(self: TrajectoryCallback, args, state, control, **kwargs):
        return self._forward(event, args, state, control, **kwargs)

    handler.__name__ = event
    handler.__doc__ = "Forwarded to the in-step recorder (modes 'in_step' and 'both')."
    return handler


for _event in _EVENTS:
    if _event not in TrajectoryCallback.__dict__:
        setattr(TrajectoryCallback, _event, _make_forwarder(_event))
del _event
