"""Corpora: loaders for the open data the demo, recipes and benchmarks use, and SFT formatting.

- :mod:`.math` — the 5-source math instruction mixture (GSM8K, MAWPS, ASDiv-A, AQuA) and the
  S2L math evaluation sets (GSM8K test, NumGLUE, SimulEq, DeepMind Mathematics).
- :mod:`.radiology` — radiology reports, findings → impression (IU chest X-ray / MIMIC-III).
- :mod:`.sft` — Alpaca-style prompts and tokenisation with the prompt masked from the loss.
"""

from .math import load_math_eval, load_math_mixture
from .radiology import load_radiology_reports
from .sft import ALPACA_PROMPT, format_prompt, tokenize_sft

__all__ = [
    "ALPACA_PROMPT",
    "format_prompt",
    "load_math_eval",
    "load_math_mixture",
    "load_radiology_reports",
    "tokenize_sft",
]
