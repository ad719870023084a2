"""Clinical metrics through the shipped `evaluate` modules, offline, vs the packages directly."""

from __future__ import annotations

import math

import pytest

from hf_s2l.experiments.eval import clinical_metrics, load_metric


@pytest.fixture(scope="module")
def reports(shared_data):
    from hf_s2l.experiments.corpora import load_radiology_reports

    ds = load_radiology_reports(shared_data / "radiology_iu" / "indiana_reports.csv", limit=40)
    # "predictions": the findings of each report (a real, imperfect summary of it);
    # a few exact copies so that perfect matches are exercised too
    preds = [
        f if i % 5 else imp for i, (f, imp) in enumerate(zip(ds["findings"], ds["impression"]))
    ]
    return preds, list(ds["impression"])


@pytest.fixture(scope="module")
def bertscore_dir(tmp_path_factory, reports):
    """A tiny randomly initialised BERT + BPE tokenizer saved locally (stand-in for roberta-large)."""
    from hf_s2l.experiments.tiny import tiny_bert_encoder

    d = tmp_path_factory.mktemp("bertscore_tiny_bert")
    return tiny_bert_encoder(reports[0] + reports[1], d, vocab_size=300)


def test_rouge_l_matches_rouge_score(reports):
    from rouge_score import rouge_scorer

    preds, refs = reports
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    direct = sum(scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(preds, refs)) / len(preds)
    got = clinical_metrics(preds, refs, metrics=["rouge_l"])["rouge_l"]
    assert 0 < got < 1
    assert math.isclose(got, direct, rel_tol=1e-12)


def test_bleu_matches_sacrebleu(reports):
    import sacrebleu

    preds, refs = reports
    direct = sacrebleu.corpus_bleu(preds, [refs]).score / 100
    got = clinical_metrics(preds, refs, metrics=["bleu"])["bleu"]
    assert 0 < got < 1
    assert math.isclose(got, direct, rel_tol=1e-12)


def test_bleu_of_identical_text_is_one(reports):
    _, refs = reports
    assert clinical_metrics(refs, refs, metrics=["bleu"])["bleu"] == pytest.approx(1.0)


@pytest.mark.slow  # a BERT forward pass per pair: the fast suite keeps ROUGE-L/BLEU
def test_bertscore_matches_bert_score(reports, bertscore_dir):
    import bert_score

    preds, refs = reports
    _, _, f1 = bert_score.score(preds, refs, model_type=bertscore_dir, num_layers=2)
    got = clinical_metrics(
        preds,
        refs,
        metrics=["bertscore"],
        bertscore_model=bertscore_dir,
        bertscore_num_layers=2,
    )["bertscore_f1"]
    assert math.isclose(got, float(f1.mean()), rel_tol=1e-5)
    full = load_metric("bertscore").compute(
        predictions=preds, references=refs, model_type=bertscore_dir, num_layers=2
    )
    assert len(full["f1"]) == len(preds)
    assert full["f1"][0] == pytest.approx(1.0, abs=1e-5)  # identical pair


@pytest.mark.slow  # a BERT forward pass per pair: the fast suite keeps ROUGE-L/BLEU
def test_all_metrics_together(reports, bertscore_dir):
    preds, refs = reports
    out = clinical_metrics(preds, refs, bertscore_model=bertscore_dir, bertscore_num_layers=2)
    assert set(out) == {"bleu", "rouge_l", "bertscore_f1"}


def test_missing_bertscore_model_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="pass a local model directory"):
        clinical_metrics(
            ["a"],
            ["a"],
            metrics=["bertscore"],
            bertscore_model=str(tmp_path / "missing"),
            bertscore_num_layers=2,
        )
    with pytest.raises(ValueError, match="bertscore_num_layers"):
        clinical_metrics(["a"], ["a"], metrics=["bertscore"], bertscore_model=str(tmp_path))


def test_bad_input():
    with pytest.raises(ValueError, match="predictions but"):
        clinical_metrics(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="unknown metrics"):
        clinical_metrics(["a"], ["a"], metrics=["meteor"])


@pytest.mark.parametrize(
    ("name", "cls"), [("bleu", "Bleu"), ("rouge_l", "RougeL"), ("bertscore", "BERTScore")]
)
def test_shipped_metrics_share_one_evaluate_skeleton(name, cls):
    """Each metric module is its _compute on the one StringPairMetric (issue 27), and
    evaluate.load picks the metric class, not that base."""
    from hf_s2l.experiments.eval.metrics.pairs import PAIR_FEATURES, StringPairMetric

    metric = load_metric(name)
    assert type(metric).__name__ == cls and type(metric) is not StringPairMetric
    assert isinstance(metric, StringPairMetric)
    assert metric.features == PAIR_FEATURES
    assert metric.description == type(metric).DESCRIPTION and metric.citation.startswith("@")
    assert type(metric).__doc__.startswith(type(metric).DESCRIPTION)
