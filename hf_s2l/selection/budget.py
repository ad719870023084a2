"""The budget a user asks for: text -> count or fraction, fraction -> count.

The splits of a budget over groups live in :mod:`hf_s2l.selection.quota` (re-exported here).
"""

from __future__ import annotations

import numbers

import numpy as np


def parse_budget(text: str) -> int | float:
    """Parse a budget written as text: ``"300"`` → 300 examples, ``"0.3"`` → a fraction,
    ``"30%"`` → 0.3. ``"1"`` is ONE example; ``"1.0"`` and ``"100%"`` are all of them."""
    t = text.strip()
    try:
        if t.endswith("%"):
            return float(t[:-1]) / 100.0
        try:
            return int(t)
        except ValueError:
            return float(t)
    except ValueError:
        raise ValueError(
            f"budget must be a count (300), a fraction in (0, 1] (0.3) or a percentage (30%), "
            f"got {text!r}"
        ) from None


def resolve_budget(budget: int | float, num_examples: int) -> int:
    """Turn ``budget`` (an int count, or a float fraction in (0, 1]) into a count.

    An int is a number of examples (``1`` is one example); a fraction ``f`` becomes
    ``round(f * N)`` (``1.0`` is all of them; at least 1 is required). Text such as
    ``"30%"`` is parsed by :func:`parse_budget` (the CLI does), not here. Raises
    ``ValueError`` for a count ``<= 0`` or ``> N``, a fraction outside ``(0, 1]``, or a
    fraction so small that it rounds to zero examples.
    """
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real):
        raise ValueError(
            f"budget must be an int count or a float fraction in (0, 1], got {budget!r}"
        )
    if isinstance(budget, numbers.Integral):
        b = int(budget)
        if b <= 0:
            raise ValueError(f"budget must be a positive number of examples, got {b}")
        if b > num_examples:
            raise ValueError(
                f"budget {b} is larger than the number of examples in the store ({num_examples}); "
                "pass a count <= N or a fraction in (0, 1]"
            )
        return b
    f = float(budget)
    if not np.isfinite(f) or f <= 0.0 or f > 1.0:
        raise ValueError(
            f"a fractional budget must be in (0, 1], got {budget!r} "
            "(pass an int for a count of examples)"
        )
    b = int(round(f * num_examples))
    if b < 1:
        raise ValueError(
            f"budget fraction {f} of {num_examples} examples rounds to 0 examples; "
            "use a larger fraction or an int count"
        )
    return min(b, num_examples)


# the budget splits moved to quota.py; kept importable from here
from .quota import even_split_smallest_first, proportional_split  # noqa: E402

__all__ = ["even_split_smallest_first", "parse_budget", "proportional_split", "resolve_budget"]
