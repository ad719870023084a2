"""Two real trainings started at the same instant on one store path: one records, one stops."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import TrajectoryStore

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_two_trainings_one_store(tmp_path, record_ds, tokenizer_dir, helpers):
    data = tmp_path / "data"
    record_ds.save_to_disk(str(data))
    env = helpers.subprocess_env()
    store, go = tmp_path / "traj", tmp_path / "go"
    script = HERE / "two_writers_train.py"

    def start(run: str, store_dir: Path, go_file: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, script, data, tokenizer_dir, tmp_path / run, store_dir, go_file],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    procs = [start("run_a", store, go), start("run_b", store, go)]
    time.sleep(15)  # both import and build their Trainer, then poll for the go file
    go.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 1], (codes, [o[1][-3000:] for o in outs])
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    err = outs[loser][1]
    assert "StoreLockedError" in err and "being written by another process" in err
    assert f"pid {procs[winner].pid} on host {socket.gethostname()}" in err
    assert str(store) in err
    assert "TRAINED" not in outs[loser][0]

    # the winner's store equals a run that was alone
    alone = start("run_alone", tmp_path / "alone", tmp_path / "go")
    out, err = alone.communicate(timeout=300)
    assert alone.returncode == 0, err[-3000:]
    got, ref = TrajectoryStore.open(store), TrajectoryStore.open(tmp_path / "alone")
    assert got.steps.tolist() == ref.steps.tolist() == [0, 2, 4, 6]
    assert got.complete_columns().tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.asarray(got.losses), np.asarray(ref.losses))
