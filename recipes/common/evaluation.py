"""Generation-based evaluation, sharded over the processes of ``accelerate launch``."""

from __future__ import annotations

import math
from typing import Any

from transformers.utils import logging

logger = logging.get_logger(__name__)


def generate(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    *,
    max_new_tokens: int,
    batch_size: int,
    state: Any,
) -> list[str]:
    """Greedy completions of ``prompts`` (each process does a shard; all get the full list)."""
    import torch
    from accelerate.utils import gather_object

    tokenizer.padding_side = "left"
    model.eval()
    model.to(state.device)
    mine = list(range(state.process_index, len(prompts), state.num_processes))
    out: list[tuple[int, str]] = []
    # longest first: less padding, and the slowest batch fails first
    mine.sort(key=lambda i: -len(prompts[i]))
    for start in range(0, len(mine), batch_size):
        idx = mine[start : start + batch_size]
        enc = tokenizer(
            [prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(state.device)
        with torch.no_grad():
            gen = model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        texts = tokenizer.batch_decode(
            gen[:, enc["input_ids"].shape[1] :], skip_special_tokens=True
        )
        out.extend(zip(idx, (t.strip() for t in texts)))
    if state.num_processes > 1:
        out = gather_object(out)
    by_index = dict(out)
    return [by_index[i] for i in range(len(prompts))]


def score_math(completions: list[str], answers: list[str]) -> float:
    """Accuracy (%) of answer extraction + numeric comparison against gold answers."""
    from hf_s2l.experiments.eval import math_accuracy

    acc = math_accuracy(completions, answers)
    return float("nan") if math.isnan(acc) else 100.0 * acc
