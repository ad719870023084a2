"""Budget arithmetic shared by every method: count/fraction → count, and budget splits."""

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


def even_split_smallest_first(
    sizes: np.ndarray, budget: int, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``budget`` evenly over groups, visiting them from the smallest to the largest.

    The S2L rule (``schedules/s2l.py`` in BigML-CS-UCLA/S2L): with ``r`` the budget still
    to assign and ``g`` the groups not yet visited, the next group gets
    ``q = r // g`` examples, or all of it if it has fewer than ``q`` (what it cannot take
    rolls over to the larger groups). Ties in size are visited in index order.

    Official (``rng=None``), the remainder ``r % g`` always rolls over, so with more groups
    than budget the first groups get 0 and the last (largest) groups always win. With an
    ``rng`` the same order and split are kept but the remainder is spread at random: the
    group gets ``q + 1`` with probability ``(r % g) / g``, i.e. the ``r % g`` extra examples
    go to ``r % g`` of the ``g`` remaining groups drawn uniformly without replacement, so
    no position in the visit order is favoured.

    Returns ``(visit_order, quotas)``: the group indices in visiting order and, aligned with
    ``sizes``, how many examples each group contributes.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    order = np.argsort(sizes, kind="stable")
    quotas = np.zeros(len(sizes), dtype=np.int64)
    remaining = int(budget)
    for i, g in enumerate(order):
        left = len(order) - i
        q, extra = divmod(remaining, left)
        if rng is not None and extra and rng.random() * left < extra:
            q += 1
        take = min(int(sizes[g]), q)
        quotas[g] = take
        remaining -= take
    return order, quotas


def proportional_split(sizes: np.ndarray, budget: int) -> np.ndarray:
    """Split ``budget`` over groups proportionally to their sizes, exactly (largest remainder).

    Each group gets ``floor(budget * size / N)``; the examples left over go one each to the
    groups with the largest fractional remainders (ties: lower group index first).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if total == 0:
        return np.zeros_like(sizes)
    exact = sizes.astype(np.float64) * budget / total
    quotas = np.floor(exact).astype(np.int64)
    quotas = np.minimum(quotas, sizes)
    left = int(budget - quotas.sum())
    if left > 0:
        rema = exact - quotas
        rema[quotas >= sizes] = -1.0
        order = np.lexsort((np.arange(len(sizes)), -rema))
        for g in order:
            if left == 0:
                break
            if quotas[g] < sizes[g]:
                quotas[g] += 1
                left -= 1
    return quotas
