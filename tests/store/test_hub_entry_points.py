"""``TrajectoryStore.push_to_hub`` / ``from_hub``: the Hugging Face ``push_to_hub`` convention
users know, without a warning. The store layer does not import ``hf_s2l.hub`` at all (not even
in a function body: tests/test_layers.py); ``hf_s2l/__init__.py`` binds the two methods to it.
Both calls below reach the real hub code and are refused there before anything is sent (the
round trip itself is tested in tests/hub)."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from hf_s2l import TrajectoryStore


def test_push_to_hub_runs_the_hub_function(tmp_path):
    with TrajectoryStore.create(tmp_path / "s", num_examples=4) as store:
        store.add_column(global_step=0, epoch=0.0)  # never completed: nothing to share
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="no complete column"):
                store.push_to_hub("me/empty")


def test_from_hub_runs_the_hub_function(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="'..' is not allowed in a Hub path"):
            TrajectoryStore.from_hub("me/x", path_in_repo="../up")


def test_the_store_layer_does_not_load_the_hub_on_import():
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    code = (
        "import sys; import hf_s2l.store, hf_s2l.store.trajectory_store; "
        "print(sorted(m for m in sys.modules if m.startswith('hf_s2l.hub')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"
