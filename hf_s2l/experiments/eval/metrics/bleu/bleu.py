"""Corpus BLEU (Papineni et al. 2002) as a local ``evaluate`` module, computed with ``sacrebleu``.

``sacrebleu.corpus_bleu(predictions, [references])`` with its default 13a tokenisation;
the score is reported on a 0–1 scale (``bleu``) and sacrebleu's 0–100 scale (``score``).
Shipped with hf-s2l so that ``evaluate.load`` works offline.
"""

import sacrebleu

from hf_s2l.experiments.eval.metrics import pairs


class Bleu(pairs.StringPairMetric):
    DESCRIPTION = "Corpus BLEU with one reference per prediction (sacrebleu)."
    CITATION = """@inproceedings{post-2018-call, title={A Call for Clarity in Reporting {BLEU} Scores}, author={Post, Matt}, booktitle={WMT}, year={2018}}"""
    KWARGS_DESCRIPTION = """
    Args:
        predictions: list of strings.
        references: list of strings (one reference each).
        tokenize: sacrebleu tokenizer (default "13a"). lowercase: default False.
    Returns:
        bleu (0-1), score (0-100), precisions, brevity_penalty.
    """

    def _compute(self, predictions, references, tokenize="13a", lowercase=False):
        out = sacrebleu.corpus_bleu(
            list(predictions), [list(references)], tokenize=tokenize, lowercase=lowercase
        )
        return {
            "bleu": out.score / 100.0,
            "score": out.score,
            "precisions": [p / 100.0 for p in out.precisions],
            "brevity_penalty": out.bp,
        }
