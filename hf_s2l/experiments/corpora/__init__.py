"""Corpora: loaders for the open data the demo, recipes and benchmarks use.

- :mod:`.math` — the 5-source math instruction mixture (GSM8K, MAWPS, ASDiv-A, AQuA) and the
  S2L math evaluation sets (GSM8K test, NumGLUE, SimulEq, DeepMind Mathematics).
- :mod:`.radiology` — radiology reports, findings → impression (IU chest X-ray / MIMIC-III).

SFT formatting (Alpaca prompts, prompt masked from the loss) is the recorder's dataset
preparation, in the core: :func:`hf_s2l.tokenize_sft`, :func:`hf_s2l.format_prompt`
(:mod:`hf_s2l.data.sft`).
"""

from .math import load_math_eval, load_math_mixture
from .radiology import load_radiology_reports

__all__ = [
    "load_math_eval",
    "load_math_mixture",
    "load_radiology_reports",
]
