"""Issue 19, faithfulness round 2: the ``official=True`` switch, S2L's default features,
unscored groups, the columns each method reads, ``official_lp_subset``'s sizes and the
method checks of groups taken whole."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from hf_s2l.selection import select

from .conftest import GOLDEN_PPL, GOLDEN_SCHEDULE, build_store


# --- item 4: a method checks only the columns it reads ------------------------------------
def test_lp_ignores_inf_in_a_column_it_never_reads(tmp_path):
    x = np.log(GOLDEN_PPL).copy()
    clean = build_store(tmp_path / "clean", x, GOLDEN_SCHEDULE)
    x[3, 2] = np.inf  # the mid-epoch point: not P0, P1 or Pn
    dirty = build_store(tmp_path / "dirty", x, GOLDEN_SCHEDULE)
    a = select(clean, "lp", 9, unclustered=True)
    b = select(dirty, "lp", 9, unclustered=True)
    assert b.stats["unscored"]["rows"] == 0
    assert b.stats["unscored"]["columns"] == [0, 1, 3]
    assert a.indices.tolist() == b.indices.tolist()


@pytest.mark.parametrize(
    "method, params, read",
    [
        ("least_confidence", {}, [3]),
        ("middle_perplexity", {}, [3]),
        ("high_learnability", {}, [0, 3]),
        ("cartography", {"columns": [1, 3]}, [1, 3]),
        ("curriculum", {"columns": [3]}, [3]),
    ],
)
def test_every_method_checks_only_what_it_reads(tmp_path, method, params, read):
    x = np.log(GOLDEN_PPL).copy()
    x[5, 2] = np.inf  # a column none of them reads here
    store = build_store(tmp_path / "s", x, GOLDEN_SCHEDULE)
    sel = select(store, method, 9, **params)
    assert sel.stats["unscored"]["columns"] == read
    assert sel.stats["unscored"]["rows"] == 0
