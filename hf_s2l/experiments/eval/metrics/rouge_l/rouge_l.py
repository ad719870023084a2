"""ROUGE-L F1 (Lin 2004) as a local ``evaluate`` module, computed with Google's ``rouge_score``.

The score is the mean over pairs of ``rouge_scorer.RougeScorer(["rougeL"]).score(ref, pred)``
F-measure (no bootstrap resampling, so it is deterministic). Shipped with hf-s2l so that
``evaluate.load`` works offline.
"""

from rouge_score import rouge_scorer

from hf_s2l.experiments.eval.metrics import pairs


class RougeL(pairs.StringPairMetric):
    DESCRIPTION = "Mean ROUGE-L F1 over prediction/reference pairs (rouge_score package)."
    CITATION = """@inproceedings{lin-2004-rouge, title={ROUGE: A Package for Automatic Evaluation of Summaries}, author={Lin, Chin-Yew}, booktitle={Text Summarization Branches Out}, year={2004}}"""
    KWARGS_DESCRIPTION = """
    Args:
        predictions: list of strings.
        references: list of strings.
        use_stemmer: Porter stemming (default True, as in the summarisation literature).
    Returns:
        rougeL: mean F1; rougeL_precision, rougeL_recall: means.
    """

    def _compute(self, predictions, references, use_stemmer=True):
        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)
        scores = [scorer.score(ref, pred)["rougeL"] for pred, ref in zip(predictions, references)]
        n = max(len(scores), 1)
        return {
            "rougeL": sum(s.fmeasure for s in scores) / n,
            "rougeL_precision": sum(s.precision for s in scores) / n,
            "rougeL_recall": sum(s.recall for s in scores) / n,
        }
