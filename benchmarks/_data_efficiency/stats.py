"""The arithmetic of the benchmark's comparisons: paired differences to a baseline.

Every number in the v2 tables comes from two functions:

- :func:`seed_interval`: the paired difference ``method - baseline`` on each seed (same seed
  = same target initialisation and data order; the selection seed too), its mean over seeds
  and a two-sided Student-t interval (``t_{n-1}`` quantile, ``sd`` with ``ddof=1``);
- :func:`bootstrap_interval`: the same mean difference recomputed on evaluation examples
  drawn with replacement (the same draw for every seed and both arms, so it stays paired),
  percentile interval. A metric is a ratio ``sum(num) / sum(den)`` over examples: the
  token-pooled answer loss (``num`` = summed token losses, ``den`` = token count) or a mean
  score (``den`` = 1).

:func:`verdict` calls a difference *larger than the noise* only when both intervals exclude
zero. No torch, no files: importable and unit-tested on fixed numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class Interval:
    """A mean with a two-sided interval (``nan`` bounds when it cannot be computed)."""

    mean: float
    low: float
    high: float
    n: int

    def excludes_zero(self) -> bool:
        return bool(np.isfinite(self.low) and np.isfinite(self.high)) and (
            self.low > 0 or self.high < 0
        )

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def t_quantile(df: int, confidence: float = 0.95) -> float:
    """Two-sided Student-t quantile ``t_{1-(1-confidence)/2, df}`` (scipy)."""
    from scipy.stats import t

    return float(t.ppf(1 - (1 - confidence) / 2, df))


def seed_interval(
    method: Mapping[int, float], baseline: Mapping[int, float], confidence: float = 0.95
) -> Interval:
    """Mean over the seeds both have of ``method[s] - baseline[s]`` and its t-interval.

    With ``n`` paired seeds: ``mean ± t_{n-1} * sd / sqrt(n)`` (``sd`` with ``ddof=1``);
    one seed gives ``nan`` bounds, none gives a ``nan`` mean.
    """
    seeds = sorted(set(method) & set(baseline))
    d = np.array([method[s] - baseline[s] for s in seeds], dtype=np.float64)
    n = len(d)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(d.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = t_quantile(n - 1, confidence) * float(d.std(ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def ratio_metric(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``sum(num) / sum(den)`` over the last axis."""
    return np.asarray(num, dtype=np.float64).sum(-1) / np.asarray(den, dtype=np.float64).sum(-1)


def bootstrap_interval(
    num_m: Sequence[np.ndarray],
    den_m: Sequence[np.ndarray],
    num_b: Sequence[np.ndarray],
    den_b: Sequence[np.ndarray],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
    indices: np.ndarray | None = None,
) -> Interval:
    """Paired bootstrap over evaluation examples of the mean (over seeds) metric difference.

    ``num_m[s]``/``den_m[s]`` are the per-example numerators/denominators of the method on
    seed ``s`` (all arrays of one length ``E``, the same examples in the same order), and
    ``num_b``/``den_b`` the baseline's. Each resample draws ``E`` example positions with
    replacement (``indices``: a fixed ``B x E`` matrix instead, for tests), shared by every
    seed and both arms. ``mean`` is the difference on the full set; ``low``/``high`` the
    percentiles (numpy's default linear interpolation) of the resampled differences.
    """
    nm, dm = np.asarray(num_m, dtype=np.float64), np.asarray(den_m, dtype=np.float64)
    nb, db = np.asarray(num_b, dtype=np.float64), np.asarray(den_b, dtype=np.float64)
    if not (nm.shape == dm.shape == nb.shape == db.shape) or nm.ndim != 2:
        raise ValueError(
            f"expected four (seeds, examples) arrays of one shape, got {nm.shape}, {dm.shape}, "
            f"{nb.shape}, {db.shape}"
        )
    seeds, e = nm.shape
    mean = float((ratio_metric(nm, dm) - ratio_metric(nb, db)).mean())
    if indices is None:
        indices = np.random.default_rng(seed).integers(0, e, size=(n_boot, e))
    idx = np.asarray(indices, dtype=np.int64)
    diffs = (ratio_metric(nm[:, idx], dm[:, idx]) - ratio_metric(nb[:, idx], db[:, idx])).mean(0)
    alpha = 100 * (1 - confidence) / 2
    low, high = np.percentile(diffs, [alpha, 100 - alpha])
    return Interval(mean, float(low), float(high), seeds)


def verdict(seed_iv: Interval, boot_iv: Interval, lower_is_better: bool = True) -> str:
    """``"better"``/``"worse"`` when both intervals exclude zero on the same side, else
    ``"within noise"``."""
    if not (seed_iv.excludes_zero() and boot_iv.excludes_zero()):
        return "within noise"
    if (seed_iv.mean > 0) != (boot_iv.mean > 0):
        return "within noise"
    better = seed_iv.mean < 0 if lower_is_better else seed_iv.mean > 0
    return "better" if better else "worse"
