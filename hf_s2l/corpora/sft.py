"""Old import path of Alpaca prompts and SFT tokenisation: the code lives in :mod:`hf_s2l.experiments.corpora.sft`."""

from hf_s2l.experiments.corpora.sft import (
    ALPACA_PROMPT,
    ALPACA_PROMPT_INPUT,
    format_prompt,
    tokenize_sft,
)

__all__ = [
    "ALPACA_PROMPT",
    "ALPACA_PROMPT_INPUT",
    "format_prompt",
    "tokenize_sft",
]
