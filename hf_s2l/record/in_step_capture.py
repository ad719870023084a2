"""In-step capture: each training forward's per-example losses, read inside a forward hook.

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
* TRL's fused LM head (``SFTTrainer``) returns per-token ``log_probs`` and a ``label_mask``
  and no logits: those are read (:func:`hf_s2l.record.stacks.fused_token_losses`).
* labels the model never receives (label smoothing, ``compute_loss_func``, a
  ``compute_loss`` that pops them) are taken from the Trainer's ``compute_loss`` inputs
  (:class:`hf_s2l.record.stacks.LabelTap`); the unsmoothed cross-entropy is recorded.
* where none of this is possible the hook raises
  :class:`~hf_s2l.record.stacks.InStepError` at the first training forward: training stops
  with the way out (``mode="probe"``) instead of ending with an empty store.
* slow path: from the detached logits, float32 ``logsumexp - logit[target]`` over chunks
  of ``chunk_tokens`` tokens, i.e. at most ``chunk_tokens x V`` float32 extra at once
  (unpacked rows go through :func:`hf_s2l.record.losses.per_example_loss`).

Per-token losses are reduced per example on the device (per row, or per packed segment:
``DataCollatorWithFlattening`` rows are split where ``position_ids`` restart). Results and
the batch's token ids stay on the device until they are collected every
``materialize_every`` optimizer steps (one transfer, no per-forward synchronisation).

:class:`InStepCapture` is mixed into :class:`~hf_s2l.record.in_step.InStepRecorder` (it holds
the state: ``_state``, ``_tap``, ``_shift``, ``_pending``...); the pending device results go
to :class:`~hf_s2l.record.in_step_writer.InStepWriter`.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers.utils import logging

from .in_step_writer import _Pending
from .losses import IGNORE_INDEX, per_example_loss
from .model_output import output_aux_loss, output_logits, output_loss
from .probe import unwrap_model
from .run import find_trainer
from .stacks import InStepError, fused_token_losses

logger = logging.get_logger(__name__)


class InStepCapture:
    """The forward hook and the per-token loss paths (fast, fused, slow)."""

    def _hook(self, module: torch.nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        if not self._active or not module.training or not torch.is_grad_enabled():
            return
        try:
            with torch.no_grad():
                self._capture(args, kwargs, output)
        except Exception as e:  # never record nothing (or something wrong) silently
            self.error = f"{type(e).__name__}: {e}"
            self._stop()  # hook and tap off, the store's writer lock released: training stops
            if isinstance(e, InStepError):
                raise
            raise InStepError(
                f"in-step recording failed at step {int(self._state.global_step)}: {self.error}. "
                "Record this setup with TrajectoryCallback(mode='probe') (its own forward pass)"
            ) from e

    def _capture(self, args: tuple, kwargs: dict, output: Any) -> None:
        input_ids = kwargs.get("input_ids", args[0] if args else None)
        if not torch.is_tensor(input_ids) or input_ids.dim() != 2:
            raise InStepError(
                "in-step recording needs the input_ids (B x L) the model is called with; "
                f"{self._setup_name()} passes none (inputs_embeds?). Record this setup with "
                "TrajectoryCallback(mode='probe')"
            )
        labels = kwargs.get("labels")
        if labels is None:  # popped by label smoothing / compute_loss_func / compute_loss
            labels = self._tap.get(input_ids.shape[0])
        if labels is None:
            raise InStepError(
                f"in-step recording found no labels for the training forward of "
                f"{self._setup_name()}: neither the model call nor the Trainer's compute_loss "
                "inputs hold a 'labels' tensor. Pass the labels in the batch, or record this "
                "setup with TrajectoryCallback(mode='probe')"
            )
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
        if self.fast_path and kwargs.get("labels") is not None:
            tok = self._fast_token_losses(output, b)
        if tok is None:
            tok = fused_token_losses(output)  # TRL's fused LM head: log-probs, no logits
            if tok is not None and tok[0].shape[0] != b:
                tok = None
        elif not self._fast_checked:
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
                raise InStepError(
                    f"in-step recording cannot read per-token losses from the output of "
                    f"{self._setup_name()} ({type(output).__name__}): it holds no logits, no "
                    "per-token log_probs/label_mask and no cross-entropy node. Record this setup "
                    "with TrajectoryCallback(mode='probe')"
                )
            sums, counts = res
        if self._check is not None:
            check, self._check = self._check, None  # the first forward only
            self._first_check(check, output, kwargs, labels, sums, counts)
        mask = kwargs.get("attention_mask")
        keep = (
            mask
            if (mask is not None and mask.dim() == 2 and mask.shape == input_ids.shape)
            else None
        )
        key_labels = labels if self._key_labels else None
        self._pending.append(
            _Pending(self._epoch, step, micro, input_ids, keep, seg_start, key_labels, sums, counts)
        )
        self.stats["forwards"] += 1

    def _first_check(
        self, check: Any, output: Any, kwargs: dict, labels: Any, sums: Any, counts: Any
    ) -> None:
        """Self-check (:mod:`hf_s2l.record.self_check`): the first forward's recorded losses
        against the model's own loss; the Trainer's loss is compared when compute_loss returns."""
        total, count = float(sums.float().sum()), float(counts.sum())
        logits = output_logits(output, labels.shape[0])
        logits = logits.detach() if logits is not None else None
        if kwargs.get("labels") is not None:
            config = getattr(unwrap_model(self._model), "config", None)
            check.model_loss(
                output_loss(output),
                output_aux_loss(output),
                getattr(config, "router_aux_loss_coef", None),
                total,
                count,
                kwargs.get("num_items_in_batch"),
                logits,
                labels,
            )

        def trainer_loss(loss: Any, num_items: Any) -> None:
            try:
                check.trainer_loss(loss, total, count, num_items, logits, labels)
            except Exception:
                self._stop()
                raise

        self._tap.after_first(trainer_loss)

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
        logits = output_logits(output, labels.shape[0])
        if logits is None or logits.dim() != (2 if labels.dim() == 1 else 3):
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

    def _setup_name(self) -> str:
        trainer = self._tap.trainer or find_trainer(self)
        model = unwrap_model(self._model) if self._model is not None else None
        return f"{type(trainer).__name__ if trainer is not None else 'this trainer'} with " + (
            f"{type(model).__name__}" if model is not None else "this model"
        )


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
