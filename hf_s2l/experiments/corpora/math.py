"""The open math instruction mixture and the S2L math evaluation sets (see data README).

``load_math_mixture(root)`` returns a ``datasets.Dataset`` with columns ``instruction``,
``output`` (a worked solution ending in "The answer is X") and ``source`` (gsm8k, mawps,
asdiv_a, aqua), like TIGER-Lab/MathInstruct. ``load_math_eval(root, name)`` returns
``question``/``answer`` rows of gsm8k (test), numglue, simuleq or deepmind. Evaluation
sets are never part of the mixture.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any

MIX_SOURCES = ("gsm8k", "mawps", "asdiv_a", "aqua")
EVAL_SETS = ("gsm8k", "numglue", "simuleq", "deepmind")


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _prefix_to_infix(tokens: list[str], numbers: list[float]) -> tuple[str, float]:
    """Evaluate a prefix equation such as ``- number0 number1`` into text and value."""
    pos = 0

    def rec() -> tuple[str, float]:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok in "+-*/":
            (ls, lv), (rs, rv) = rec(), rec()
            val = {"+": lv + rv, "-": lv - rv, "*": lv * rv, "/": lv / rv if rv else float("nan")}[
                tok
            ]
            return f"({ls} {tok} {rs})", val
        if tok.startswith("number"):
            v = numbers[int(tok[6:])]
        else:
            v = float(tok)
        return _fmt_number(v), v

    text, value = rec()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text, value


def _fill_slots(question: str, numbers: list[float]) -> str:
    return re.sub(r"number(\d+)", lambda m: _fmt_number(numbers[int(m.group(1))]), question)


def _svamp_rows(path: Path, source: str) -> list[dict[str, Any]]:
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            numbers = [float(x) for x in r["Numbers"].split()]
            question = _fill_slots(r["Question"], numbers)
            question = re.sub(r"\s+([.,?!])", r"\1", question).strip()
            question = question[:1].upper() + question[1:]
            eq, _ = _prefix_to_infix(r["Equation"].split(), numbers)
            answer = _fmt_number(float(r["Answer"]))
            rows.append(
                {
                    "instruction": question,
                    "output": f"{eq} = {answer}. The answer is {answer}.",
                    "source": source,
                }
            )
    return rows


def _gsm8k_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            body, _, final = r["answer"].rpartition("####")
            body = re.sub(r"<<[^>]*>>", "", body).strip()
            rows.append(
                {
                    "instruction": r["question"],
                    "output": f"{body}\nThe answer is {final.strip()}.",
                    "source": "gsm8k",
                }
            )
    return rows


def _aqua_rows(paths: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                question = r["question"] + "\nAnswer Choices: " + " ".join(r["options"])
                rationale = r["rationale"].strip()
                rows.append(
                    {
                        "instruction": question,
                        "output": f"{rationale}\nThe answer is {r['correct']}.",
                        "source": "aqua",
                    }
                )
    return rows


def load_math_mixture(
    root: str | os.PathLike,
    sources: tuple[str, ...] | list[str] = MIX_SOURCES,
    max_per_source: int | None = None,
):
    """Load the math mixture under ``root`` (the ``math_mix`` folder) as a ``datasets.Dataset``.

    GSM8K contributes only its train split; MAWPS and ASDiv-A their train + dev folds;
    AQuA its dev + test files (the only AQuA files shipped). ``max_per_source`` keeps the
    first rows of each source (deterministic).
    """
    from datasets import Dataset

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"math mixture folder not found: {root}")
    unknown = set(sources) - set(MIX_SOURCES)
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}; available: {MIX_SOURCES}")
    rows: list[dict[str, Any]] = []
    for s in sources:
        if s == "gsm8k":
            part = _gsm8k_rows(root / "gsm8k" / "train.jsonl")
        elif s in ("mawps", "asdiv_a"):
            part = _svamp_rows(root / s / "train.csv", s) + _svamp_rows(root / s / "dev.csv", s)
        else:
            part = _aqua_rows([root / "aqua" / "dev.json", root / "aqua" / "test.json"])
        rows.extend(part[:max_per_source] if max_per_source else part)
    return Dataset.from_list(rows)


def load_math_eval(root: str | os.PathLike, name: str, limit: int | None = None):
    """Load one evaluation set as ``question``/``answer`` rows (answer = the gold final answer).

    ``root`` is the ``data`` folder holding ``math_mix`` and ``math_eval``. For GSM8K the
    full worked solution is kept in ``solution`` and ``answer`` is the number after ``####``.
    """
    from datasets import Dataset

    root = Path(root)
    if name == "gsm8k":
        rows = []
        with open(root / "math_mix" / "gsm8k" / "test.jsonl") as f:
            for line in f:
                r = json.loads(line)
                rows.append(
                    {
                        "question": r["question"],
                        "answer": r["answer"].rpartition("####")[2].strip(),
                        "solution": r["answer"],
                    }
                )
    elif name in ("numglue", "simuleq", "deepmind"):
        with open(root / "math_eval" / name / f"{name}.json") as f:
            rows = [{"question": r["question"], "answer": str(r["answer"])} for r in json.load(f)]
    else:
        raise ValueError(f"unknown eval set {name!r}; available: {EVAL_SETS}")
    return Dataset.from_list(rows[:limit] if limit else rows)
