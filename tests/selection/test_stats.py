"""``group_tables`` reads the five stats shapes into the same tables as the old card code."""

from __future__ import annotations

import pytest

from hf_s2l.data.card import _counts_from_stats
from hf_s2l.selection.stats import group_tables

SHAPES = {
    "1_before_after_top": {"before": {"a": 3, 1: 2}, "after": {"a": 1, "z": 1}},
    "1_one_level_down": {"src": {"before": {"a": 3}, "after": {"a": 1}}},
    "2_value_before_after": {"src": {"a": {"before": 3, "after": 1}, 2: {"before": 5, "after": 0}}},
    "3_size_selected": {"groups": {"counts": {"x": {"size": 4, "selected": 2, "quota": 2}}}},
    "3_direct": {"src": {"x": {"size": 4, "selected": 2}, "y": {"size": 1, "selected": 0}}},
    "4_cluster_list": {
        "clusters": [{"cluster": 0, "size": 5, "selected": 2}, {"size": 3, "selected": 1}]
    },
    "4_one_level_down": {"g": {"clusters": [{"group": "u", "size": 2, "selected": 1}]}},
    "5_parallel_lists": {"cluster_sizes": [4, 6], "cluster_selected": [1, 2]},
    "5_mismatched": {"cluster_sizes": [4, 6], "cluster_selected": [1]},
    "mixed": {
        "cluster_sizes": [1],
        "cluster_selected": [1],
        "groups": {"counts": {"x": {"size": 4, "selected": 2}}},
        "other": 3,
        "empty": {},
        "text": "x",
    },
    "not_dict": [1, 2],
    "none": None,
}


def _old(stats):
    return {
        g: {v: (d["before"], d["after"]) for v, d in t.items()}
        for g, t in _counts_from_stats(stats).items()
    }


@pytest.mark.parametrize("name", list(SHAPES))
def test_same_tables_as_the_card(name):
    assert group_tables(SHAPES[name]) == _old(SHAPES[name])


def test_pinned_tables():
    assert group_tables(SHAPES["1_before_after_top"])["group"] == {
        "1": (2, 0),
        "a": (3, 1),
        "z": (0, 1),
    }
    assert group_tables(SHAPES["3_size_selected"]) == {"groups": {"x": (4, 2)}}
    assert group_tables(SHAPES["4_cluster_list"]) == {"clusters": {"0": (5, 2), "1": (3, 1)}}
    assert group_tables(SHAPES["5_parallel_lists"]) == {"clusters": {"0": (4, 1), "1": (6, 2)}}
    assert group_tables(SHAPES["5_mismatched"]) == {}
