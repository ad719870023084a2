"""Scoring a model on every evaluation of its pool (answer-token loss, ROUGE-L)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .config import BenchConfig

if TYPE_CHECKING:
    from .prepare import PoolState


def evaluate(cfg: BenchConfig, st: PoolState, model: Any, per_example: bool = True) -> dict:
    """Every evaluation of the pool: ``{name: metric}`` or, with ``per_example``,
    ``{name: (metric, num, den)}`` (per-example numerators/denominators)."""
    from hf_s2l.experiments.heldout import answer_token_loss

    out: dict[str, Any] = {}
    for ev in st.pool.evals:
        if ev.generate:
            scores = rouge_l_of_generations(cfg, st, model, st.evals[ev.name])
            num, den = scores, np.ones_like(scores)
            value = float(scores.mean())
        else:
            r = answer_token_loss(
                model,
                st.evals[ev.name],
                pad_token_id=st.tokenizer.pad_token_id,
                disable_progress=True,
                per_example=True,
            )
            num, den, value = r["example_loss_sum"], r["example_tokens"], float(r["loss"])
        out[ev.name] = (value, num, den) if per_example else value
    return out


def rouge_l_of_generations(cfg: BenchConfig, st: PoolState, model: Any, rows: list) -> np.ndarray:
    """Per-example ROUGE-L F1 (rouge_score, Porter stemmer) of greedy generations."""
    import torch
    from rouge_score import rouge_scorer

    from hf_s2l import format_prompt

    tok = st.tokenizer
    keep = cfg.max_length - cfg.gen_tokens
    prompts = [
        tok(format_prompt(r["instruction"]), add_special_tokens=False)["input_ids"][-keep:]
        for r in rows
    ]
    preds: list[str] = []
    was = model.training
    model.eval()
    try:
        for start in range(0, len(prompts), 32):
            batch = prompts[start : start + 32]
            width = max(len(p) for p in batch)
            ids = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
            att = torch.zeros((len(batch), width), dtype=torch.long)
            for j, p in enumerate(batch):  # left padding
                ids[j, width - len(p) :] = torch.as_tensor(p)
                att[j, width - len(p) :] = 1
            with torch.no_grad():
                gen = model.generate(
                    input_ids=ids,
                    attention_mask=att,
                    max_new_tokens=cfg.gen_tokens,
                    do_sample=False,
                    pad_token_id=tok.pad_token_id,
                    eos_token_id=tok.eos_token_id,
                )
            preds += [t.strip() for t in tok.batch_decode(gen[:, width:], skip_special_tokens=True)]
    finally:
        model.train(was)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return np.array(
        [scorer.score(r["output"], p)["rougeL"].fmeasure for r, p in zip(rows, preds)],
        dtype=np.float64,
    )
