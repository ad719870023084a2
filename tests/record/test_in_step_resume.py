"""In-step resume after a crash between the Trainer's checkpoint and the recorder's flush."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hf_s2l import TrajectoryStore


@pytest.mark.slow  # end-to-end, kill + resume subprocesses (~60 s); CI runs it
def test_kill_after_checkpoint_then_resume_equals_uninterrupted(
    tmp_path, record_ds, tokenizer_dir, helpers
):
    """Killed in on_save of step 3 (checkpoint written, recorder's on_save not run): the
    resumed store holds every cell, equal to an uninterrupted run's, nothing left NaN."""
    data = tmp_path / "data"
    record_ds.save_to_disk(str(data))
    env = helpers.subprocess_env()
    cmd = [sys.executable, helpers.HERE / "in_step_resume_train.py", data, tokenizer_dir, tmp_path]

    helpers.run_subprocess([*cmd, "kill"], env, tmp_path, expect_rc=3)
    assert sorted(p.name for p in (tmp_path / "run").glob("checkpoint-*")) == ["checkpoint-3"]
    killed = TrajectoryStore.open(tmp_path / "traj")
    # the store agrees with the checkpoint: the 24 examples of steps 1-3 are on disk
    assert int(np.isfinite(np.asarray(killed.losses[:, 0])).sum()) == 24

    _, _, err = helpers.run_subprocess([*cmd, "resume"], env, tmp_path)
    store = TrajectoryStore.open(tmp_path / "traj")
    full = TrajectoryStore.open(tmp_path / "full_traj")
    assert store.num_columns == full.num_columns == 2
    assert store.complete_columns().tolist() == [0, 1]
    assert not np.isnan(store.losses).any()
    assert np.array_equal(np.asarray(store.cell_steps), np.asarray(full.cell_steps))
    assert np.abs(np.asarray(store.losses) - np.asarray(full.losses)).max() <= 1e-5
    assert "were not seen" not in err
