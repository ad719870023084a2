"""The benchmark's three training pools and their evaluation sets (raw text, no tokenizer).

- ``mix``: the math mixture (GSM8K train, MAWPS, ASDiv-A, AQuA-RAT), a fixed random share of
  every source (the natural source mix kept); a fixed 10% of each source is held out.
  Evaluations: the held-out split, GSM8K test (worked solution, as in training) and the
  out-of-domain NumGLUE, SimulEq, DeepMind Mathematics (loss on the answer's tokens after
  the fixed prefix "The answer is").
- ``gsm8k``: GSM8K train only (no source mix can explain a difference); its own held-out 10%
  and GSM8K test.
- ``radiology``: IU chest X-ray reports, findings -> impression; held-out impression loss
  and ROUGE-L of greedy generations on held-out reports.

Every split uses a fixed generator (``SPLIT_SEED``), never the run's seed. GSM8K's
calculator annotations (``<<48/2=24>>``) are removed from the worked solutions (they double
the token count of a solution at this vocabulary size and are not part of the language).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SPLIT_SEED = 1234
ANSWER_PREFIX = "The answer is"
OOD_SETS = ("numglue", "simuleq", "deepmind")


@dataclass
class EvalSet:
    """One evaluation: rows of ``instruction``/``output``; the loss is over the output's
    tokens (``prefix``, when set, is appended to the prompt and so not scored); with
    ``generate`` the metric is ROUGE-L of greedy generations against ``output``."""

    name: str
    title: str
    rows: list[dict[str, str]]
    prefix: str | None = None
    generate: bool = False
    lower_is_better: bool = True


@dataclass
class Pool:
    """A training pool: ``train`` rows (``instruction``, ``output``, ``source``) + evaluations."""

    name: str
    title: str
    train: list[dict[str, str]]
    evals: list[EvalSet] = field(default_factory=list)

    @property
    def multi_source(self) -> bool:
        return len({r["source"] for r in self.train}) > 1


_CALC = re.compile(r"<<[^<>]*>>")


def _strip_calc(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GSM8K rows without the calculator annotations ``<<a*b=c>>``."""
    return [dict(r, output=_CALC.sub("", r["output"])) for r in rows]


def _split(rows: list[dict[str, Any]], heldout: float, rng: np.random.Generator):
    perm = rng.permutation(len(rows))
    k = max(1, int(round(heldout * len(rows)))) if len(rows) > 1 else 0
    return [rows[i] for i in perm[k:]], [rows[i] for i in perm[:k]]


def _sample(rows: list[Any], k: int, rng: np.random.Generator) -> list[Any]:
    if k >= len(rows):
        return list(rows)
    return [rows[i] for i in np.sort(rng.choice(len(rows), k, replace=False))]


def _gsm8k_test(data: Path, rows: int) -> EvalSet:
    from hf_s2l.experiments.corpora.math import _gsm8k_rows

    full = _strip_calc(_gsm8k_rows(data / "math_mix" / "gsm8k" / "test.jsonl"))
    full = [{"instruction": r["instruction"], "output": r["output"]} for r in full]
    return EvalSet(
        "gsm8k_test", "GSM8K test", _sample(full, rows, np.random.default_rng(SPLIT_SEED))
    )


def math_mix(data: Path, share: float, eval_rows: int, heldout: float = 0.1) -> Pool:
    """``share`` of each source of the math mixture; ``heldout`` of each held out."""
    from hf_s2l.experiments.corpora import load_math_eval, load_math_mixture

    mix = load_math_mixture(data / "math_mix").to_list()
    mix = [dict(r, output=_CALC.sub("", r["output"])) for r in mix]
    rng = np.random.default_rng(SPLIT_SEED)
    train, held = [], []
    for src in sorted({r["source"] for r in mix}):
        rows = [r for r in mix if r["source"] == src]
        rows = _sample(rows, max(2, int(round(share * len(rows)))), rng)
        tr, he = _split(rows, heldout, rng)
        train += tr
        held += [{"instruction": r["instruction"], "output": r["output"]} for r in he]
    evals = [EvalSet("heldout", "held-out 10% of the pool", held), _gsm8k_test(data, eval_rows)]
    for name in OOD_SETS:
        ds = load_math_eval(data, name)
        rows = [{"instruction": q, "output": f"{a}."} for q, a in zip(ds["question"], ds["answer"])]
        title = {"numglue": "NumGLUE", "simuleq": "SimulEq", "deepmind": "DeepMind"}[name]
        evals.append(EvalSet(name, title, _sample(rows, eval_rows, rng), prefix=ANSWER_PREFIX))
    return Pool("mix", "math mixture (4 sources)", train, evals)


def gsm8k_only(data: Path, rows: int, eval_rows: int, heldout: float = 0.1) -> Pool:
    """``rows`` rows of GSM8K train; ``heldout`` of them held out."""
    from hf_s2l.experiments.corpora.math import _gsm8k_rows

    rng = np.random.default_rng(SPLIT_SEED + 1)
    allrows = _strip_calc(_gsm8k_rows(data / "math_mix" / "gsm8k" / "train.jsonl"))
    tr, he = _split(_sample(allrows, rows, rng), heldout, rng)
    held = [{"instruction": r["instruction"], "output": r["output"]} for r in he]
    return Pool(
        "gsm8k",
        "GSM8K train only (single source)",
        tr,
        [EvalSet("heldout", "held-out 10% of the pool", held), _gsm8k_test(data, eval_rows)],
    )


def radiology(data: Path, rows: int, gen_rows: int, heldout: float = 0.1) -> Pool:
    """``rows`` IU reports (findings -> impression); ``heldout`` of them held out."""
    from hf_s2l.experiments.corpora import load_radiology_reports

    rng = np.random.default_rng(SPLIT_SEED + 2)
    ds = load_radiology_reports(data / "radiology_iu" / "indiana_reports.csv").to_list()
    allrows = [
        {"instruction": r["findings"], "output": r["impression"], "source": "iu"} for r in ds
    ]
    tr, he = _split(_sample(allrows, rows, rng), heldout, rng)
    held = [{"instruction": r["instruction"], "output": r["output"]} for r in he]
    return Pool(
        "radiology",
        "radiology findings -> impression (IU reports)",
        tr,
        [
            EvalSet("heldout", "held-out impression loss", held),
            EvalSet(
                "rouge_l",
                "ROUGE-L of greedy impressions",
                held[:gen_rows],
                generate=True,
                lower_is_better=False,
            ),
        ],
    )
