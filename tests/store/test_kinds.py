"""``hf_s2l.store.kinds`` agrees with the kind helpers it replaces (record/schedule.py,
TrajectoryStore.column_has_kind/columns_of_kind, selection/columns.py, selection/column_roles.py)
on the legacy stores and on hand-made ones; the empty-kind drift is settled as ``point``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hf_s2l.record import schedule
from hf_s2l.selection import column_roles, columns
from hf_s2l.store import TrajectoryStore, kinds

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
LEGACY_STORES = ["probe", "in_step", "both", "both/in_step"]

# (global_step, epoch, kind, complete) of a hand-made probe store covering every case
COLUMNS = [
    (0, 0.0, "train_begin", True),
    (0, 0.0, "point", True),
    (0, 0.0, "epoch_end", True),
    (0, 0.0, "epoch", True),
    (2, 0.5, "", True),
    (4, 1.0, "point+epoch_end", True),
    (5, 1.2, "interval", True),
    (6, 1.5, "point", False),
    (8, 2.0, "epoch_end+interval", True),
]


def _make(path: Path, cols: list[tuple], mode: str = "probe") -> TrajectoryStore:
    st = TrajectoryStore.create(path, 3, mode=mode)
    for step, epoch, kind, complete in cols:
        c = st.add_column(step, epoch, kind=kind)
        st.write(c, [0, 1, 2], [1.0, 2.0, 3.0])
        if complete:
            st.mark_complete(c)
    return st


@pytest.fixture(
    params=[*LEGACY_STORES, "made_probe", "made_in_step", "made_empty"],
)
def store(request, tmp_path):
    name = request.param
    if name == "made_probe":
        st = _make(tmp_path / "s", COLUMNS)
    elif name == "made_in_step":
        st = _make(tmp_path / "s", [(0, 0.0, "epoch", True), (3, 1.0, "epoch", True)], "in_step")
    elif name == "made_empty":
        st = TrajectoryStore.create(tmp_path / "s", 2)
    else:
        st = TrajectoryStore.open(LEGACY / name)
    yield st
    st.close()


def test_legacy_fixtures_exist():
    for name in LEGACY_STORES:
        assert (LEGACY / name / "meta.json").is_file(), name


def test_constants_match_the_old_names():
    assert kinds.KIND_SEPARATOR == schedule.KIND_SEPARATOR == "+"
    assert kinds.BEFORE_TRAINING_KIND == columns.BEFORE_TRAINING_KIND == kinds.TRAIN_BEGIN
    assert kinds.IN_STEP_KIND == columns.IN_STEP_KIND == kinds.IN_STEP == "epoch"
    assert kinds.PROBE_KINDS == columns.PROBE_KINDS
    assert kinds.KNOWN_KINDS == columns.KNOWN_KINDS
    assert kinds.KIND_ALIASES == columns.KIND_ALIASES
    assert kinds.EPOCH_END_KIND == column_roles.EPOCH_END_KIND == kinds.EPOCH_END
    assert (kinds.POINT, kinds.INTERVAL, kinds.DEFAULT_KIND) == ("point", "interval", "point")
    # the kinds the schedule emits are the constants
    rs = schedule.RecordingSchedule(num_points=2, every_n_steps=2)
    assert rs.kinds_at_step(2, 4, epoch_end=True) == [kinds.POINT, kinds.INTERVAL, kinds.EPOCH_END]


@pytest.mark.parametrize(
    "parts",
    [(), ("point",), ("point", "epoch_end"), ("point+epoch_end", "point"), ("", "a+", "+b", "a")],
)
def test_join_kinds_matches_schedule(parts):
    assert kinds.join_kinds(*parts) == schedule.join_kinds(*parts)


def test_kinds_of_accepts_string_mapping_and_store(store):
    for c in range(store.num_columns):
        expected = columns.kinds_of(store, c)
        assert kinds.kinds_of(store, c) == expected
        assert kinds.kinds_of(store.kinds[c]) == expected
        assert kinds.kinds_of(store.columns[c]) == expected
    assert kinds.kinds_of({}) == kinds.kinds_of(None) == ["point"]


def test_helpers_agree_with_the_old_ones(store):
    for c in range(store.num_columns):
        assert kinds.is_before_training(store, c) == columns.is_before_training(store, c)
        for k in {*kinds.KNOWN_KINDS, *store.kinds, "nope"}:
            assert kinds.column_has_kind(store, c, k) == store.column_has_kind(c, k)
    for k in kinds.KNOWN_KINDS:
        for complete_only in (True, False):
            new = kinds.columns_of_kind(store, k, complete_only=complete_only)
            assert new.dtype == np.int64
            old = store.columns_of_kind(k, complete_only=complete_only)
            np.testing.assert_array_equal(new, old)
    assert kinds.before_training_columns(store) == column_roles.before_training_columns(store)
    np.testing.assert_array_equal(kinds.trained_columns(store), column_roles.trained_columns(store))
    some = list(range(store.num_columns))[::2]
    assert kinds.before_training_columns(store, some) == column_roles.before_training_columns(
        store, some
    )
    np.testing.assert_array_equal(
        kinds.trained_columns(store, some), column_roles.trained_columns(store, some)
    )
    assert kinds.describe_columns(store) == column_roles.describe_columns(store)


@pytest.mark.parametrize(
    "asked", ["probe", "in_step", ["point", "probe"], "epoch_end", ("train_begin", "epoch")]
)
def test_expand_kinds_matches(store, asked):
    assert kinds.expand_kinds(asked, store) == columns._expand_kinds(asked, store)


@pytest.mark.parametrize("asked", ["nope", [], [3], ["point", "bogus"]])
def test_expand_kinds_errors_match(store, asked):
    with pytest.raises(ValueError) as new:
        kinds.expand_kinds(asked, store)
    with pytest.raises(ValueError) as old:
        columns._expand_kinds(asked, store)
    assert str(new.value) == str(old.value)


def test_legacy_stores_have_the_expected_roles():
    """Pin the roles on the legacy stores, so an agreeing-but-wrong helper still fails."""
    with TrajectoryStore.open(LEGACY / "probe") as st:
        assert st.kinds[0] == "train_begin"
        assert kinds.is_before_training(st, 0)
        assert kinds.before_training_columns(st) == [0]
        assert list(kinds.trained_columns(st)) == list(range(1, st.num_columns))
    with TrajectoryStore.open(LEGACY / "in_step") as st:
        assert set(st.kinds) == {"epoch"}
        assert int(st.steps[0]) == 0
        assert kinds.before_training_columns(st) == []
        assert list(kinds.columns_of_kind(st, "epoch")) == list(range(st.num_columns))


def test_empty_kind_is_point(tmp_path):
    """The drift settled: an empty kind is ``point`` (selection's behaviour, which picks the
    indices); the store method used to say it had no kind, it now delegates to kinds."""
    with _make(tmp_path / "s", COLUMNS) as st:
        empty = st.kinds.index("")
        assert kinds.kinds_of(st, empty) == ["point"]
        assert kinds.column_has_kind(st, empty, "point")
        assert st.column_has_kind(empty, "point") and not st.column_has_kind(empty, "")
        assert empty in kinds.columns_of_kind(st, "point")
        assert empty in st.columns_of_kind("point")
        assert not kinds.is_before_training(st, empty)
        assert "epoch" not in kinds.expand_kinds("probe", st)
        assert kinds.describe_columns(st).split(", ")[empty].startswith(f"{empty}:?@step2")


def test_before_training_on_the_hand_made_store(tmp_path):
    with _make(tmp_path / "s", COLUMNS) as st:
        # train_begin, and point at step 0; not epoch_end/epoch at step 0, not the incomplete
        assert kinds.before_training_columns(st) == [0, 1]
        assert list(kinds.trained_columns(st)) == [2, 3, 4, 5, 6, 8]
        assert kinds.before_training_columns(st, [7]) == []
        assert list(kinds.columns_of_kind(st, "epoch_end")) == [2, 5, 8]
        assert list(kinds.columns_of_kind(st, "point", complete_only=False)) == [1, 4, 5, 7]
