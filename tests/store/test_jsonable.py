"""``hf_s2l.store.jsonable`` reproduces each JSON helper it replaces, value for value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hf_s2l.data.card import _plain as card_plain
from hf_s2l.record.callback import _plain as callback_plain
from hf_s2l.selection.provenance import jsonable as provenance_jsonable
from hf_s2l.selection.selection import _jsonable as selection_default
from hf_s2l.store.jsonable import json_default, to_jsonable
from hf_s2l.store.trajectory_store import _json_default as store_default

BATTERY = [
    None,
    True,
    3,
    2.5,
    float("inf"),
    'naïve "q" $x',
    np.int64(7),
    np.int8(-2),
    np.float32(0.1),
    np.float64(1e-300),
    np.bool_(True),
    np.str_("s"),
    np.arange(6).reshape(2, 3),
    np.array([0.5, np.nan], dtype=np.float32),
    (1, "a", None),
    [np.int64(1), [2.0, (3,)]],
    list(range(70)),
    tuple(range(65)),
    {"a": np.float32(2.0), 3: [np.int32(4)], "p": Path("/x y")},
    {"nested": {"arr": np.ones(2), "t": (np.int16(1), "b")}},
    Path("/tmp/a b"),
    {1, 2},
    object,
    complex(1, 2),
]
IDS = [repr(v)[:30] for v in BATTERY]


def _same(a, b):
    assert json.dumps(a, sort_keys=True, default=repr) == json.dumps(
        b, sort_keys=True, default=repr
    )
    assert type(a) is type(b)


def _both(old, new, value):
    try:
        expected = old(value)
    except Exception as e:  # the old helper refused: the new one may only refuse or extend
        return e
    _same(new(value), expected)
    return None


@pytest.mark.parametrize("value", BATTERY, ids=IDS)
def test_json_default_reproduces_the_store_and_selection_hooks(value):
    assert store_default is json_default  # the store's old private name is an alias now
    refused = _both(selection_default, json_default, value)
    if refused is not None:
        with pytest.raises(type(refused)):
            json_default(value)
    # as a json.dumps hook, on whole values
    for old in (selection_default,):
        try:
            expected = json.dumps({"v": value}, default=old)
        except (TypeError, ValueError):
            continue
        assert json.dumps({"v": value}, default=json_default) == expected


@pytest.mark.parametrize("value", BATTERY, ids=IDS)
def test_summary_mode_reproduces_provenance_jsonable(value):
    _both(provenance_jsonable, lambda v: to_jsonable(v, arrays="summary"), value)
    assert provenance_jsonable(value) is not None or value is None  # the old helper never fails


@pytest.mark.parametrize("value", BATTERY, ids=IDS)
def test_list_mode_reproduces_the_card_plain(value):
    refused = _both(card_plain, to_jsonable, value)
    if refused is not None:
        with pytest.raises(type(refused)):
            to_jsonable(value)


@pytest.mark.parametrize("value", BATTERY, ids=IDS)
def test_shallow_mode_reproduces_the_callback_plain(value):
    expected = callback_plain(value)
    got = to_jsonable(value, recurse=False)
    assert got == expected or (got != got and expected != expected)
    assert type(got) is type(expected)


def test_pinned_outputs():
    """Pin a few values, so that helpers agreeing on a wrong answer still fail."""
    assert json.dumps(
        [np.int64(1), np.float32(0.5), np.arange(2), Path("p")], default=json_default
    ) == ('[1, 0.5, [0, 1], "p"]')
    s = to_jsonable({"a": np.zeros(3, np.float32), "b": list(range(65))}, arrays="summary")
    assert s["a"]["array"] == [3] and s["a"]["dtype"] == "float32" and len(s["a"]["sha1"]) == 12
    assert s["b"]["array"] == [65]
    assert to_jsonable({"t": (1, np.int8(2)), 3: Path("x")}) == {"t": [1, 2], "3": "x"}
    assert to_jsonable([1, 2], recurse=False) == "[1, 2]"
    with pytest.raises(TypeError):
        to_jsonable(object(), fallback="error")
    with pytest.raises(ValueError, match="arrays"):
        to_jsonable(1, arrays="nope")
