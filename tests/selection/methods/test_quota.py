"""selection/quota.py: the one home of the budget splits (S2L clusters, by_column, LP)."""

import numpy as np

from hf_s2l.selection import quota
from hf_s2l.selection.methods.s2l import sample_from_clusters


def test_proportional_split_ties_by_index_or_by_next_score():
    sizes = np.array([2, 2, 2])
    assert quota.proportional_split(sizes, 2).tolist() == [1, 1, 0]  # ties: lower index
    nxt = [np.array([9.0, 0.0]), np.array([5.0, 0.0]), np.array([1.0, 0.0])]  # next = [0]
    assert quota.proportional_split(sizes, 2, nxt).tolist() == [0, 1, 1]  # lower next score
    nan = [np.array([np.nan, 0.0]), np.array([3.0, 0.0]), np.array([np.nan, 0.0])]
    assert quota.exact_cluster_quotas(sizes, 2, nan).tolist() == [1, 1, 0]  # NaN last, by index
    assert quota.proportional_split(np.array([0, 0]), 0).tolist() == [0, 0]


def test_official_lp_quotas_are_ceil_of_the_first_chunk():
    assert quota.official_split_count(10) == 10
    assert quota.official_split_count(30) == 3
    assert quota.official_cluster_quotas(np.array([1, 10, 11, 25]), 10).tolist() == [1, 1, 2, 3]


def test_s2l_cluster_draws_follow_the_even_split():
    """S2L's per-cluster counts are even_split_smallest_first over the big clusters."""
    labels = np.repeat(np.arange(5), [3, 4, 10, 20, 1])  # cluster 4 is small (<= 2 rows)
    budget = 16
    chosen, stats = sample_from_clusters(labels, budget, np.random.default_rng(0))
    big_sizes = np.array([3, 4, 10, 20])  # already in ascending order
    _, q = quota.even_split_smallest_first(big_sizes, budget)
    got = np.bincount(labels[chosen], minlength=5)
    assert got[:4].tolist() == q.tolist() == [3, 4, 4, 5]
    assert len(set(chosen.tolist())) == budget
    assert [c["selected"] for c in stats["clusters"]][:4] == q.tolist()
