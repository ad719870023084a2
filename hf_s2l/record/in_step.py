"""In-step recording: every example's loss taken from the training forward itself.

:class:`InStepRecorder` is a ``TrainerCallback`` (used alone, or created by
``TrajectoryCallback(..., mode="in_step" | "both")`` which forwards every event to it). It
writes a :class:`~hf_s2l.TrajectoryStore` (``mode="in_step"``) with one column per epoch
(kind ``"epoch"``): cell ``(i, e)`` is the loss of dataset row ``i`` in the training forward
that saw it during epoch ``e``, and ``cell_steps[i, e]`` the global step of that forward, i.e.
the loss under the weights after that many optimizer updates.

Design
------
**Capturing the loss.** A forward hook on the Trainer's model (``kwargs["model"]`` in
``on_train_begin``; DDP and accelerate call into it, a PEFT model is hooked at its top
level) reads the inputs the model was given (``input_ids``, ``labels``, ``position_ids``)
and its output. It only acts when the module is in training mode *and* autograd is enabled,
so evaluation and probe passes (eval mode, ``no_grad``) never write into the in-step store.
Everything runs under ``no_grad`` on detached tensors and returns ``None``: the output, the
gradient, the reported loss, the optimizer step and the RNG streams are untouched (tested
bit-identical). Two ways to get per-token losses:

* fast path (default): the model's own cross-entropy already holds the log-probabilities
  of every token: the ``NllLossBackward0`` node of ``output.loss`` saves them for the
  backward pass. Gathering the target's log-probability is O(tokens), no pass over the
  vocabulary, no extra memory. ``num_items_in_batch`` / ``model_accepts_loss_kwargs`` only
  change the reduction after that node, so they do not matter. The first forward checks
  the fast path against the slow one; if they disagree (label smoothing, a custom loss,
  Liger kernels...) the slow path is used for the rest of the run.
* slow path: from the detached logits, float32 ``logsumexp - logit[target]`` over chunks
  of ``chunk_tokens`` tokens, i.e. at most ``chunk_tokens x V`` float32 extra at once
  (unpacked rows go through :func:`hf_s2l.record.losses.per_example_loss`).

Per-token losses are reduced per example on the device (per row, or per packed segment:
``DataCollatorWithFlattening`` rows are split where ``position_ids`` restart). Results and
the batch's token ids stay on the device until they are collected every
``materialize_every`` optimizer steps (one transfer, no per-forward synchronisation).

**Mapping rows to dataset rows: content keys.** Each example's token ids (attention mask
applied, leading/trailing padding stripped) get a 128-bit content key; at train begin a
table of the keys of every training dataset row is built (vectorised over the Arrow
buffers of a ``datasets.Dataset``). Unlike tracking indices through the sampler, this
needs nothing from the data pipeline, so it is unaffected by shuffling, ``group_by_length``,
gradient accumulation prefetch, dataloader workers, several processes, accelerate's
dispatching and padding-free packing, and works when the user only adds the callback.
Duplicated content is resolved deterministically: within an epoch the occurrences of one
content are ordered by ``(global step, micro-batch, rank, position in batch)`` and the k-th
occurrence goes to the k-th dataset row with that content (ascending index); occurrences
beyond the number of such rows are dropped, which is exactly what happens to the samples
accelerate repeats to even out the last batch (``even_batches``): they are never recorded
twice. Limits: items the collator changes (truncation, on-the-fly tokenisation) cannot be
matched and are counted in a warning; rows with identical ``input_ids`` but different
``labels`` are treated as duplicates.

**Writing.** Only the writer opens and writes the store: the global main process, or with
``TrainingArguments.save_on_each_node`` the local main process of every node (each writes
its own full copy). At each flush point (``on_epoch_end``, ``on_save``, ``on_train_end`` and
every ``flush_every_steps`` steps if set) every rank sends its collected ``(key, step,
loss)`` records to the writer(s) (``gather_object``), which resolve duplicates across ranks
and write (no concurrent writers, no shared file system needed; other ranks never touch the
store folder). The writers create the store in ``on_train_begin`` while the others wait; a
failure there is raised on every rank. Sharded models (FSDP v1/2, DeepSpeed ZeRO-3): the
hook sits on the Trainer's model (the FSDP wrapper, or the module inside the DeepSpeed
engine) and sees the full logits and the model's own loss of each micro-batch (only
parameters are sharded), so nothing changes there.

At ``on_epoch_end`` the epoch's column is marked complete when every row was seen, otherwise a warning gives the count (e.g. ``max_steps`` cut the epoch).
Resuming from a checkpoint at step ``g`` clears the cells measured at steps ``>= g`` (they
are measured again) and continues the columns.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import TrainerCallback
from transformers.utils import logging

from ..store import StoreMismatchError, TrajectoryStore
from . import _dist
from .in_step_hash import ContentTable, dataset_keys, hash_segments
from .losses import IGNORE_INDEX, per_example_loss
from .probe import is_encoder_decoder, unwrap_collator, unwrap_model

logger = logging.get_logger(__name__)

LOSS_DEFINITION = (
    "in-step: mean token cross-entropy over the example's target tokens (labels != -100, "
    "shifted for causal LMs) in the training forward that saw it (train mode, weights after "
    "cell_steps[i, e] optimizer steps)"
)


@dataclass
class _Pending:
    """One training forward whose results are still on the device."""

    epoch: int
    step: int
    micro: int
    input_ids: torch.Tensor  # B x L
    keep: torch.Tensor | None  # B x L attention mask
    seg_start: torch.Tensor | None  # B x L bool, packed rows only
    sums: torch.Tensor  # per item (row or segment): summed token loss
    counts: torch.Tensor  # per item: target tokens


_FIELDS = ("h1", "h2", "epoch", "step", "micro", "pos", "loss", "count")


class InStepRecorder(TrainerCallback):
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
    ) -> None:
        self.output_dir = Path(output_dir)
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
        self._metadata: dict[str, np.ndarray] = {}

    def set_columns(self, example_ids: Any, metadata: dict[str, Any]) -> None:
        """Example ids and metadata columns to save with the store (as a probe store does)."""
        self._example_ids = None if example_ids is None else np.asarray(example_ids)
        self._metadata = dict(metadata)

    # ------------------------------------------------------------------ events
    def on_train_begin(self, args, state, control, **kwargs):
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
        self._state = state
        self._rank = int(getattr(args, "process_index", 0))
        self._writers = _dist.Writers.from_args(args)
        self._shift = not is_encoder_decoder(model)
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
            self.table = ContentTable(*dataset_keys(dataset, self._pad))
            store = self._open_store(args, n, int(state.global_step), dataset, config)
            self._continue(store, int(state.global_step))
            if self._example_ids is not None and store.example_ids is None:
                store.set_example_ids(self._example_ids)
            for name, values in self._metadata.items():
                store.set_metadata(name, values)
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

        self._writers.run(setup)  # non-writers never touch the store folder
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
        kwargs: dict[str, Any] = dict(
            dataset_fingerprint=self._dataset_fingerprint(dataset),
            model_name_or_path=getattr(config, "_name_or_path", None) or None,
            model_revision=getattr(config, "_commit_hash", None),
            mode="in_step",
            loss_definition=LOSS_DEFINITION,
            track_cell_steps=True,
        )
        fresh = global_step == 0
        try:
            store = TrajectoryStore.create(self.output_dir, n, exist_ok=True, **kwargs)
        except StoreMismatchError as e:
            if not fresh:
                raise
            if not self.overwrite:
                raise StoreMismatchError(f"{e}, or pass overwrite=True to replace it") from None
            logger.warning(
                f"replacing the trajectory store of another dataset in {self.output_dir}"
            )
            return TrajectoryStore.create(self.output_dir, n, replace=True, **kwargs)
        if store.cell_steps is None:
            store.close()
            raise ValueError(
                f"{self.output_dir} holds a store without per-cell steps (not in-step)"
            )
        if fresh and bool((np.asarray(store.cell_steps) >= 0).any()):
            if not self.overwrite:
                from .callback import _recorded_store_message

                store.close()
                raise FileExistsError(_recorded_store_message(self.output_dir, args))
            logger.warning(f"overwriting the in-step trajectory store in {self.output_dir}")
            old, store = store, TrajectoryStore.create(self.output_dir, n, replace=True, **kwargs)
            old.close()
        return store

    def pause(self) -> None:
        """Stop recording (the forward hook is removed) until :meth:`resume`."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def resume(self) -> None:
        """(Re-)attach the forward hook to the training model."""
        if self._handle is None and self._model is not None and self._active:
            self._handle = self._model.register_forward_hook(self._hook, with_kwargs=True)

    def on_step_end(self, args, state, control, **kwargs):
        if not self._active:
            return
        if len(self._pending) and state.global_step % self.materialize_every == 0:
            self._materialize()
        if self.flush_every_steps and state.global_step % self.flush_every_steps == 0:
            self._flush(args)

    def on_epoch_end(self, args, state, control, **kwargs):
        if not self._active:
            return
        self._flush(args)
        if self._is_writer and self._epoch in self._columns:
            self._finish_column(self._epoch, int(state.global_step))
        self._epoch += 1

    def on_save(self, args, state, control, **kwargs):
        if self._active:
            self._flush(args)

    def on_train_end(self, args, state, control, **kwargs):
        if not self._active:
            return
        self._flush(args)
        self.pause()
        self._active = False
        self._model = None
        if self.store is not None:
            self.store.close()  # release the writer lock
        if self.stats["unmatched"]:
            logger.warning(
                f"in-step recording: {self.stats['unmatched']} training items matched no dataset "
                "row (did the collator truncate or re-tokenise them?)"
            )

    # ------------------------------------------------------------------ capture
    def _hook(self, module: torch.nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        if not self._active or not module.training or not torch.is_grad_enabled():
            return
        try:
            with torch.no_grad():
                self._capture(args, kwargs, output)
        except Exception as e:  # never break training because of recording
            self.error = f"{type(e).__name__}: {e}"
            self._active = False
            logger.warning(
                f"in-step recording disabled after an error: {self.error}", exc_info=True
            )

    def _capture(self, args: tuple, kwargs: dict, output: Any) -> None:
        input_ids = kwargs.get("input_ids", args[0] if args else None)
        labels = kwargs.get("labels")
        if input_ids is None or labels is None or input_ids.dim() != 2:
            self._warn_once(
                "nolabels",
                "in-step recording needs input_ids and labels passed to the model (a label "
                "smoother or compute_loss_func that pops the labels is not supported); skipping",
            )
            return
        step = int(self._state.global_step)
        if step != self._last_step:
            self._last_step, self._micro = step, 0
        micro = self._micro
        self._micro += 1
        b, length = input_ids.shape
        pos_ids = kwargs.get("position_ids") if self._shift else None
        seg_start = None
        if pos_ids is not None:
            p = pos_ids.expand(b, -1) if pos_ids.shape[0] != b else pos_ids
            seg_start = torch.ones_like(p, dtype=torch.bool)
            seg_start[:, 1:] = p[:, 1:] <= p[:, :-1]

        tok = None
        if self.fast_path:
            tok = self._fast_token_losses(output, b)
        if tok is not None and not self._fast_checked:
            slow = self._slow_items(output, labels, seg_start)
            fast = self._reduce(tok, seg_start)
            if slow is None or not _close(fast, slow):
                logger.info("in-step: fast path disagrees with the logits; using the logits path")
                self.fast_path = False
                tok = None
            self._fast_checked = True
        if tok is not None:
            sums, counts = self._reduce(tok, seg_start)
        else:
            res = self._slow_items(output, labels, seg_start)
            if res is None:
                self._warn_once(
                    "nologits", "in-step recording: the model returned no logits; skipping"
                )
                return
            sums, counts = res
        mask = kwargs.get("attention_mask")
        keep = (
            mask
            if (mask is not None and mask.dim() == 2 and mask.shape == input_ids.shape)
            else None
        )
        self._pending.append(
            _Pending(self._epoch, step, micro, input_ids, keep, seg_start, sums, counts)
        )
        self.stats["forwards"] += 1

    def _fast_token_losses(self, output: Any, b: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(token nll, valid) as ``B x L'`` from the saved log-probs of the model's own loss."""
        loss = getattr(output, "loss", None)
        if (
            loss is None
            and isinstance(output, (tuple, list))
            and output
            and torch.is_tensor(output[0])
        ):
            loss = output[0] if output[0].dim() == 0 else None
        if loss is None or loss.grad_fn is None:
            return None
        node = _find_nll(loss.grad_fn)
        if node is None:
            return None
        try:
            logp = node._saved_self
            target = node._saved_target
            ignore = int(node._saved_ignore_index)
        except (AttributeError, RuntimeError):
            return None
        if (
            logp.dim() != 2
            or target.dim() != 1
            or target.numel() % b
            or node._saved_weight is not None
        ):
            return None
        valid = target != ignore
        nll = -logp.detach().gather(1, target.clamp(min=0).unsqueeze(1)).squeeze(1)
        nll = torch.where(valid, nll.float(), torch.zeros((), device=nll.device))
        return nll.view(b, -1), valid.view(b, -1)

    def _slow_items(
        self, output: Any, labels: torch.Tensor, seg_start: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        logits = getattr(output, "logits", None)
        if logits is None and isinstance(output, (tuple, list)) and len(output) > 1:
            logits = output[1]
        if logits is None or logits.dim() != 3:
            return None
        logits = logits.detach()
        if seg_start is None:
            rows = max(1, self.chunk_tokens // max(1, logits.shape[1]))
            loss, counts = per_example_loss(logits, labels, shift=self._shift, chunk_rows=rows)
            return torch.nan_to_num(loss, nan=0.0) * counts, counts
        return self._reduce(
            _token_losses(logits, labels, self._shift, self.chunk_tokens), seg_start
        )

    @staticmethod
    def _reduce(
        tok: tuple[torch.Tensor, torch.Tensor], seg_start: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-item (row or packed segment) sums of token losses and target-token counts."""
        nll, valid = tok
        if seg_start is None:
            return nll.sum(1), valid.sum(1)
        lp = nll.shape[1]  # token t is predicted at position t (t < L')
        seg = (seg_start.reshape(-1).cumsum(0) - 1).view(seg_start.shape)[:, :lp].reshape(-1)
        n = seg_start.numel()
        sums = torch.zeros(n, dtype=torch.float32, device=nll.device)
        sums.index_add_(0, seg, nll.reshape(-1))
        counts = torch.zeros(n, dtype=torch.int64, device=nll.device)
        counts.index_add_(0, seg, valid.reshape(-1).long())
        return sums, counts

    # ------------------------------------------------------------------ collect / resolve / write
    def _materialize(self) -> None:
        """Move pending device results to CPU records (content keys, steps, losses)."""
        for p in self._pending:
            ids = p.input_ids.detach().cpu().numpy().reshape(-1).astype(np.int64, copy=False)
            b, length = p.input_ids.shape
            if p.seg_start is None:
                starts = np.arange(b, dtype=np.int64) * length
            else:
                starts = np.flatnonzero(p.seg_start.cpu().numpy().reshape(-1))
            keep = None if p.keep is None else p.keep.detach().cpu().numpy().reshape(-1) != 0
            h1, h2, ln = hash_segments(ids, starts, keep, self._pad)
            nseg = len(starts)
            sums = p.sums[:nseg].cpu().numpy().astype(np.float64)
            counts = p.counts[:nseg].cpu().numpy().astype(np.int64)
            with np.errstate(invalid="ignore", divide="ignore"):
                loss = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
            nz = ln > 0  # pure padding (e.g. pad segments) carries no example
            k = int(nz.sum())
            self._records.append(
                {
                    "h1": h1[nz],
                    "h2": h2[nz],
                    "epoch": np.full(k, p.epoch, np.int64),
                    "step": np.full(k, p.step, np.int64),
                    "micro": np.full(k, p.micro, np.int64),
                    "pos": np.flatnonzero(nz).astype(np.int64),
                    "loss": loss[nz].astype(np.float32),
                    "count": counts[nz],
                }
            )
            self.stats["items"] += k
        self._pending.clear()

    def _flush(self, args: Any) -> None:
        """Gather every rank's records on rank 0, resolve duplicates, write them."""
        self._materialize()
        local = _concat(self._records)
        self._records = []
        assert self._writers is not None
        gathered = self._writers.gather(local)
        if gathered is None:  # not a writer
            return
        for r, rec in enumerate(gathered):
            rec["rank"] = np.full(len(rec["h1"]), r, np.int64)
        allrec = _concat(gathered, with_rank=True)
        if not len(allrec["h1"]) or self.store is None or self.table is None:
            return
        g = self.table.lookup(allrec["h1"], allrec["h2"])
        bad = g < 0
        if bad.any():
            self.stats["unmatched"] += int(bad.sum())
            self._warn_once(
                "unmatched",
                f"in-step recording: {int(bad.sum())} training items matched no dataset row "
                "(collator truncation or on-the-fly tokenisation?); they are not recorded",
            )
        for e in np.unique(allrec["epoch"]):
            sel = np.flatnonzero((allrec["epoch"] == e) & ~bad)
            if len(sel):
                self._write_epoch(int(e), g[sel], {k: v[sel] for k, v in allrec.items()})

    def _write_epoch(self, epoch: int, groups: np.ndarray, rec: dict[str, np.ndarray]) -> None:
        assert self.store is not None and self.table is not None
        col, taken = self._column(epoch, int(rec["step"].min()))
        order = np.lexsort((rec["pos"], rec["rank"], rec["micro"], rec["step"], groups))
        gs = groups[order]
        run_start = np.ones(len(gs), bool)
        run_start[1:] = gs[1:] != gs[:-1]
        first = np.maximum.accumulate(np.where(run_start, np.arange(len(gs)), 0))
        occ = np.arange(len(gs)) - first  # occurrence number of this content within the flush
        size = self.table.group_size[gs]
        rows = np.full(len(gs), -1, np.int64)
        single = size == 1
        cand = self.table.rows[self.table.group_start[gs[single]]]
        rows[single] = np.where((occ[single] == 0) & ~taken[cand], cand, -1)
        for gid in np.unique(gs[~single]):  # duplicated contents: k-th occurrence -> k-th free row
            idx = np.flatnonzero(gs == gid)
            members = self.table.group_rows(int(gid))
            free = members[~taken[members]]
            m = min(len(free), len(idx))
            rows[idx[:m]] = free[:m]
        ok = rows >= 0
        self.stats["dropped"] += int((~ok).sum())
        if not ok.any():
            return
        src = order[ok]
        rows = rows[ok]
        self.store.write(col, rows, rec["loss"][src], steps=rec["step"][src])
        self.store.write_num_tokens(rows, rec["count"][src])
        taken[rows] = True

    def _column(self, epoch: int, first_step: int) -> tuple[int, np.ndarray]:
        if epoch not in self._columns:
            assert self.store is not None
            col = self.store.add_column(
                global_step=first_step, epoch=float(epoch), kind="epoch", epoch_index=epoch
            )
            self._columns[epoch] = (col, np.zeros(self.store.num_examples, bool))
        return self._columns[epoch]

    def _finish_column(self, epoch: int, last_step: int) -> None:
        assert self.store is not None and self.table is not None
        col, taken = self._columns[epoch]
        expected = np.ones(len(taken), bool)
        expected[self.table.unkeyed] = False
        missing = int((expected & ~taken).sum())
        if missing:
            logger.warning(
                f"in-step column {col} (epoch {epoch}): {missing} of {int(expected.sum())} examples "
                "were not seen (training stopped mid-epoch, e.g. max_steps?); column left incomplete"
            )
            self.store.update_column_info(col, last_step=last_step, seen=int(taken.sum()))
            return
        vals = self.store.column_values(col)
        self.store.mark_complete(
            col,
            last_step=last_step,
            seen=int(taken.sum()),
            mean_loss=float(np.nanmean(vals)) if np.isfinite(vals).any() else None,
        )

    def _continue(self, store: TrajectoryStore, global_step: int) -> None:
        """Reuse this store's epoch columns; clear cells measured at steps >= ``global_step``."""
        self._columns = {}
        cs = store.cell_steps
        for col, info in enumerate(store.columns):
            if info.get("kind") != "epoch" or "epoch_index" not in info:
                continue
            steps = np.asarray(cs[:, col])
            stale = np.flatnonzero(steps >= global_step)
            if len(stale):
                store.write(col, stale, np.full(len(stale), np.nan, np.float32), steps=-1)
                store.update_column_info(col, complete=False, wall_time=None)
            taken = np.asarray(store.cell_steps[:, col]) >= 0
            self._columns[int(info["epoch_index"])] = (col, taken)

    def _dataset_fingerprint(self, loader_dataset: Any) -> str | None:
        """The fingerprint of the dataset the user gave the Trainer.

        ``loader.dataset`` is the Trainer's copy after ``remove_unused_columns``, which drops
        columns in set order, so its ``_fingerprint`` changes with ``PYTHONHASHSEED`` (a
        resume in a new process would not match). The Trainer's ``train_dataset`` (found on
        the call stack) is what the user passed; without a Trainer, an order-independent
        content fingerprint of the rows' keys is used.
        """
        trainer = _find_trainer(self)
        raw = getattr(trainer, "train_dataset", None)
        if raw is not None and hasattr(raw, "__len__") and len(raw) == len(loader_dataset):
            fp = getattr(raw, "_fingerprint", None)
            if fp is not None:
                return fp
        if trainer is None and self.table is not None:
            import hashlib

            h = hashlib.sha256()
            t = self.table
            for part in (np.array([t.num_rows]), t.rows, t.group_h1, t.group_h2, t.group_size):
                h.update(np.ascontiguousarray(part).tobytes())
            return "content-" + h.hexdigest()[:16]
        return getattr(loader_dataset, "_fingerprint", None)

    def _warn_once(self, key: str, msg: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(msg)


def _find_trainer(recorder: InStepRecorder) -> Any:
    """The ``Trainer`` on the call stack whose callbacks hold ``recorder`` (directly or wrapped)."""
    try:
        from transformers import Trainer
    except ImportError:  # pragma: no cover
        return None
    frame = sys._getframe(1)
    while frame is not None:
        obj = frame.f_locals.get("self")
        if isinstance(obj, Trainer):
            for cb in getattr(obj.callback_handler, "callbacks", []):
                if cb is recorder or getattr(cb, "in_step_recorder", None) is recorder:
                    return obj
        frame = frame.f_back
    return None


def _find_nll(node: Any, depth: int = 4) -> Any:
    """The ``NllLossBackward0`` node within ``depth`` steps of ``node`` (breadth first)."""
    frontier = [node]
    for _ in range(depth):
        nxt = []
        for n in frontier:
            if type(n).__name__.startswith("NllLoss"):
                return n
            nxt.extend(f for f, _ in n.next_functions if f is not None)
        frontier = nxt
    return None


def _token_losses(
    logits: torch.Tensor, labels: torch.Tensor, shift: bool, chunk_tokens: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 token cross-entropy ``B x L'`` (0 where ignored) and the valid mask, chunked."""
    if shift:
        logits, labels = logits[:, :-1], labels[:, 1:]
    labels = labels.to(logits.device)
    valid = labels != IGNORE_INDEX
    tgt = labels.clamp(min=0)
    b, lp = labels.shape
    out = torch.zeros(b, lp, dtype=torch.float32, device=logits.device)
    rows = max(1, chunk_tokens // max(1, lp))
    cols = min(lp, max(1, chunk_tokens))
    for r0 in range(0, b, rows):
        for c0 in range(0, lp, cols):
            lg = logits[r0 : r0 + rows, c0 : c0 + cols].float()
            t = tgt[r0 : r0 + rows, c0 : c0 + cols]
            nll = torch.logsumexp(lg, dim=-1) - lg.gather(-1, t.unsqueeze(-1)).squeeze(-1)
            out[r0 : r0 + rows, c0 : c0 + cols] = torch.where(
                valid[r0 : r0 + rows, c0 : c0 + cols], nll, torch.zeros((), device=nll.device)
            )
    return out, valid


def _close(a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor]) -> bool:
    (sa, ca), (sb, cb) = a, b
    if sa.shape != sb.shape or not torch.equal(ca.long(), cb.long()):
        return False
    return bool(torch.allclose(sa.float(), sb.float(), rtol=1e-4, atol=1e-5))


def _concat(parts: list[dict[str, np.ndarray]], with_rank: bool = False) -> dict[str, np.ndarray]:
    fields = _FIELDS + (("rank",) if with_rank else ())
    if not parts:
        empty = {k: np.zeros(0, np.int64) for k in fields}
        empty["h1"] = empty["h1"].astype(np.uint64)
        empty["h2"] = empty["h2"].astype(np.uint64)
        empty["loss"] = empty["loss"].astype(np.float32)
        return empty
    return {k: np.concatenate([p[k] for p in parts]) for k in fields}
