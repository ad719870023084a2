"""Self-check at the first recorded batch: the recorded losses against the run's own loss.

Where the model computes its own loss from ``labels`` (probe: the first batch of the first
pass, with the labels given to the model once more; in-step: the first training forward), the
token-weighted mean of the recorded per-example losses must equal that loss. A mismatch
beyond the tolerance stops recording with an error saying what differs: a label layout the
recorder guessed wrong (:mod:`hf_s2l.record.label_layout`), a custom loss, a stack nobody has
tried yet. A model whose loss adds a term (Mixtral's router ``aux_loss``) is compared without
it and recorded as plain cross-entropy, said once in the log.

Where the Trainer computes the loss itself (``compute_loss_func``, a ``compute_loss``
override, label smoothing), its loss for the first batch is compared too: when it equals the
cross-entropy of the labels lined up the *other* way (pre-shifted labels given to a
``compute_loss_func`` that does not shift), recording stops naming it; any other difference
(label smoothing, TRL's DFT loss, a custom objective) is said once in the log and the plain
per-example cross-entropy (the model's own loss for each example alone) is recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers.utils import logging

from .label_layout import SEQUENCE, SHIFTED
from .losses import per_example_loss
from .stacks import InStepError

logger = logging.get_logger(__name__)

RTOL_FP32 = 2e-5
RTOL_HALF = 2e-2


class RecordingMismatchError(InStepError):
    """The recorded per-example losses do not reproduce the run's own loss."""


def tolerance(logits: torch.Tensor | None) -> float:
    """Relative tolerance: fp32 logits ``2e-5`` (summation order only: the recorded and the
    model's loss come from the same logits); half precision or autocast ``2e-2``."""
    half = logits is not None and logits.dtype in (torch.float16, torch.bfloat16)
    return RTOL_HALF if half or torch.is_autocast_enabled() else RTOL_FP32


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-8)


def _as_float(x: Any) -> float | None:
    if x is None:
        return None
    if torch.is_tensor(x):
        return float(x.detach().float().sum().item())
    return float(x)


def candidates(total: float, count: float, num_items: float | None) -> list[float]:
    """What a loss of summed token loss ``total`` may read: the mean over ``count`` targets, or
    ``total / num_items_in_batch`` (a loss normalised over the whole accumulated batch)."""
    out = [total / max(count, 1.0)]
    if num_items:
        out.append(total / num_items)
    return out


def sums_counts(losses: Any, counts: Any) -> tuple[float, float]:
    """``(summed token loss, target tokens)`` of per-example mean losses and their counts."""
    loss = np.asarray(
        losses.detach().cpu() if torch.is_tensor(losses) else losses, dtype=np.float64
    )
    cnt = np.asarray(counts.detach().cpu() if torch.is_tensor(counts) else counts, np.float64)
    return float(np.nansum(np.nan_to_num(loss) * cnt)), float(cnt.sum())


def other_layout(
    logits: torch.Tensor | None, labels: torch.Tensor | None, layout: str
) -> tuple[float, float] | None:
    """Summed loss and count of the labels lined up the other way (shifted <-> aligned)."""
    if logits is None or labels is None or layout == SEQUENCE or logits.dim() != 3:
        return None
    if labels.dim() != 2 or tuple(logits.shape[:2]) != tuple(labels.shape):
        return None
    loss, cnt = per_example_loss(logits.detach(), labels, shift=layout != SHIFTED)
    return sums_counts(loss, cnt)


def _compared(
    loss: Any, total: float, count: float, num_items: Any, logits: torch.Tensor | None
) -> tuple[float, float, float | None, list[float]] | None:
    """What a check compares: ``(reference loss, tolerance, num_items as a float, the recorded
    losses' candidate readings)``; ``None`` where there is nothing to compare (no finite
    reference loss, or no target token)."""
    ref = _as_float(loss)
    if ref is None or count <= 0 or not np.isfinite(ref):
        return None
    rtol = tolerance(logits)
    items = _as_float(num_items)
    return ref, rtol, items, candidates(total, count, items)


def _described(layout: str) -> str:
    if layout == SHIFTED:
        return "shifted by one (position t predicts label t + 1, as causal LMs do)"
    if layout == SEQUENCE:
        return "one class label per row"
    return "not shifted (position t scores label t)"


class FirstBatchCheck:
    """Runs the checks once; ``warned`` keeps the log messages to one each."""

    def __init__(self, layout: str, setup: str) -> None:
        self.layout = layout
        self.setup = setup
        self.warned: set[str] = set()

    def _warn_once(self, key: str, msg: str) -> None:
        if key not in self.warned:
            self.warned.add(key)
            logger.warning(msg)

    def model_loss(
        self,
        output_loss: torch.Tensor | None,
        aux_loss: torch.Tensor | None,
        aux_coef: float | None,
        total: float,
        count: float,
        num_items: Any = None,
        logits: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
    ) -> None:
        """The model's own loss for the batch == the recorded losses' token-weighted mean."""
        compared = _compared(output_loss, total, count, num_items, logits)
        if compared is None:
            return
        ref, rtol, items, ours = compared
        refs = [ref]
        if aux_loss is not None and aux_coef:
            refs.append(ref - float(aux_coef) * _as_float(aux_loss))
        best = min((_rel(o, r), r, o) for o in ours for r in refs)
        if best[0] <= rtol:
            if best[1] != ref:
                self._warn_once(
                    "aux",
                    f"{self.setup}: the model's loss adds an auxiliary term (router aux_loss x "
                    f"{aux_coef}); hf-s2l records the plain per-example cross-entropy without "
                    "it (see docs/compatibility.md)",
                )
            return
        alt = other_layout(logits, labels, self.layout)
        hint = (
            "Its loss is not the mean token cross-entropy over labels != -100 that hf-s2l "
            "records (a custom loss or an extra term?): for the proxy run use a model whose "
            "loss is (e.g. AutoModelForCausalLM, or its class with the extra term switched off)"
        )
        if alt is not None and min(_rel(o, ref) for o in candidates(*alt, items)) <= rtol:
            hint = (
                "The model's loss is the cross-entropy of labels lined up the other way; the "
                f"recorder assumed {_described(self.layout)} for {self.setup}. For the proxy "
                "run use a model whose loss lines labels up as transformers' classes do "
                "(*ForCausalLM: shifted; *ForMaskedLM, encoder-decoder: not shifted), and "
                "please report this model class"
            )
        raise RecordingMismatchError(
            f"hf-s2l self-check failed at the first recorded batch of {self.setup}: the "
            f"token-weighted mean of the recorded per-example losses is {ours[0]:.6g}, the "
            f"model's own loss for that batch is {ref:.6g} (relative difference {best[0]:.1e} > "
            f"{rtol:.0e}). {hint}. Recording stopped rather than store values that are not "
            "the examples' losses."
        )

    def trainer_loss(
        self,
        trainer_loss: Any,
        total: float,
        count: float,
        num_items: Any = None,
        logits: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        what: str = "the Trainer's loss",
    ) -> None:
        """The loss the Trainer trains on (its ``compute_loss_func`` / ``compute_loss``)."""
        compared = _compared(trainer_loss, total, count, num_items, logits)
        if compared is None:
            return
        ref, rtol, items, ours = compared
        if min(_rel(o, ref) for o in ours) <= rtol:
            return
        alt = other_layout(logits, labels, self.layout)
        if alt is not None:
            alt_values = candidates(*alt, items)
            if min(_rel(a, ref) for a in alt_values) <= rtol:
                raise RecordingMismatchError(
                    f"hf-s2l self-check failed at the first recorded batch of {self.setup}: "
                    f"{what} ({ref:.6g}) is the cross-entropy of the labels lined up "
                    f"{_described(SHIFTED if self.layout != SHIFTED else 'aligned')} "
                    f"({alt_values[0]:.6g}), but the model's own loss, and the recording, line "
                    f"them up {_described(self.layout)} ({ours[0]:.6g}): the labels look "
                    "pre-shifted for a loss function that does not shift them. Use labels in the "
                    "model's own layout (labels = input_ids with the prompt masked; do not "
                    "shift them) and let the loss function shift "
                    "(logits[:, :-1] against labels[:, 1:], as transformers' causal LMs do); "
                    "the recorded losses are then the examples' training losses."
                )
        self._warn_once(
            "trainer",
            f"{self.setup}: {what} for the first batch ({ref:.6g}) is not the plain "
            f"cross-entropy of its labels ({ours[0]:.6g}) (label smoothing, a custom loss such "
            "as TRL's DFT...); hf-s2l records the plain per-example cross-entropy, i.e. the "
            "model's own loss of each example alone",
        )
