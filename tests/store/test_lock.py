"""One writer per store: real processes contend for the writer lock; SIGKILL frees it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import StoreLockedError, TrajectoryStore, select
from hf_s2l.store import lock as lock_mod

REPO = Path(__file__).resolve().parents[2]

HOLD = """
import sys, time
from pathlib import Path
from hf_s2l import TrajectoryStore
store = TrajectoryStore.open(sys.argv[1], "r+")
print("LOCKED", flush=True)
time.sleep(120)
"""

CREATE_AT = """
import sys, time
from pathlib import Path
from hf_s2l import StoreLockedError, TrajectoryStore
path, go = sys.argv[1], Path(sys.argv[2])
while not go.exists():
    time.sleep(0.0005)
try:
    store = TrajectoryStore.create(path, 6, dataset_fingerprint="fp", exist_ok=True)
except StoreLockedError as e:
    print("LOCKED", e, flush=True)
    sys.exit(0)
c = store.add_column(0, 0.0, "train_begin")
store.write(c, list(range(6)), [float(c)] * 6)
store.mark_complete(c)
print("WROTE", flush=True)
time.sleep(1.5)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"
    return env


def _filled(path: Path, n: int = 6) -> None:
    with TrajectoryStore.create(path, n, dataset_fingerprint="fp") as store:
        c = store.add_column(0, 0.0, "train_begin")
        store.write(c, np.arange(n), np.arange(n, dtype=np.float32))
        store.mark_complete(c)


def _start_holder(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.strip() == "LOCKED", proc.stderr.read()
    return proc


def test_second_writer_refused_readers_work_and_sigkill_frees(tmp_path):
    path = tmp_path / "traj"
    _filled(path)
    holder = _start_holder(path)
    try:
        for attempt in (
            lambda: TrajectoryStore.open(path, "r+"),
            lambda: TrajectoryStore.create(path, 6, dataset_fingerprint="fp", exist_ok=True),
            lambda: TrajectoryStore.create(path, 6, replace=True),
        ):
            with pytest.raises(StoreLockedError) as info:
                attempt()
            msg = str(info.value)
            assert str(path) in msg and "being written by another process" in msg
            assert f"pid {holder.pid} on host {socket.gethostname()}" in msg
            assert info.value.holder["pid"] == holder.pid
        # readers keep working while the writer holds the store
        reader = TrajectoryStore.open(path)
        assert reader.losses[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
        assert len(select(path, "random", 3, seed=0)) == 3
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # the kernel dropped the lock with the killed process: the next writer gets it
    with TrajectoryStore.open(path, "r+") as store:
        assert store.num_columns == 1
        assert lock_mod.read_holder(path)["pid"] == os.getpid()
    assert lock_mod.read_holder(path) == {}  # released: the holder file is removed


def test_close_releases_for_other_processes(tmp_path):
    path = tmp_path / "traj"
    _filled(path)  # created and closed in this process
    holder = _start_holder(path)  # another process can take it
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    store = TrajectoryStore.open(path, "r+")
    check = subprocess.run(
        [sys.executable, "-c", HOLD, str(path)], env=_env(), capture_output=True, text=True
    )
    assert check.returncode == 1 and "StoreLockedError" in check.stderr
    assert f"pid {os.getpid()}" in check.stderr
    store.close()
    holder = _start_holder(path)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)


def test_same_process_holds_are_counted(tmp_path):
    path = tmp_path / "traj"
    held_before = set(lock_mod._held)  # stores other tests left open in this process
    a = TrajectoryStore.create(path, 4)
    b = TrajectoryStore.open(path, "r+")  # same process: shares the lock (e.g. a notebook re-run)
    a.close()
    assert lock_mod.read_holder(path)["pid"] == os.getpid()  # b still holds it
    b.add_column(0, 0.0)
    b.close()
    assert lock_mod.read_holder(path) == {}
    with pytest.raises(PermissionError, match="read-only"):
        b.add_column(1, 1.0)  # a closed store no longer writes
    del b
    assert set(lock_mod._held) <= held_before


def test_lock_dropped_when_store_object_is_collected(tmp_path):
    path = tmp_path / "traj"
    TrajectoryStore.create(path, 4)  # not kept
    import gc

    gc.collect()
    assert not lock_mod._held and lock_mod.read_holder(path) == {}


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_creates_one_writer_clear_error(tmp_path, round_):
    """Four processes create the same store at the same instant: one writes, three are refused
    with StoreLockedError (never ``OSError: [Errno 39] Directory not empty``)."""
    path, go = tmp_path / "traj", tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CREATE_AT, str(path), str(go)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(4)  # all four are importing, then polling for the go file
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    lines = [o[0].strip() for o in outs]
    wrote = [i for i, line in enumerate(lines) if line == "WROTE"]
    locked = [line for line in lines if line.startswith("LOCKED")]
    assert len(wrote) == 1 and len(locked) == 3, lines
    winner = procs[wrote[0]].pid
    assert all(f"pid {winner}" in line and str(path) in line for line in locked), locked
    store = TrajectoryStore.open(path)
    assert store.num_columns == 1 and store.losses[:, 0].tolist() == [0.0] * 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["go", "traj"]  # no temporary left


def test_same_instant_race_is_a_lock_error(tmp_path, monkeypatch):
    """The loser of the create race (both saw no store, the other renamed first) reports the
    holder instead of ``OSError: [Errno 39] Directory not empty``."""
    from hf_s2l.store import _create as ts_mod

    path = tmp_path / "traj"
    _filled(path)
    holder = _start_holder(path)
    real, calls = ts_mod.is_store, []

    def stale_is_store(p):  # the first three checks ran before the other process renamed
        calls.append(p)
        return False if len(calls) <= 3 else real(p)

    monkeypatch.setattr(ts_mod, "is_store", stale_is_store)
    monkeypatch.setattr(ts_mod, "check_empty_dir", lambda p: None)  # it saw no directory
    try:
        with pytest.raises(StoreLockedError, match=f"pid {holder.pid}"):
            TrajectoryStore.create(path, 6, dataset_fingerprint="fp", exist_ok=True)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert len(calls) >= 4  # the race branch ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["traj"]  # its temporary is gone
