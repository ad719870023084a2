"""The v2 data-efficiency benchmark's arithmetic on fixed numbers (exact expected values)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stats():
    path = REPO / "benchmarks" / "_data_efficiency" / "stats.py"
    spec = importlib.util.spec_from_file_location("_de_stats", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses need the module registered
    spec.loader.exec_module(mod)
    return mod


T2 = 4.302652729749464  # scipy.stats.t.ppf(0.975, 2)


def test_t_quantile(stats):
    assert stats.t_quantile(2) == pytest.approx(T2, abs=1e-12)
    assert stats.t_quantile(1) == pytest.approx(12.706204736174698, abs=1e-9)


def test_seed_interval_paired_by_seed(stats):
    method = {0: 1.0, 1: 2.0, 2: 3.0, 7: 99.0}  # seed 7 has no baseline: ignored
    random = {2: 2.7, 0: 0.9, 1: 1.8}
    iv = stats.seed_interval(method, random)  # differences 0.1, 0.2, 0.3
    half = T2 * 0.1 / math.sqrt(3)
    assert iv.n == 3
    assert iv.mean == pytest.approx(0.2, abs=1e-12)
    assert iv.low == pytest.approx(0.2 - half, abs=1e-12)
    assert iv.high == pytest.approx(0.2 + half, abs=1e-12)
    assert iv.low == pytest.approx(-0.048413771, abs=1e-9)
    assert not iv.excludes_zero()


def test_seed_interval_degenerate(stats):
    one = stats.seed_interval({0: 2.0}, {0: 1.5})
    assert one.mean == 0.5 and math.isnan(one.low) and not one.excludes_zero()
    assert stats.seed_interval({0: 1.0}, {1: 1.0}).n == 0


def test_bootstrap_interval_fixed_resamples(stats):
    # method: seed 0 -> (1+2+3)/(1+1+2) = 1.5, seed 1 -> 2.0; random: 1.0 and 1.0
    num_m = [np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])]
    den_m = [np.array([1.0, 1.0, 2.0]), np.ones(3)]
    num_b = [np.ones(3), np.array([0.0, 3.0, 0.0])]
    den_b = [np.ones(3), np.ones(3)]
    idx = np.array([[0, 0, 0], [2, 2, 2], [1, 1, 2]])
    # resampled mean differences: 1.0, 1.25, 0.375 (worked by hand in the comment below)
    # [0,0,0]: m=(1, 2) b=(1, 0) -> (0 + 2)/2;  [2,2,2]: m=(1.5, 2) b=(1, 0) -> 2.5/2;
    # [1,1,2]: m=(7/4, 2) b=(1, 2) -> 0.75/2
    iv = stats.bootstrap_interval(num_m, den_m, num_b, den_b, indices=idx)
    assert iv.n == 2
    assert iv.mean == pytest.approx(0.75, abs=1e-12)
    assert iv.low == pytest.approx(0.40625, abs=1e-12)  # 0.375 + 0.05 * 0.625
    assert iv.high == pytest.approx(1.2375, abs=1e-12)  # 1.0 + 0.95 * 0.25
    assert iv.excludes_zero()


def test_bootstrap_interval_random_draws_are_seeded(stats):
    rng = np.random.default_rng(3)
    a = [rng.random(20) for _ in range(3)]
    b = [rng.random(20) for _ in range(3)]
    ones = [np.ones(20)] * 3
    x = stats.bootstrap_interval(a, ones, b, ones, n_boot=300, seed=5)
    y = stats.bootstrap_interval(a, ones, b, ones, n_boot=300, seed=5)
    assert x == y and x.low <= x.mean <= x.high
    with pytest.raises(ValueError, match="one shape"):
        stats.bootstrap_interval(a, ones, b[:2], ones[:2])


def test_verdict(stats):
    Iv = stats.Interval
    neg, pos, zero = Iv(-0.2, -0.3, -0.1, 3), Iv(0.2, 0.1, 0.3, 3), Iv(0.0, -0.1, 0.1, 3)
    assert stats.verdict(neg, neg) == "better"  # loss went down
    assert stats.verdict(pos, pos) == "worse"
    assert stats.verdict(pos, pos, lower_is_better=False) == "better"  # ROUGE went up
    assert stats.verdict(neg, zero) == "within noise"  # bootstrap includes zero
    assert stats.verdict(zero, neg) == "within noise"
    assert stats.verdict(neg, pos) == "within noise"  # disagreeing signs
    assert stats.verdict(Iv(-1.0, math.nan, math.nan, 1), neg) == "within noise"
