"""BERTScore (Zhang et al. 2020) as a local ``evaluate`` module, computed with ``bert_score``.

``bert_score.score(predictions, references, model_type=..., num_layers=...)``; the default
model is ``roberta-large`` (layer 17), as in the BERTScore paper. ``model_type`` may be a
local model directory (then pass ``num_layers``). Shipped with hf-s2l so that
``evaluate.load`` works without the Hub (the model itself must be available locally).
"""

import bert_score

from hf_s2l.experiments.eval.metrics import pairs


class BERTScore(pairs.StringPairMetric):
    DESCRIPTION = "BERTScore precision/recall/F1 per pair (bert_score package)."
    CITATION = """@inproceedings{bert-score, title={BERTScore: Evaluating Text Generation with BERT}, author={Zhang, Tianyi and Kishore, Varsha and Wu, Felix and Weinberger, Kilian Q. and Artzi, Yoav}, booktitle={ICLR}, year={2020}}"""
    KWARGS_DESCRIPTION = """
    Args:
        predictions, references: lists of strings.
        model_type: hub id or local path (default "roberta-large"); num_layers: layer to use.
        batch_size, device, idf, lang, rescale_with_baseline: as in bert_score.score.
    Returns:
        precision, recall, f1: lists of floats (one per pair).
    """

    def _compute(
        self,
        predictions,
        references,
        model_type="roberta-large",
        num_layers=None,
        batch_size=64,
        device=None,
        idf=False,
        lang=None,
        rescale_with_baseline=False,
    ):
        p, r, f = bert_score.score(
            list(predictions),
            list(references),
            model_type=model_type,
            num_layers=num_layers,
            batch_size=batch_size,
            device=device,
            idf=idf,
            lang=lang,
            rescale_with_baseline=rescale_with_baseline,
            verbose=False,
        )
        return {
            "precision": p.tolist(),
            "recall": r.tolist(),
            "f1": f.tolist(),
            "model_type": model_type,
        }
