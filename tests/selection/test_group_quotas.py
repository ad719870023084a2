"""Group quotas (issue 28, item 1): ``select(..., by_column=..., group_quotas=...)``.

Goldens for the three rules (equal, proportional, a mapping of shares or counts), with
remainders and groups smaller than their share, through the quota arithmetic and through
``select`` for random and S2L; the errors; the record in params, provenance, command and card.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from hf_s2l.cli import main
from hf_s2l.selection import Selection, select
from hf_s2l.selection.group_quotas import (
    DEFAULT_GROUP_QUOTAS,
    parse_group_quotas_arg,
    split_groups,
)
from hf_s2l.selection.quota import share_split

from .conftest import build_store

LABELS = ["a", "b", "c"]


def _split(rule, sizes, budget, rng=None):
    _, quotas, notes = split_groups(rule, LABELS[: len(sizes)], np.asarray(sizes), budget, rng)
    return quotas.tolist(), notes


# --- goldens of the arithmetic ---------------------------------------------------------------
def test_equal_is_the_official_smallest_first_split():
    # sizes 50, 30, 20 at budget 7: c (20) gets 7 // 3 = 2, b 5 // 2 = 2, a the last 3
    assert _split("equal", [50, 30, 20], 7)[0] == [3, 2, 2]
    # a group smaller than its share is taken whole, the rest rolls over
    assert _split("equal", [50, 30, 1], 9)[0] == [4, 4, 1]


def test_proportional_keeps_the_pool_mix_by_largest_remainder():
    # exact 3.5, 2.1, 1.4 -> floors 3, 2, 1; the one left goes to the largest remainder (a)
    assert _split("proportional", [50, 30, 20], 7)[0] == [4, 2, 1]
    # exact 1.6, 1.6, 0.8 (sizes 2, 2, 1 of 5, budget 4): floors 1, 1, 0; remainders .6 .6 .8
    assert _split("proportional", [2, 2, 1], 4)[0] == [2, 1, 1]  # .8 first, then a over b
    # equal remainders: the group that sorts first
    assert _split("proportional", [1, 1, 1], 2)[0] == [1, 1, 0]
    # a tiny group keeps its tiny share (0 here), unlike "equal"
    assert _split("proportional", [95, 4, 1], 10)[0] == [10, 0, 0]
    assert _split("equal", [95, 4, 1], 10)[0] == [5, 4, 1]


def test_shares_by_largest_remainder():
    # exact 3.5, 2.1, 1.4 -> 4, 2, 1
    assert _split({"a": 0.5, "b": 0.3, "c": 0.2}, [10, 10, 10], 7) == ([4, 2, 1], {})
    # thirds: 3 * (1/3) is 1 for each, whatever the float noise
    assert _split({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, [5, 5, 5], 3)[0] == [1, 1, 1]
    # a group not named gets nothing
    assert _split({"a": 0.25, "b": 0.75}, [10, 10, 10], 8)[0] == [2, 6, 0]


def test_a_group_smaller_than_its_share_is_taken_whole_and_the_rest_follows_the_shares():
    # a wants 4 of 8 but has 2: taken whole; its 2 go to b and c by their shares (1:1)
    quotas, notes = _split({"a": 0.5, "b": 0.25, "c": 0.25}, [2, 10, 10], 8)
    assert quotas == [2, 3, 3]
    assert notes["short_groups"] == {"a": {"share": 0.5, "size": 2}}
    # cascading: a (1 row) short of 6; then b (4 rows) short of its 5.5 of the 11 left
    assert share_split(np.array([1, 4, 100]), np.array([0.5, 0.25, 0.25]), 12).tolist() == [
        1,
        4,
        7,
    ]
    # the shortfall follows the remaining shares 3:1, with the largest remainder
    assert share_split(np.array([1, 50, 50]), np.array([0.5, 0.375, 0.125]), 10).tolist() == [
        1,
        7,
        2,
    ]
    with pytest.raises(ValueError, match="positive share hold 3 rows, fewer than the budget of 5"):
        share_split(np.array([3, 10]), np.array([1.0, 0.0]), 5)


def test_counts_are_taken_as_given():
    assert _split({"a": 1, "b": 3, "c": 4}, [10, 10, 10], 8)[0] == [1, 3, 4]
    assert _split({"b": 8}, [10, 10, 10], 8)[0] == [0, 8, 0]
    with pytest.raises(ValueError, match=r"more rows of a group than it has.*'a' \(5 > 2 rows\)"):
        _split({"a": 5, "b": 3}, [2, 10, 10], 8)


# --- through select(): random and S2L ----------------------------------------------------------
SIZES = {"big": 50, "mid": 30, "small": 20}


@pytest.fixture
def grouped_store(tmp_path):
    rng = np.random.default_rng(0)
    n = sum(SIZES.values())
    src = np.repeat(np.array(list(SIZES)), list(SIZES.values()))
    store = build_store(tmp_path / "g", rng.uniform(0.5, 3.0, size=(n, 4)))
    store.set_metadata("source", src[rng.permutation(n)])
    return store


def _selected(sel):
    return {g: c["selected"] for g, c in sel.stats["groups"]["counts"].items()}


@pytest.mark.parametrize("method,params", [("random", {}), ("s2l", {"num_clusters": 3})])
@pytest.mark.parametrize(
    "rule,budget,expected",
    [
        ("equal", 10, {"big": 4, "mid": 3, "small": 3}),  # remainder: seeded draw (random)
        ("proportional", 10, {"big": 5, "mid": 3, "small": 2}),
        ("proportional", 7, {"big": 4, "mid": 2, "small": 1}),  # 3.5 2.1 1.4
        ({"big": 0.2, "mid": 0.2, "small": 0.6}, 40, {"big": 10, "mid": 10, "small": 20}),
        ({"big": 1, "mid": 2, "small": 4}, 7, {"big": 1, "mid": 2, "small": 4}),
    ],
)
def test_select_splits_by_the_rule(grouped_store, method, params, rule, budget, expected):
    sel = select(
        grouped_store, method, budget, seed=0, by_column="source", group_quotas=rule, **params
    )
    assert _selected(sel) == expected
    assert len(sel.indices) == budget
    src = grouped_store.metadata("source")
    got = dict(zip(*np.unique(src[sel.indices], return_counts=True)))
    assert {str(k): int(v) for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
    groups = sel.stats["groups"]
    assert groups["quotas"] == rule
    assert {g: c["quota"] for g, c in groups["counts"].items()} == expected
    assert sel.params["group_quotas"] == rule and sel.provenance["group_quotas"] == rule
    assert ("remainder" in groups) == (rule == "equal")
    assert ("group_remainder" in sel.params) == (rule == "equal")


def test_shares_with_a_short_group_are_recorded(grouped_store, caplog):
    rule = {"big": 0.25, "mid": 0.25, "small": 0.5}  # small wants 30 of 60, has 20
    with caplog.at_level(logging.WARNING):
        sel = select(grouped_store, "random", 60, by_column="source", group_quotas=rule)
    assert _selected(sel) == {"big": 20, "mid": 20, "small": 20}
    assert sel.stats["groups"]["short_groups"] == {"small": {"share": 0.5, "size": 20}}
    assert "'small' (20 rows)" in caplog.text and "taken whole" in caplog.text


def test_the_default_is_one_constant(grouped_store):
    assert DEFAULT_GROUP_QUOTAS == "equal"
    sel = select(grouped_store, "random", 10, by_column="source")
    assert sel.params["group_quotas"] == DEFAULT_GROUP_QUOTAS
    assert sel.stats["groups"]["quotas"] == DEFAULT_GROUP_QUOTAS
    plain = select(grouped_store, "random", 10)
    assert "group_quotas" not in plain.params and "group_quotas" not in plain.provenance


def test_integer_group_values_can_be_named_as_strings_or_ints(tmp_path):
    store = build_store(tmp_path / "i", np.random.default_rng(1).random((30, 3)))
    store.set_metadata("task", np.repeat(np.array([1, 2, 3]), [10, 10, 10]))
    a = select(store, "random", 6, by_column="task", group_quotas={1: 0.5, 2: 0.5})
    b = select(store, "random", 6, by_column="task", group_quotas={"1": 0.5, "2": 0.5})
    assert _selected(a) == _selected(b) == {"1": 3, "2": 3, "3": 0}


@pytest.mark.parametrize(
    "kwargs,phrase",
    [
        ({"group_quotas": "mix"}, "must be one of \\('equal', 'proportional'\\)"),
        ({"group_quotas": {}}, "non-empty mapping"),
        ({"group_quotas": {"big": 0.5, "nope": 0.5}}, "not in the group column: 'nope'"),
        ({"group_quotas": {"big": -0.5, "mid": 1.5}}, "'big'\\] = -0.5: .* must be >= 0"),
        ({"group_quotas": {"big": 0.5, "mid": 0.4}}, "shares sum to 0.9, not 1"),
        ({"group_quotas": {"big": 5, "mid": 4}}, "counts \\(integers\\) that sum to 9, but the "),
        ({"group_quotas": {"big": 5, "mid": 0.5}}, "mixes counts"),
        ({"group_quotas": {"big": True}}, "must be a number"),
        ({"group_quotas": "proportional", "group_remainder": "last"}, "drop group_remainder"),
    ],
)
def test_bad_quotas_say_why(grouped_store, kwargs, phrase):
    with pytest.raises(ValueError, match=phrase):
        select(grouped_store, "random", 10, by_column="source", **kwargs)


def test_counts_over_a_group_size_say_which(grouped_store):
    with pytest.raises(ValueError, match=r"'small' \(25 > 20 rows\)"):
        select(
            grouped_store, "random", 30, by_column="source", group_quotas={"small": 25, "big": 5}
        )


def test_quotas_need_stratified_groups_and_official_pins_equal(grouped_store):
    with pytest.raises(ValueError, match="pass by_column"):
        select(grouped_store, "random", 10, group_quotas="proportional")
    with pytest.raises(ValueError, match="pass by_column"):
        select(
            grouped_store, "random", 10, by_column="source", stratify=False, group_quotas="equal"
        )
    with pytest.raises(ValueError, match="group_quotas='proportional' \\(official: 'equal'\\)"):
        select(
            grouped_store,
            "s2l",
            10,
            by_column="source",
            num_clusters=3,
            official=True,
            group_quotas="proportional",
        )
    sel = select(grouped_store, "s2l", 10, by_column="source", num_clusters=3, official=True)
    assert sel.params["group_quotas"] == "equal"
    assert sel.provenance["official_choices"]["group_quotas"] == "equal"
    assert "--group-quotas" not in sel.provenance["command"]  # --official pins it


# --- the CLI, the reproduce command and the card -------------------------------------------
def test_cli_parses_every_form():
    assert parse_group_quotas_arg("proportional") == "proportional"
    assert parse_group_quotas_arg('{"a": 0.5, "b": 0.5}') == {"a": 0.5, "b": 0.5}
    assert parse_group_quotas_arg("a=0.5, b = 0.5") == {"a": 0.5, "b": 0.5}
    assert parse_group_quotas_arg("x=y=3,b=4") == {"x=y": 3, "b": 4}
    for bad in ("mix", "a=half", "{not json", "[1, 2]"):
        with pytest.raises(ValueError, match="--group-quotas"):
            parse_group_quotas_arg(bad)


@pytest.mark.parametrize(
    "arg,rule",
    [
        ("proportional", "proportional"),
        ("big=0.2,mid=0.2,small=0.6", {"big": 0.2, "mid": 0.2, "small": 0.6}),
    ],
)
def test_cli_selects_records_and_reproduces(grouped_store, tmp_path, capsys, arg, rule):
    out = tmp_path / "sel"
    argv = ["select", str(grouped_store.path), "--method", "random", "--budget", "20"]
    argv += ["--by-column", "source", "--group-quotas", arg, "--out", str(out)]
    assert main(argv) == 0
    sel = Selection.load(out)
    assert sel.params["group_quotas"] == rule
    api = select(grouped_store, "random", 20, by_column="source", group_quotas=rule)
    assert sel.indices.tolist() == api.indices.tolist()
    cmd = sel.provenance["command"]
    assert "--group-quotas" in cmd and api.provenance["command"].count("--group-quotas") == 1
    # the recorded command (the engine's) selects the same rows again
    import shlex

    again = shlex.split(api.provenance["command"].replace("OUT_DIR", str(tmp_path / "again")))
    assert main(again[1:]) == 0
    assert Selection.load(tmp_path / "again").indices.tolist() == api.indices.tolist()
    with pytest.raises(SystemExit):
        main([*argv[:-2], "--group-quotas", "big=half", "--out", str(tmp_path / "x")])
    assert "not a number" in capsys.readouterr().err


def test_card_records_the_rule_and_the_counts(grouped_store):
    import datasets

    from hf_s2l import SelectedDataset
    from hf_s2l.data.provenance import selection_provenance
    from hf_s2l.hub.card import build_card, read_provenance

    n = grouped_store.num_examples
    raw = datasets.Dataset.from_dict({"text": [f"row {i}" for i in range(n)]})
    sel = select(grouped_store, "random", 10, by_column="source", group_quotas="proportional")
    prov = selection_provenance(SelectedDataset(raw, sel, store=grouped_store, verify=False))
    assert prov.group_quotas == {
        "column": "source",
        "rule": "proportional",
        "groups": {
            "big": {"size": 50, "quota": 5, "selected": 5},
            "mid": {"size": 30, "quota": 3, "selected": 3},
            "small": {"size": 20, "quota": 2, "selected": 2},
        },
    }
    text = str(build_card(prov))
    assert "## Group quotas" in text and "each group keeps its share of the pool" in text
    assert "| source | pool | quota | selected |" in text and "| big | 50 | 5 | 5 |" in text
    assert read_provenance(text).group_quotas == prov.group_quotas
    assert json.loads(json.dumps(prov.to_dict()))["group_quotas"]["rule"] == "proportional"
