"""``Selection``: unsorted input stays aligned, the folder is saved atomically, load checks it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import Selection
from hf_s2l.selection import _folder as folder_mod
from hf_s2l.selection import selection as sel_mod

REPO = Path(__file__).resolve().parents[2]


def test_unsorted_indices_keep_weights_and_ids_aligned():
    sel = Selection(
        indices=[50, 10, 30],
        method="manual",
        weights=[5.0, 1.0, 3.0],
        example_ids=np.array(["e50", "e10", "e30"]),
        order=[30, 50, 10],
    )
    assert sel.indices.tolist() == [10, 30, 50]
    assert sel.weights.tolist() == [1.0, 3.0, 5.0]  # row 10 keeps its weight 1
    assert sel.example_ids.tolist() == ["e10", "e30", "e50"]
    assert sel.order.tolist() == [30, 50, 10]  # a presentation order of the same rows
    with pytest.raises(ValueError, match="example_ids must align"):
        Selection(indices=[1, 2], method="manual", example_ids=["a"])


SAVER = """
import sys
import numpy as np
from hf_s2l import Selection
from hf_s2l.selection import _folder as folder_mod
from hf_s2l.selection import selection as sel_mod
if sys.argv[2] == "fallback":
    folder_mod.exchange = lambda a, b: False  # the two-rename path of non-Linux systems
def make(k):
    n = 30 + 40 * k
    return Selection(indices=np.arange(n) * 2, method=f"m{k}", num_examples=400,
                     weights=np.full(n, k + 1.0), example_ids=np.array([f"id{i}" for i in range(n)]))
sels = [make(0), make(1)]
print("READY", flush=True)
i = 0
while True:
    sels[i % 2].save(sys.argv[1])
    i += 1
"""


def _check_whole(d: Path) -> str:
    sel = Selection.load(d)
    k = {"m0": 0, "m1": 1}[sel.method]
    n = 30 + 40 * k
    assert sel.indices.tolist() == (np.arange(n) * 2).tolist()
    assert sel.weights.tolist() == [k + 1.0] * n
    assert sel.example_ids.tolist() == [f"id{i}" for i in range(n)]
    return sel.method


@pytest.mark.slow
@pytest.mark.parametrize("path", ["exchange", "fallback"])
def test_sigkill_during_save_leaves_old_or_new(tmp_path, path):
    if path == "exchange":
        if not sys.platform.startswith("linux"):
            pytest.skip("renameat2 is Linux-only")
        (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
        assert folder_mod.exchange(tmp_path / "a", tmp_path / "b")  # really the atomic swap
        (tmp_path / "a").rmdir(), (tmp_path / "b").rmdir()
    d = tmp_path / "sel"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(d), path], env=env, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "READY"
        time.sleep(float(rng.uniform(0.05, 0.4)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        seen.add(_check_whole(d))  # old or new, whole, never a mix
    assert seen <= {"m0", "m1"}
    # the next save cleans up whatever the kills left
    Selection(indices=[1], method="m0").save(d)
    assert sorted(p.name for p in tmp_path.iterdir() if ".old-" in p.name) == []


def test_fallback_swap_interrupted_between_renames(tmp_path, monkeypatch):
    d = tmp_path / "sel"
    Selection(indices=[1, 2], method="old").save(d)
    monkeypatch.setattr(folder_mod, "exchange", lambda a, b: False)
    real_rename, calls = os.rename, []

    def crash_second(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process dies between the two renames
        real_rename(src, dst)

    monkeypatch.setattr(sel_mod.os, "rename", crash_second)
    with pytest.raises(KeyboardInterrupt):
        Selection(indices=[5, 6, 7], method="new").save(d)
    monkeypatch.setattr(sel_mod.os, "rename", real_rename)
    assert not d.exists()
    assert Selection.load(d).method == "old"  # load reads the complete old folder
    Selection(indices=[5, 6, 7], method="new").save(d)  # puts it back, then replaces it
    assert Selection.load(d).method == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sel"]


def test_save_refuses_overwrite_when_asked(tmp_path):
    d = tmp_path / "sel"
    Selection(indices=[1], method="a").save(d)
    with pytest.raises(sel_mod.SelectionExistsError, match="overwrite"):
        Selection(indices=[2], method="b").save(d, overwrite=False)
    assert Selection.load(d).method == "a"
