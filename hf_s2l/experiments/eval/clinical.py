"""Clinical summarisation metrics (BLEU, ROUGE-L, BERTScore) through ``evaluate``, offline.

``evaluate.load("rouge")`` fetches a script from the Hub; hf-s2l instead ships the metric
modules in ``hf_s2l/experiments/eval/metrics/<name>/<name>.py`` and loads them by path, which
``evaluate`` supports without network access:

- ``bleu``: corpus BLEU with ``sacrebleu`` (13a tokenisation), on a 0–1 scale;
- ``rouge_l``: mean ROUGE-L F1 with ``rouge_score`` (Porter stemmer), no bootstrap;
- ``bertscore``: mean BERTScore F1 with ``bert_score``; the model (default
  ``roberta-large``, layer 17) must be available locally; pass a local directory as
  ``bertscore_model`` (and ``bertscore_num_layers``) to use another one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from transformers.utils import logging

logger = logging.get_logger(__name__)

METRICS_DIR = Path(__file__).resolve().parent / "metrics"
AVAILABLE_METRICS = ("bleu", "rouge_l", "bertscore")
DEFAULT_BERTSCORE_MODEL = "roberta-large"

__all__ = ["AVAILABLE_METRICS", "METRICS_DIR", "clinical_metrics", "load_metric"]


def load_metric(name: str, **kwargs: Any):
    """``evaluate.load`` one of the shipped metric modules (``bleu``, ``rouge_l``, ``bertscore``)."""
    import evaluate

    if name not in AVAILABLE_METRICS:
        raise ValueError(f"unknown metric {name!r}; available: {AVAILABLE_METRICS}")
    return evaluate.load(str(METRICS_DIR / name), **kwargs)


def clinical_metrics(
    predictions: Sequence[str],
    references: Sequence[str],
    *,
    metrics: Sequence[str] = AVAILABLE_METRICS,
    bertscore_model: str = DEFAULT_BERTSCORE_MODEL,
    bertscore_num_layers: int | None = None,
    bertscore_batch_size: int = 32,
    device: str | None = None,
) -> dict[str, float]:
    """BLEU, ROUGE-L and BERTScore of ``predictions`` against ``references``.

    Returns ``{"bleu": ..., "rouge_l": ..., "bertscore_f1": ...}`` (all on a 0–1 scale) for
    the requested ``metrics``. Raises ``OSError`` with guidance when the BERTScore model is
    not available locally.
    """
    predictions, references = [str(p) for p in predictions], [str(r) for r in references]
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no predictions to score")
    unknown = set(metrics) - set(AVAILABLE_METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; available: {AVAILABLE_METRICS}")
    out: dict[str, float] = {}
    if "bleu" in metrics:
        res = load_metric("bleu").compute(predictions=predictions, references=references)
        out["bleu"] = float(res["bleu"])
    if "rouge_l" in metrics:
        res = load_metric("rouge_l").compute(predictions=predictions, references=references)
        out["rouge_l"] = float(res["rougeL"])
    if "bertscore" in metrics:
        from bert_score.utils import model2layers

        if bertscore_num_layers is None and bertscore_model not in model2layers:
            raise ValueError(
                f"BERTScore model {bertscore_model!r} is not one bert_score knows the best layer "
                "of; pass bertscore_num_layers= (e.g. the model's number of hidden layers)"
            )
        try:
            res = load_metric("bertscore").compute(
                predictions=predictions,
                references=references,
                model_type=bertscore_model,
                num_layers=bertscore_num_layers,
                batch_size=bertscore_batch_size,
                device=device,
            )
        except (OSError, ValueError, KeyError) as err:
            raise OSError(
                f"BERTScore model {bertscore_model!r} could not be loaded ({err}). Download it "
                f"first (`huggingface-cli download {bertscore_model}` with network access) or "
                "pass a local model directory as bertscore_model= together with "
                "bertscore_num_layers="
            ) from err
        f1 = res["f1"]
        out["bertscore_f1"] = float(sum(f1) / len(f1))
    logger.info("clinical metrics on %d pairs: %s", len(predictions), out)
    return out
