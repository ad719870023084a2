"""Answer extraction and checking for math word-problem evaluation (S2L / MAmmoTH style).

A completion's final answer is found, in this order of preference, in the last
``\\boxed{...}``, after the last "The answer is", after the last ``####`` (GSM8K), or else
it is the last number in the text (:func:`extract_answer`). The extracted span is then
compared with the gold answer according to the gold answer's kind (:func:`answers_match`):

- numbers (``72``, ``1,450,000``, ``-0.4``, ``3/4``, ``\\frac{3}{4}``, ``25%``): numeric
  comparison with a tolerance; a prediction that, rounded to the gold's number of
  decimals, equals the gold also counts (NumGLUE golds are rounded, e.g. ``4.17``);
- multiple-choice letters (``A``..``E``, AQuA / NumGLUE): the letter in the span;
- lists / tuples of numbers (DeepMind Mathematics ``[2, 3]``, ``12 3 0``);
- anything else (``-20*x``, ``August``): normalised string equality.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

__all__ = [
    "answers_match",
    "extract_answer",
    "extract_choice",
    "find_numbers",
    "is_correct",
    "math_accuracy",
    "parse_number",
]

_NUM = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*-?\d+(?:\.\d+)?)?%?|-?\.\d+%?"
_NUM_RE = re.compile(rf"(?<![\w.])(?:{_NUM})")
_CHOICES = "ABCDE"
_ANSWER_IS_RE = re.compile(r"answer\s+is\s*:?\s*", re.IGNORECASE)
_BARE_RE = re.compile(r"[\[\]\d\s,.\-+*/^()A-Za-z%]{1,40}")
_FRAC_RE = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")


def _last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` / ``\\fbox{...}`` (balanced braces), or ``None``."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        rest = text[start + len("\\boxed") :].strip()
        return rest.split("$")[0].strip() or None
    depth = 0
    for i in range(brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1 : i].strip()
    return None


def _clean_span(span: str) -> str:
    span = span.strip()
    # keep the first line / sentence of what follows "The answer is"
    span = span.split("\n")[0].strip()
    span = re.sub(r"\.\s+[A-Z].*$", "", span)  # drop a following sentence
    span = span.strip().rstrip(".。").strip()
    span = span.replace("$", "").replace("\\!", "").replace("\\,", "")
    span = _FRAC_RE.sub(r"\1/\2", span)
    return span.strip()


def extract_answer(text: str) -> str | None:
    """The final-answer span of a model completion (or gold solution), or ``None`` if none.

    Preference: last ``\\boxed{}``, then text after the last "The answer is", then after the
    last ``####``; a bare short answer (``"[2, 3]"``, ``"-20*x"``) is kept whole; else the last
    number in ``text``.
    """
    if text is None:
        return None
    text = str(text)
    boxed = _last_boxed(text)
    if boxed is not None:
        return _clean_span(boxed)
    matches = list(_ANSWER_IS_RE.finditer(text))
    if matches:
        span = _clean_span(text[matches[-1].end() :])
        if span:
            return span
    if "####" in text:
        span = _clean_span(text.rpartition("####")[2])
        if span:
            return span
    stripped = text.strip()
    if _BARE_RE.fullmatch(stripped) and not re.search(r"[A-Za-z]{2}", stripped):
        return _clean_span(stripped)  # a bare answer such as "[2, 3]", "-20*x" or "7 1 -1"
    nums = find_numbers(text)
    if nums:
        return nums[-1]
    return stripped or None


def find_numbers(text: str) -> list[str]:
    """Every number-like token in ``text`` (commas, decimals, fractions, percentages, sign)."""
    return [m.group(0) for m in _NUM_RE.finditer(_FRAC_RE.sub(r"\1/\2", str(text)))]


def parse_number(text: str | float | int) -> float | None:
    """Parse ``"1,450,000"``, ``"-0.4"``, ``"3/4"``, ``"\\frac{3}{4}"``, ``"25%"`` (→ 25.0).

    Returns ``None`` when ``text`` is not a single number.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text)
    s = _FRAC_RE.sub(r"\1/\2", str(text)).strip().replace("$", "").rstrip(".").strip()
    s = s.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?%?", s) else s
    s = s.rstrip("%").strip()
    m = re.fullmatch(r"(-?\d*\.?\d+)\s*/\s*(-?\d*\.?\d+)", s)
    if m:
        den = float(m.group(2))
        return float(m.group(1)) / den if den else None
    try:
        value = float(s)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def extract_choice(span: str | None) -> str | None:
    """The multiple-choice letter (A–E) in an answer span such as ``"(B) web"`` or ``"B"``."""
    if not span:
        return None
    s = span.strip()
    for pattern in (
        r"^\(?([A-E])\)?(?:$|[\s.:,)])",
        r"\(([A-E])\)",
        r"(?:option|choice)\s*\(?([A-E])\b",
        r"(?<![\w'])([A-E])(?![\w'])",
    ):
        m = re.search(pattern, s, flags=re.IGNORECASE if "option" in pattern else 0)
        if m:
            return m.group(1).upper()
    return None


def _gold_kind(gold: str) -> str:
    g = gold.strip()
    if len(g) == 1 and g.upper() in _CHOICES and g.isalpha():
        return "choice"
    if parse_number(g) is not None:
        return "number"
    if re.fullmatch(r"\[\s*(?:-?[\d.]+\s*(?:,\s*-?[\d.]+\s*)*)?\]", g):
        return "list"
    if re.fullmatch(r"-?[\d.]+(?:\s+-?[\d.]+)+", g):
        return "tuple"
    return "text"


def _numbers_close(
    pred: float, gold: float, rel_tol: float, abs_tol: float, gold_text: str
) -> bool:
    if math.isclose(pred, gold, rel_tol=rel_tol, abs_tol=abs_tol):
        return True
    m = re.search(r"\.(\d+)%?$", gold_text.strip())
    if m:  # the gold is rounded: compare at its precision
        return round(pred, len(m.group(1))) == round(gold, len(m.group(1)))
    return False


def _normalize_text(s: str) -> str:
    s = s.lower().replace("\\cdot", "*").replace("\\times", "*")
    s = re.sub(r"[\s*$]", "", s)
    return s.strip(".,;:!?\"'")


def answers_match(
    pred: str | None,
    gold: str | float | int,
    *,
    rel_tol: float = 1e-4,
    abs_tol: float = 1e-6,
) -> bool:
    """Whether an extracted answer span ``pred`` equals the ``gold`` answer (see module doc)."""
    if pred is None:
        return False
    gold_s = str(gold).strip()
    pred = str(pred).strip()
    kind = _gold_kind(gold_s)
    if kind == "choice":
        return extract_choice(pred) == gold_s.upper()
    if kind == "number":
        g = parse_number(gold_s)
        assert g is not None
        candidate = pred.rpartition("=")[2] if "=" in pred else pred
        value = parse_number(candidate)
        if value is None:
            nums = find_numbers(candidate)
            value = parse_number(nums[0]) if nums else None
        if value is None:
            return False
        if _numbers_close(value, g, rel_tol, abs_tol, gold_s):
            return True
        if candidate.rstrip(". ").endswith("%") and not gold_s.endswith("%"):
            return _numbers_close(value / 100, g, rel_tol, abs_tol, gold_s)
        return False
    if kind in ("list", "tuple"):
        golds = [parse_number(x) for x in find_numbers(gold_s)]
        preds = [parse_number(x) for x in find_numbers(pred)]
        if len(golds) != len(preds) or any(p is None for p in preds):
            return False
        if kind == "list":
            golds, preds = sorted(golds), sorted(preds)  # type: ignore[type-var]
        return all(
            _numbers_close(p, g, rel_tol, abs_tol, "")  # type: ignore[arg-type]
            for p, g in zip(preds, golds)
        )
    return _normalize_text(pred) == _normalize_text(gold_s)


def is_correct(completion: str, gold: str | float | int, **tolerances: float) -> bool:
    """Extract the answer from ``completion`` and compare it with ``gold``."""
    return answers_match(extract_answer(completion), gold, **tolerances)


def math_accuracy(
    completions: Sequence[str] | Iterable[str], golds: Sequence[str | float | int]
) -> float:
    """Fraction of ``completions`` whose extracted answer matches the gold answer."""
    completions = list(completions)
    if len(completions) != len(golds):
        raise ValueError(f"{len(completions)} completions but {len(golds)} gold answers")
    if not completions:
        return float("nan")
    return sum(is_correct(c, g) for c, g in zip(completions, golds)) / len(completions)
