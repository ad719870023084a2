"""Resume after a kill: complete columns kept, half-written column redone, no duplicates."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hf_s2l import TrajectoryStore


@pytest.mark.slow  # end-to-end, several processes (> 20 s); CI runs it
def test_kill_mid_column_then_resume_equals_uninterrupted(
    tmp_path, record_ds, tokenizer_dir, helpers
):
    data = tmp_path / "data"
    record_ds.save_to_disk(str(data))
    script = helpers.HERE / "resume_train.py"
    env = helpers.subprocess_env()
    cmd = [sys.executable, script, data, tokenizer_dir, tmp_path]

    rc, _, _ = helpers.run_subprocess([*cmd, "kill"], env, tmp_path, expect_rc=3)
    assert sorted(p.name for p in (tmp_path / "run").glob("checkpoint-*")) == ["checkpoint-3"]
    killed = TrajectoryStore.open(tmp_path / "traj")
    assert killed.steps.tolist() == [0, 2, 4, 6]
    assert [c["complete"] for c in killed.columns] == [True, True, True, False]
    half = np.asarray(killed.losses[:, 3])
    assert 0 < np.isfinite(half).sum() < len(half)  # interrupted mid-column
    before = {j: (killed.columns[j]["wall_time"], np.array(killed.losses[:, j])) for j in range(3)}

    helpers.run_subprocess([*cmd, "resume"], env, tmp_path)
    store = TrajectoryStore.open(tmp_path / "traj")
    full = TrajectoryStore.open(tmp_path / "full_traj")
    assert store.steps.tolist() == full.steps.tolist() == [0, 2, 4, 6, 8]
    assert (
        store.kinds == full.kinds == ["train_begin", "interval", "interval", "interval", "interval"]
    )
    np.testing.assert_allclose(store.epochs, full.epochs)
    assert store.complete_columns().tolist() == [0, 1, 2, 3, 4]
    assert not np.isnan(store.losses).any()
    assert np.abs(store.losses - full.losses).max() <= 1e-6
    # columns up to the checkpoint (steps 0, 2) kept as they were, not recorded again
    for j in (0, 1):
        assert store.columns[j]["wall_time"] == before[j][0]
        assert np.array_equal(store.losses[:, j], before[j][1])
    # step 4 was recorded after checkpoint-3 by the killed run: recorded again on the way
    assert store.columns[2]["wall_time"] != before[2][0]
    assert store.meta["extra"]["recorder"]["resumed_from_step"] == 3
