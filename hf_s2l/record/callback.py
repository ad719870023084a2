"""``TrajectoryCallback``: one Trainer callback that records per-example loss trajectories.

Probe mode: at each recording point of a :class:`RecordingSchedule` the callback runs a
no-grad forward of the current model over the WHOLE training set (its own length-sorted
batches, the Trainer's collator and mixed precision) and writes one column of a
:class:`~hf_s2l.TrajectoryStore`. Training is unaffected: the pass draws no random numbers
(all RNG states are restored), never touches the training dataloader, and puts every module
back in its previous train/eval mode.

Finding the Trainer: ``TrainerCallback`` events receive the model, the training dataloader
and the processing class, but not the Trainer itself. In ``on_train_begin`` the callback walks
up the call stack to the ``Trainer`` whose callback handler holds it (or use
:meth:`TrajectoryCallback.set_trainer`). It needs the Trainer for the raw training dataset
(its fingerprint, an ``example_id`` column and ``metadata_columns`` that
``remove_unused_columns`` drops before the dataloader) and to log each column's summary with
the base ``Trainer.log`` (not a subclass override,
which may flush the subclass's own training metrics) — so it reaches ``state.log_history``, the console and every reporting
integration (TensorBoard, W&B...) as ``probe/mean_loss``, ``probe/nan_count``,
``probe/seconds`` at the column's step. Without a Trainer the summary is appended to
``state.log_history`` and logged with the library logger.

Distributed (torchrun / accelerate launch; DDP, FSDP, DeepSpeed ZeRO-3; one or several
nodes): the length-sorted batches are dealt round-robin to the processes in lock-step rounds,
every process calling the model equally often (a padding batch, its results discarded, where
a process has run out: under FSDP / ZeRO-3 every forward is a collective). Under DeepSpeed
the probe calls the ``DeepSpeedEngine`` (``trainer.model_wrapped``); under FSDP the Trainer's
model already is the wrapped one. Every ``write_every`` rounds the processes send their rows
over the process group to the writer: the global main process alone (nodes need not share a
disk; other processes never touch the store folder), or, with
``TrainingArguments.save_on_each_node``, the local main process of each node, which writes
its own full copy. See ``docs/recording.md``.

Resume (``trainer.train(resume_from_checkpoint=...)``): the store is reopened (a store of
another dataset is an error); complete columns up to the checkpoint's step are kept, columns
after it (written by the interrupted run past its last checkpoint, or half-written) are
reset and recorded again when training reaches their step; nothing is duplicated.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback
from transformers.utils import logging

from ..store import StoreMismatchError, TrajectoryStore
from ..store.schema import check_metadata_name
from ..version import __version__
from . import _dist
from .probe import (
    ProbeError,
    ProbeForward,
    check_collator,
    check_map_style,
    eval_mode,
    forward_module,
    length_sorted_order,
    lockstep_batches,
    no_target_count,
    preserved_rng,
    probe_batches,
    unwrap_collator,
    unwrap_model,
)
from .schedule import RecordingSchedule, join_kinds

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


@dataclasses.dataclass
class _ProbeSetup:
    dataset: Any
    collate_fn: Any
    order: np.ndarray
    writers: _dist.Writers
    show_progress: bool
    bf16: bool
    fp16: bool


class TrajectoryCallback(TrainerCallback):
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
        self.store: TrajectoryStore | None = None
        self.trainer: Any = None
        self._setup: _ProbeSetup | None = None
        self._resume_step = 0
        self._fresh = True
        self._done: dict[int, str] = {}  # step -> kind recorded in this run
        self._warned_no_target = False
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
        """Tell the callback its Trainer explicitly (otherwise found from the call stack)."""
        self.trainer = trainer

    # ------------------------------------------------------------------ events
    def _forward(self, event: str, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self._in_step is None:
            return None
        return getattr(self._in_step, event)(args, state, control, **kwargs)

    def on_init_end(self, args, state, control, **kwargs):
        if self.probing:
            # Fail fast (at Trainer construction) on datasets the probe pass cannot score.
            trainer = self._locate_trainer(quiet=True)
            dataset = getattr(trainer, "train_dataset", None)
            if dataset is not None:
                check_map_style(dataset)
                if len(dataset) == 0:
                    raise ProbeError("the training dataset is empty: nothing to record")
        return self._forward("on_init_end", args, state, control, **kwargs)

    def on_train_begin(self, args, state, control, **kwargs):
        if self.probing:
            self._begin(args, state, kwargs)
        if hasattr(self._in_step, "set_columns"):
            # The in-step store carries the same ids and metadata as a probe store.
            loader = kwargs.get("train_dataloader")
            dataset = getattr(loader, "dataset", None)
            trainer = self._locate_trainer(quiet=True)
            raw = getattr(trainer, "train_dataset", None) if trainer is not None else None
            if (
                raw is None
                or not hasattr(raw, "__len__")
                or (hasattr(dataset, "__len__") and len(raw) != len(dataset))
            ):
                raw = dataset
            ids, metadata = self._raw_columns(raw)
            self._in_step.set_columns(ids, metadata)
        return self._forward("on_train_begin", args, state, control, **kwargs)

    def on_step_end(self, args, state, control, **kwargs):
        if self.probing and self._setup is not None:
            epoch_end = state.epoch is not None and float(state.epoch).is_integer()
            kinds = self.schedule.kinds_at_step(state.global_step, state.max_steps, epoch_end)
            if kinds:
                self._record(args, state, kwargs["model"], join_kinds(*kinds))
        return self._forward("on_step_end", args, state, control, **kwargs)

    def on_epoch_end(self, args, state, control, **kwargs):
        # An epoch that ended early (max_steps) is not caught in on_step_end.
        if self.probing and self._setup is not None and self.schedule.at_epoch_end:
            step = state.global_step
            if step not in self._done:
                self._record(args, state, kwargs["model"], "epoch_end")
            elif "epoch_end" not in self._done[step].split("+"):
                self._add_kind(step, "epoch_end")
        return self._forward("on_epoch_end", args, state, control, **kwargs)

    def on_train_end(self, args, state, control, **kwargs):
        if self.probing and self._setup is not None and self.store is not None:
            self.store.refresh()
            incomplete = [i for i, c in enumerate(self.store.columns) if not c["complete"]]
            if incomplete:
                logger.warning(
                    f"trajectory store {self.output_dir}: columns {incomplete} are incomplete "
                    "(interrupted before a checkpoint); selection ignores them"
                )
            self.store.close()  # release the writer lock
        return self._forward("on_train_end", args, state, control, **kwargs)

    # ------------------------------------------------------------------ setup
    def _locate_trainer(self, quiet: bool = False) -> Any:
        if self.trainer is not None and self in getattr(
            getattr(self.trainer, "callback_handler", None), "callbacks", [self]
        ):
            return self.trainer
        try:
            from transformers import Trainer
        except ImportError:  # pragma: no cover
            return None
        frame = sys._getframe(1)
        while frame is not None:
            obj = frame.f_locals.get("self")
            if isinstance(obj, Trainer) and self in getattr(obj.callback_handler, "callbacks", []):
                self.trainer = obj
                return obj
            frame = frame.f_back
        if quiet:
            return None
        logger.warning(
            "TrajectoryCallback could not find its Trainer on the call stack; column summaries go "
            "to state.log_history only and the dataset fingerprint comes from the dataloader"
        )
        return None

    def _begin(self, args: Any, state: Any, kwargs: dict[str, Any]) -> None:
        model = kwargs.get("model")
        loader = kwargs.get("train_dataloader")
        if model is None or loader is None:
            raise ProbeError(
                "TrajectoryCallback needs the model and train_dataloader (Trainer events)"
            )
        trainer = self._locate_trainer()
        dataset = getattr(loader, "dataset", None)
        check_map_style(dataset)
        raw = getattr(trainer, "train_dataset", None) if trainer is not None else None
        if raw is None or not hasattr(raw, "__len__") or len(raw) != len(dataset):
            raw = dataset
        n = len(dataset)
        if n == 0:
            raise ProbeError("the training dataset is empty: nothing to record")
        collate_fn = getattr(loader, "collate_fn", None)
        check_collator(collate_fn)

        writers = _dist.Writers.from_args(args)
        self._resume_step = int(state.global_step)
        self._fresh = self._resume_step == 0
        self._done = {}
        info = self._provenance(args, state, model, trainer, collate_fn)
        config = getattr(unwrap_model(model), "config", None)
        fingerprint = getattr(raw, "_fingerprint", None)
        ids, metadata = self._raw_columns(raw)

        create_kwargs: dict[str, Any] = dict(
            dataset_fingerprint=fingerprint,
            model_name_or_path=getattr(config, "_name_or_path", None) or None,
            model_revision=getattr(config, "_commit_hash", None),
            mode="probe",
            example_ids=ids,
            extra={"recorder": info},
        )

        def create() -> None:
            # The main process writes the store and holds its writer lock until train end.
            try:
                store = TrajectoryStore.create(self.output_dir, n, exist_ok=True, **create_kwargs)
            except StoreMismatchError as e:
                if not self._fresh:
                    raise
                if not self.overwrite:
                    raise StoreMismatchError(
                        f"{e}, or pass TrajectoryCallback(..., overwrite=True) to replace it"
                    ) from None
                logger.warning(
                    f"replacing the trajectory store of another dataset in {self.output_dir}"
                )
                store = TrajectoryStore.create(self.output_dir, n, replace=True, **create_kwargs)
            if self._fresh and any(c["complete"] and c["global_step"] > 0 for c in store.columns):
                if not self.overwrite:
                    store.close()
                    raise FileExistsError(_recorded_store_message(self.output_dir, args))
                logger.warning(f"overwriting the trajectory store in {self.output_dir}")
                old, store = (
                    store,
                    TrajectoryStore.create(self.output_dir, n, replace=True, **create_kwargs),
                )
                old.close()
            if ids is not None and store.example_ids is None:
                store.set_example_ids(ids)
            for name, values in metadata.items():
                store.set_metadata(name, values)
            store.update_extra(recorder=info)
            self.store = store

        self.store = None
        writers.run(create)  # non-writers never touch the store folder
        self._setup = _ProbeSetup(
            dataset=dataset,
            collate_fn=collate_fn,
            order=length_sorted_order(dataset),
            writers=writers,
            show_progress=writers.is_main and not getattr(args, "disable_tqdm", False),
            bf16=bool(getattr(args, "bf16", False)),
            fp16=bool(getattr(args, "fp16", False)),
        )
        if self._fresh:
            if self.schedule.at_train_begin:
                self._record(args, state, model, "train_begin")
        else:
            self._resume(args, state, model)

    def _resume(self, args: Any, state: Any, model: Any) -> None:
        """Keep complete columns up to the resumed step; redo an incomplete one at that step."""
        assert self._setup is not None
        step = self._resume_step

        def check() -> str | None:
            assert self.store is not None
            cols = self.store.columns
            lost = [c["global_step"] for c in cols if c["global_step"] < step and not c["complete"]]
            if lost:
                logger.warning(
                    f"trajectory store {self.output_dir}: columns at steps {lost} were interrupted "
                    f"before the checkpoint of step {step} and cannot be recorded again; they "
                    "stay incomplete"
                )
            logger.info(
                f"resuming trajectory recording at step {step}: "
                f"{sum(c['complete'] and c['global_step'] <= step for c in cols)} complete "
                "columns kept"
            )
            here = [c for c in cols if c["global_step"] == step]
            if here and not here[0]["complete"]:
                return here[0].get("kind") or "point"
            return None

        # Collective: every rank records the column if any writer's copy needs it.
        kind = _dist.first_not_none(self._setup.writers.run(check))
        if kind is not None:
            self._record(args, state, model, kind)

    def _raw_columns(self, raw: Any) -> tuple[Any, dict[str, Any]]:
        names = list(getattr(raw, "column_names", None) or [])
        ids = None
        if self.id_column and self.id_column in names:
            ids = np.asarray(raw[self.id_column])
            check_unique_ids(ids, self.id_column)
        metadata: dict[str, Any] = {}
        for name in self.metadata_columns:
            if name not in names:
                raise ValueError(
                    f"metadata column {name!r} is not in the training dataset (columns: {names}); "
                    "it must be a column of trainer.train_dataset"
                )
            metadata[name] = np.asarray([str(v) for v in raw[name]])
        return ids, metadata

    def _provenance(
        self, args: Any, state: Any, model: Any, trainer: Any, collate_fn: Any
    ) -> dict[str, Any]:
        base = unwrap_model(model)
        arg_names = (
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
        import transformers

        return {
            "schedule": self.schedule.to_dict(),
            "point_steps": self.schedule.point_steps(int(state.max_steps or 0)),
            "batch_size": self.batch_size,
            "mode": self.mode,
            "max_steps": int(state.max_steps or 0),
            "resumed_from_step": int(state.global_step),
            "trainer": type(trainer).__name__ if trainer is not None else None,
            "model_class": type(base).__name__,
            "peft": type(model).__name__ if base is not model else None,
            "collator": type(unwrap_collator(collate_fn)).__name__,
            "training_args": {k: _plain(getattr(args, k, None)) for k in arg_names},
            "versions": {
                "hf_s2l": __version__,
                "transformers": transformers.__version__,
                "torch": torch.__version__,
            },
        }

    # ------------------------------------------------------------------ recording
    def _add_kind(self, step: int, kind: str) -> None:
        assert self._setup is not None
        joined = join_kinds(self._done[step], kind)
        self._done[step] = joined
        if self.store is not None:  # writers only
            col = self.store.find_column(step)
            if col is not None:
                self.store.update_column_info(col, kind=joined)

    def _claim_column(self, step: int, epoch: float, kind: str) -> int:
        """Writers: the column to (re)write for ``step``, or -1 if it is complete and kept."""
        assert self.store is not None
        store = self.store
        col = store.find_column(step)
        if col is None:
            return store.add_column(step, epoch, kind)
        c = store.columns[col]
        keep = c["complete"] and not self._fresh and step <= self._resume_step
        if keep:
            return -1
        store.reset_column(col)
        store.update_column_info(col, kind=kind, epoch=float(epoch))
        return col

    def _record(self, args: Any, state: Any, model: Any, kind: str) -> None:
        """Score every example with the current model and write one column."""
        setup = self._setup
        assert setup is not None
        writers = setup.writers
        step = int(state.global_step)
        epoch = float(state.epoch or 0.0)
        device = getattr(args, "device", None)
        claims = writers.run(lambda: self._claim_column(step, epoch, kind))
        self._done[step] = kind
        if not any(c is not None and c >= 0 for c in claims):
            logger.info(f"trajectory column at step {step} already complete; kept")
            return
        # -1 on a writer whose copy already holds the column complete: it discards the rows.
        col = claims[writers.rank] if writers.is_writer else -1
        store = self.store if col >= 0 else None
        t0 = time.perf_counter()
        plan = lockstep_batches(setup.order, self.batch_size, writers.rank, writers.world_size)
        num_rows = int(sum(len(b) for b, real in plan if real))
        bar = None
        if setup.show_progress:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=len(setup.order), desc=f"S2L probe @ step {step}", unit="ex", leave=False
            )
        module = forward_module(model, self.trainer)
        forward = ProbeForward(
            module,
            bf16=setup.bf16,
            fp16=setup.fp16,
            device=device if isinstance(device, torch.device) else None,
        )
        bufs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        error: BaseException | None = None

        def flush() -> None:
            # Collective (same rounds on every rank): the rows of every rank go to the
            # writer(s), which write them; a bounded chunk (write_every rounds) at a time.
            nonlocal error
            local = tuple(np.concatenate(b) for b in zip(*bufs)) if bufs else None
            bufs.clear()
            gathered = writers.gather(local)
            if store is None or gathered is None or error is not None:
                return
            parts = [g for g in gathered if g is not None]
            if not parts:
                return
            idx, loss, cnt = (np.concatenate(p) for p in zip(*parts))
            try:
                store.write(col, idx, loss)
                store.write_num_tokens(idx, cnt)
            except Exception as e:  # raised on every rank after the pass (no rank left waiting)
                error = e

        with preserved_rng(), eval_mode(module), torch.no_grad():
            batches = probe_batches(setup.dataset, setup.collate_fn, [b for b, _ in plan])
            for i, ((idx, batch), (_, real)) in enumerate(zip(batches, plan)):
                loss, cnt = forward(batch, len(idx))
                if real:
                    bufs.append((idx, loss, cnt))
                if (i + 1) % self.write_every == 0:
                    flush()
                if bar is not None:
                    bar.update(min(len(idx) * writers.world_size, bar.total - bar.n))
            flush()
        if bar is not None:
            bar.close()
        if forward.dropped:
            logger.info(
                f"probe pass ignored batch keys the model does not take: {sorted(forward.dropped)}"
            )
        writers.raise_any(error)
        seconds = time.perf_counter() - t0

        def finish() -> dict[str, float] | None:
            if store is None:
                return None
            values = np.asarray(store.column_values(col))
            nan_count = int(np.isnan(values).sum())
            mean = float(np.nanmean(values)) if nan_count < len(values) else float("nan")
            store.mark_complete(
                col,
                mean_loss=mean,
                nan_count=nan_count,
                seconds=round(seconds, 4),
                examples_per_second=round(len(values) / max(seconds, 1e-9), 2),
            )
            no_target = no_target_count(np.asarray(store.num_tokens))
            return {"mean": mean, "nan_count": nan_count, "no_target": no_target}

        # The column is complete on every writer before any rank trains on.
        summary = writers.run(finish)[0]
        if writers.is_main and summary is not None:
            mean, nan_count = summary["mean"], int(summary["nan_count"])
            if summary["no_target"] and not self._warned_no_target:
                self._warned_no_target = True
                logger.warning(
                    f"{int(summary['no_target'])} training example(s) have no target token (all "
                    "labels are -100, e.g. the prompt fills max_length); their losses are stored "
                    "as NaN"
                )
            self._log(
                state,
                {"probe/mean_loss": mean, "probe/nan_count": nan_count, "probe/seconds": seconds},
            )
            logger.info(
                f"trajectory column {col} (step {step}, {kind}): mean loss {mean:.4f}, "
                f"{nan_count} NaN, {seconds:.1f}s, {num_rows} rows forwarded on rank 0"
            )

    def _log(self, state: Any, logs: dict[str, float]) -> None:
        trainer = self.trainer
        if self.log_to_trainer and trainer is not None and hasattr(trainer, "log"):
            # CallbackHandler.on_log resets control.should_log; keep the Trainer's own
            # logging decision for this step (the training loss must still be logged).
            control = getattr(trainer, "control", None)
            flags = (control.should_log,) if control is not None else None
            from transformers import Trainer

            # The base-class method: subclasses such as TRL's SFTTrainer flush their own
            # accumulated training metrics in log(); they must stay with the training logs.
            log = Trainer.log if isinstance(trainer, Trainer) else type(trainer).log
            log(trainer, dict(logs))
            if flags is not None:
                trainer.control.should_log = flags[0]
                control.should_log = flags[0]
        else:
            state.log_history.append({**logs, "epoch": state.epoch, "step": state.global_step})


def _recorded_store_message(output_dir: Path, args: Any) -> str:
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


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


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
