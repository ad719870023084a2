"""The probe recorder: a no-grad pass over the whole training set at each recording point.

:class:`ProbeRecorder` is the probe half of :class:`~hf_s2l.TrajectoryCallback` (a mixin: the
callback holds the options, forwards the Trainer events and calls these methods). At each point
of the :class:`~hf_s2l.RecordingSchedule` it scores every example with the current model (its
own length-sorted batches, the Trainer's collator and mixed precision) and writes one column of
the store. Training is unaffected: the pass draws no random numbers (all RNG states are
restored), never touches the training dataloader, and puts every module back in its previous
train/eval mode.

Each column's summary is logged with the base ``Trainer.log`` (not a subclass override, which
may flush the subclass's own training metrics) as ``probe/mean_loss``, ``probe/nan_count``,
``probe/seconds``; without a Trainer it is appended to ``state.log_history``.

Distributed: the batches are dealt round-robin to the processes in lock-step rounds (a padding
batch where a process has run out: under FSDP / ZeRO-3 every forward is a collective); every
``write_every`` rounds the rows go over the process group to the writer(s)
(:class:`hf_s2l.record._dist.Writers`). Resume: complete columns up to the checkpoint's step are
kept, later ones are reset and recorded again.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import torch
from transformers.utils import logging

from ..store import TrajectoryStore
from ..store.kinds import DEFAULT_KIND, EPOCH_END, KIND_SEPARATOR, TRAIN_BEGIN, join_kinds
from . import _dist
from .label_layout import label_layout
from .model_output import output_aux_loss, output_logits, output_loss
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
    unwrap_model,
)
from .run import dataset_identity, find_trainer, open_run_store
from .run_info import provenance, raw_columns
from .self_check import FirstBatchCheck, sums_counts
from .stacks import check_rows_are_examples

logger = logging.get_logger(__name__)


@dataclasses.dataclass
class _ProbeSetup:
    dataset: Any
    collate_fn: Any
    order: np.ndarray
    writers: _dist.Writers
    show_progress: bool
    bf16: bool
    fp16: bool
    layout: str
    check: FirstBatchCheck


class ProbeRecorder:
    """Probe recording state and steps (mixed into ``TrajectoryCallback``).

    Expects ``output_dir``, ``schedule``, ``batch_size``, ``mode``, ``id_column``,
    ``metadata_columns``, ``overwrite``, ``write_every``, ``log_to_trainer`` and ``trainer`` on
    the instance (set by ``TrajectoryCallback.__init__``).
    """

    def _init_probe(self) -> None:
        self.store: TrajectoryStore | None = None
        self._setup: _ProbeSetup | None = None
        self._resume_step = 0
        self._fresh = True
        self._done: dict[int, str] = {}  # step -> kind recorded in this run
        self._warned_no_target = False
        self._checked = False

    # ------------------------------------------------------------------ events
    def _probe_step_end(self, args: Any, state: Any, model: Any) -> None:
        epoch_end = state.epoch is not None and float(state.epoch).is_integer()
        kinds = self.schedule.kinds_at_step(state.global_step, state.max_steps, epoch_end)
        if kinds:
            self._record(args, state, model, join_kinds(*kinds))

    def _probe_epoch_end(self, args: Any, state: Any, model: Any) -> None:
        # An epoch that ended early (max_steps) is not caught in on_step_end.
        step = state.global_step
        if step not in self._done:
            self._record(args, state, model, EPOCH_END)
        elif EPOCH_END not in self._done[step].split(KIND_SEPARATOR):
            self._add_kind(step, EPOCH_END)

    def _probe_train_end(self) -> None:
        assert self.store is not None
        self.store.refresh()
        incomplete = [i for i, c in enumerate(self.store.columns) if not c["complete"]]
        if incomplete:
            logger.warning(
                f"trajectory store {self.output_dir}: columns {incomplete} are incomplete "
                "(interrupted before a checkpoint); selection ignores them"
            )
        self.store.close()  # release the writer lock

    # ------------------------------------------------------------------ setup
    def _begin(self, args: Any, state: Any, kwargs: dict[str, Any]) -> None:
        model = kwargs.get("model")
        loader = kwargs.get("train_dataloader")
        if model is None or loader is None:
            raise ProbeError(
                "TrajectoryCallback needs the model and train_dataloader (Trainer events)"
            )
        trainer = find_trainer(self)
        if trainer is None:
            logger.warning(
                "TrajectoryCallback could not find its Trainer (call hf_s2l.attach(trainer) "
                "or callback.set_trainer(trainer)); column summaries go to state.log_history only "
                "and the dataset fingerprint comes from the dataloader"
            )
        dataset = getattr(loader, "dataset", None)
        check_map_style(dataset)
        raw, fingerprint = dataset_identity(trainer, dataset)
        n = len(dataset)
        if n == 0:
            raise ProbeError("the training dataset is empty: nothing to record")
        collate_fn = getattr(loader, "collate_fn", None)
        check_rows_are_examples(args, collate_fn, "probe")  # packing named first: the cause
        check_collator(collate_fn)
        base = unwrap_model(model)
        layout = label_layout(base)  # refuses heads without a per-example cross-entropy

        writers = _dist.Writers.from_args(args)
        self._resume_step = int(state.global_step)
        self._fresh = self._resume_step == 0
        self._done = {}
        info = provenance(self, args, state, model, trainer, collate_fn)
        config = getattr(unwrap_model(model), "config", None)
        ids, metadata = raw_columns(raw, self.id_column, self.metadata_columns, trainer)

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
            store = open_run_store(
                self.output_dir,
                n,
                create_kwargs,
                fresh=self._fresh,
                overwrite=self.overwrite,
                args=args,
                is_recorded=lambda s: any(
                    c["complete"] and c["global_step"] > 0 for c in s.columns
                ),
                overwrite_hint="TrajectoryCallback(..., overwrite=True)",
            )
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
            layout=layout,
            check=FirstBatchCheck(layout, f"{type(trainer).__name__} with {type(base).__name__}"),
        )
        self._checked = False
        if self._fresh:
            if self.schedule.at_train_begin:
                self._record(args, state, model, TRAIN_BEGIN)
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
                return here[0].get("kind") or DEFAULT_KIND
            return None

        # Collective: every rank records the column if any writer's copy needs it.
        kind = _dist.first_not_none(self._setup.writers.run(check))
        if kind is not None:
            self._record(args, state, model, kind)

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
                total=len(setup.order),
                desc=f"S2L probe @ step {step}",
                unit="ex",
                leave=False,
                disable=None,  # off when stderr is no terminal: nested bars write cursor moves
            )
        module = forward_module(model, self.trainer)
        forward = ProbeForward(
            module,
            bf16=setup.bf16,
            fp16=setup.fp16,
            device=device if isinstance(device, torch.device) else None,
            layout=setup.layout,
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
                if i == 0 and not self._checked:  # collective: every rank has a first batch
                    self._checked = True
                    writers.raise_any(self._self_check(forward, batch, len(idx), loss, cnt, real))
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

    def _self_check(
        self, forward: ProbeForward, batch: Any, n: int, loss: Any, cnt: Any, real: bool
    ) -> BaseException | None:
        """The first batch's recorded losses against the model's (and the Trainer's
        ``compute_loss_func``'s) own loss for it (:mod:`hf_s2l.record.self_check`)."""
        assert self._setup is not None
        check = self._setup.check
        out, labels = forward.reference(batch, n)  # on every rank: sharded forwards are collective
        if not real:
            return None
        total, count = sums_counts(loss, cnt)
        logits = output_logits(out, labels.shape[0])
        coef = getattr(
            getattr(unwrap_model(forward.model), "config", None), "router_aux_loss_coef", None
        )
        try:
            check.model_loss(
                output_loss(out),
                output_aux_loss(out),
                coef,
                total,
                count,
                logits=logits,
                labels=labels,
            )
            func = getattr(self.trainer, "compute_loss_func", None)
            if callable(func) and logits is not None:
                try:
                    with torch.no_grad():
                        trainer_loss = func(out, labels, num_items_in_batch=None)
                except Exception as e:  # noqa: BLE001 - a loss function we cannot call alone
                    logger.info(f"self-check: compute_loss_func not called alone ({e})")
                    return None
                check.trainer_loss(
                    trainer_loss,
                    total,
                    count,
                    logits=logits,
                    labels=labels,
                    what="the Trainer's compute_loss_func",
                )
        except Exception as e:  # raised on every rank by the caller
            return e
        return None

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
