"""Ctrl-C (SIGINT) at any moment of a real ``hf-s2l`` process: ``error: interrupted``, status
130, no traceback -- also while the command line is still importing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from hf_s2l.store import TrajectoryStore

# big enough that `select --method facility_location` still runs seconds after the imports
BIG_N = 300_000


def make_big_store(path):
    store = TrajectoryStore.create(path, BIG_N, dataset_fingerprint="fp", model_name_or_path="tiny")
    rng = np.random.default_rng(0)
    for step in (0, 5, 10, 15, 20, 25):
        c = store.add_column(global_step=step, epoch=step / 10, kind="point")
        store.write(c, np.arange(BIG_N), rng.random(BIG_N).astype(np.float32))
        store.mark_complete(c)
    store.close()


# seconds after hf_s2l.cli's first import, argparse, (as `python -X importtime` prints it)
DELAYS = (0.0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.25, 0.4, 0.7, 1.0)


@pytest.mark.parametrize("delay", DELAYS)
def test_ctrl_c_in_the_first_second(tmp_path, delay):
    make_big_store(tmp_path / "store")
    env = {k: v for k, v in os.environ.items() if k != "HF_S2L_DEBUG"}
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "hf_s2l.cli",
            "select",
            "store",
            "--method",
            "facility_location",  # seconds of work on BIG_N rows: still running at the signal
            "--budget",
            "30%",
            "--out",
            "sel",
        ],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    seen = []
    for line in proc.stderr:  # from hf_s2l.cli's first import on (start-up is not ours)
        seen.append(line)
        if line.rstrip().endswith(("| gettext", "| argparse")):
            break
    else:
        pytest.fail("".join(seen[-20:]))
    time.sleep(delay)
    assert proc.poll() is None, "the command ended before the signal: make BIG_N larger"
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    proc.wait(60)
    err = "".join(ln for ln in rest.splitlines(keepends=True) if not ln.startswith("import time:"))
    assert "Traceback" not in err, err
    assert proc.returncode == 130, (proc.returncode, err)
    assert err.strip().splitlines()[-1] == "error: interrupted", err
    assert not (tmp_path / "sel").exists()
