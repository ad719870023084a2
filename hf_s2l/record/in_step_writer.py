"""In-step writer: pending device results -> content keys -> dataset rows -> store cells.

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
matched and are counted in a warning; causal-LM rows with identical ``input_ids`` but
different ``labels`` are treated as duplicates (encoder-decoder rows are keyed by their
``labels`` too).

**Writing.** Only the writer opens and writes the store: the global main process, or with
``TrainingArguments.save_on_each_node`` the local main process of every node (each writes
its own full copy). At each flush point (``on_epoch_end``, ``on_step_end`` of a step the
Trainer checkpoints, i.e. *before* the checkpoint is written, ``on_train_end`` and every
``flush_every_steps`` steps if set) every rank sends its collected ``(key, step,
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

:class:`InStepWriter` is mixed into :class:`~hf_s2l.record.in_step.InStepRecorder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers.utils import logging

from ..store import TrajectoryStore
from ..store.kinds import IN_STEP
from .in_step_hash import hash_segments
from .losses import IGNORE_INDEX
from .stacks import combine_keys

logger = logging.get_logger(__name__)


@dataclass
class _Pending:
    """One training forward whose results are still on the device."""

    epoch: int
    step: int
    micro: int
    input_ids: torch.Tensor  # B x L
    keep: torch.Tensor | None  # B x L attention mask
    seg_start: torch.Tensor | None  # B x L bool, packed rows only
    key_labels: torch.Tensor | None  # B x L' labels, part of the key (encoder-decoder)
    sums: torch.Tensor  # per item (row or segment): summed token loss
    counts: torch.Tensor  # per item: target tokens


_FIELDS = ("h1", "h2", "epoch", "step", "micro", "pos", "loss", "count")


class InStepWriter:
    """Materialise, resolve and write the captured records (writers only touch the store)."""

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
            if p.key_labels is not None:
                lab = p.key_labels.detach().cpu().numpy().astype(np.int64)
                lstarts = np.arange(lab.shape[0], dtype=np.int64) * lab.shape[1]
                h1, h2, ln = combine_keys(
                    (h1, h2, ln), hash_segments(lab.reshape(-1), lstarts, None, IGNORE_INDEX)
                )
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
        # counted until the next check (in_step.py: at step 1 and after every flush)
        total, unmatched = self._match_stats or (0, 0)
        self._match_stats = (total + len(bad), unmatched + int(bad.sum()))
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
                global_step=first_step, epoch=float(epoch), kind=IN_STEP, epoch_index=epoch
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
            if info.get("kind") != IN_STEP or "epoch_index" not in info:
                continue
            steps = np.asarray(cs[:, col])
            stale = np.flatnonzero(steps >= global_step)
            if len(stale):
                store.write(col, stale, np.full(len(stale), np.nan, np.float32), steps=-1)
                store.update_column_info(col, complete=False, wall_time=None)
            taken = np.asarray(store.cell_steps[:, col]) >= 0
            self._columns[int(info["epoch_index"])] = (col, taken)

    def _warn_once(self, key: str, msg: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(msg)


def _concat(parts: list[dict[str, np.ndarray]], with_rank: bool = False) -> dict[str, np.ndarray]:
    fields = _FIELDS + (("rank",) if with_rank else ())
    if not parts:
        empty = {k: np.zeros(0, np.int64) for k in fields}
        empty["h1"] = empty["h1"].astype(np.uint64)
        empty["h2"] = empty["h2"].astype(np.uint64)
        empty["loss"] = empty["loss"].astype(np.float32)
        return empty
    return {k: np.concatenate([p[k] for p in parts]) for k in fields}
