"""How a model's own loss lines its labels up with its logits (issue 25).

Recording computes each example's loss the way the model's own loss does, so it must know the
model's label layout:

* ``"shifted"`` — causal LMs: position ``t`` predicts label ``t + 1`` (``*ForCausalLM``, and
  any model not listed below: the self-check at the first recorded step,
  :mod:`hf_s2l.record.self_check`, catches a layout guessed wrong);
* ``"aligned"`` — position ``t`` scores label ``t``: masked LMs (``BertForMaskedLM`` on
  pre-masked rows), token classification and encoder-decoder models;
* ``"sequence"`` — one label per row (``*ForSequenceClassification`` with single-label
  classification): the example's loss is the cross-entropy of its row's logits.

Sequence-level heads whose loss is not a per-row cross-entropy (regression, multi-label,
question answering, multiple choice) are refused before training with the reason.
"""

from __future__ import annotations

from typing import Any

SHIFTED = "shifted"
ALIGNED = "aligned"
SEQUENCE = "sequence"

_ALIGNED_SUFFIXES = ("ForMaskedLM", "ForTokenClassification")
_REFUSED_SUFFIXES = ("ForQuestionAnswering", "ForMultipleChoice", "ForNextSentencePrediction")


class UnsupportedModelError(ValueError):
    """The model's loss is not a per-example cross-entropy the recorders can reproduce."""


def label_layout(base: Any) -> str:
    """``"shifted"``, ``"aligned"`` or ``"sequence"`` for ``base`` (the transformers model
    under its DDP / PEFT / ``torch.compile`` wrappers: ``probe.unwrap_model(model)``).

    Raises :class:`UnsupportedModelError` for heads whose loss is not a per-example
    cross-entropy (regression, multi-label classification, QA spans, multiple choice).
    """
    config = getattr(base, "config", None)
    name = type(base).__name__
    if getattr(config, "is_encoder_decoder", False):
        return ALIGNED
    if name.endswith(_ALIGNED_SUFFIXES):
        return ALIGNED
    if name.endswith(_REFUSED_SUFFIXES):
        raise UnsupportedModelError(
            f"{name} computes its loss from span or choice positions, not from a per-example "
            "cross-entropy over labels; hf-s2l records token-level and sequence-classification "
            "losses only. For the proxy run use a causal LM (AutoModelForCausalLM) on the same "
            "examples (prompt masked in labels), or a *ForSequenceClassification head"
        )
    if name.endswith("ForSequenceClassification"):
        num_labels = int(getattr(config, "num_labels", 2) or 2)
        problem = getattr(config, "problem_type", None)
        if num_labels == 1 or problem == "regression":
            raise UnsupportedModelError(
                f"{name} with num_labels=1 is a regression head (mean squared error), not a "
                "cross-entropy; hf-s2l records cross-entropy losses. For the proxy run use a "
                "classifier (num_labels >= 2, integer class labels) or a causal LM on the same rows"
            )
        if problem == "multi_label_classification":
            raise UnsupportedModelError(
                f"{name} with problem_type='multi_label_classification' uses a per-label binary "
                "cross-entropy; hf-s2l records single-label cross-entropy per example. For the "
                "proxy run use problem_type='single_label_classification' (integer labels) or a "
                "causal LM on the same rows"
            )
        return SEQUENCE
    return SHIFTED


def shifts(layout: str) -> bool:
    """Whether ``layout``'s loss predicts label ``t + 1`` at position ``t``."""
    return layout == SHIFTED
