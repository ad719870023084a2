"""In-step resume in a new process with another PYTHONHASHSEED (issue 12, point 2)."""

from __future__ import annotations

import json
import sys

import datasets
import pytest

from hf_s2l import TrajectoryStore


@pytest.mark.slow
def test_in_step_resume_with_another_hash_seed(tmp_path, record_full, tokenizer_dir, helpers):
    data = tmp_path / "data"
    record_full.save_to_disk(str(data))  # keeps example_id and source: dropped by the Trainer
    assert {"example_id", "source"} <= set(record_full.column_names)
    script = helpers.HERE / "in_step_hashseed_script.py"
    cmd = [sys.executable, script, data, tokenizer_dir, tmp_path]
    env = helpers.subprocess_env()
    # seeds 1 and 5 order the set {"example_id", "source"} differently
    helpers.run_subprocess([*cmd, "first"], {**env, "PYTHONHASHSEED": "1"}, tmp_path)
    helpers.run_subprocess([*cmd, "resume"], {**env, "PYTHONHASHSEED": "5"}, tmp_path)

    first = json.loads((tmp_path / "info-first.json").read_text())
    resumed = json.loads((tmp_path / "info-resume.json").read_text())
    # the premise: the Trainer's column-dropped copy has a hash-seed dependent fingerprint
    assert first["loader_fingerprint"] != resumed["loader_fingerprint"]
    store = TrajectoryStore.open(tmp_path / "store")
    # the store records the fingerprint of the dataset the user passed
    assert store.dataset_fingerprint == datasets.load_from_disk(str(data))._fingerprint
    assert store.kinds == ["epoch", "epoch"]
    assert store.complete_columns().tolist() == [0, 1]
    assert store.steps.tolist() == [0, 6]  # first step of each epoch (48 rows, batch 8)
