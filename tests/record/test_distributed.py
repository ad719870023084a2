"""Real multi-process recording: torchrun --nproc_per_node 2 (gloo, CPU) vs one process."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hf_s2l import TrajectoryStore
from hf_s2l.compat import stack_limit


@pytest.mark.slow  # end-to-end, several processes (> 20 s); CI runs it
def test_torchrun_two_processes_equals_single_process(
    tmp_path, record_full, tokenizer_dir, helpers
):
    data = tmp_path / "data"
    record_full.save_to_disk(str(data))
    script = helpers.HERE / "dist_train.py"
    env = helpers.subprocess_env()
    common = [data, tokenizer_dir]
    helpers.run_subprocess(
        [sys.executable, script, *common, tmp_path / "run1", tmp_path / "single"], env, tmp_path
    )
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ]
    helpers.run_subprocess(
        [*torchrun, script, *common, tmp_path / "run2", tmp_path / "multi"], env, tmp_path
    )
    single = TrajectoryStore.open(tmp_path / "single")
    multi = TrajectoryStore.open(tmp_path / "multi")
    assert multi.num_examples == single.num_examples == len(record_full)
    assert multi.steps.tolist() == single.steps.tolist() == [0, 2, 4]
    assert multi.kinds == single.kinds
    np.testing.assert_allclose(multi.epochs, single.epochs)
    assert multi.complete_columns().tolist() == [0, 1, 2]
    assert not np.isnan(multi.losses).any()
    cols = slice(0, 1) if stack_limit("ddp_token_average") else slice(None)  # Trainer: step 0
    assert np.abs(multi.losses[:, cols] - single.losses[:, cols]).max() <= 1e-6
    assert multi.num_tokens.tolist() == single.num_tokens.tolist()
    assert multi.example_ids.tolist() == single.example_ids.tolist() == record_full["example_id"]
    assert multi.metadata("source").tolist() == record_full["source"]
    assert multi.dataset_fingerprint == single.dataset_fingerprint
    assert multi.meta["extra"]["recorder"]["training_args"]["world_size"] == 2
    assert single.meta["extra"]["recorder"]["training_args"]["world_size"] == 1
