"""meta.json that parses but would break later (deep nesting, integers beyond int64) is a
StoreCorruptError naming the file at open, also through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import StoreCorruptError, TrajectoryStore

from .test_cli import assert_user_error, run_cli

N = 8


def _store(path: Path) -> Path:
    with TrajectoryStore.create(path, N, dataset_fingerprint="fp") as s:
        for j in range(3):
            c = s.add_column(j, j / 3, "point")
            s.write(c, np.arange(N), np.arange(N, dtype=np.float32))
            s.mark_complete(c)
    return path


EDITS = {
    "deeply-nested": (
        lambda text: text.replace(
            '"extra": {}', '"extra": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
        )
    ),
    "huge-global-step": (
        lambda text: _set(text, lambda m: m["columns"][1].__setitem__("global_step", 10**30))
    ),
    "huge-epoch": (
        lambda text: _set(text, lambda m: m["columns"][1].__setitem__("epoch", 10**400))
    ),
    "huge-dataset-length": (
        lambda text: _set(text, lambda m: m["dataset"].__setitem__("length", 10**30))
    ),
}


def _set(text: str, edit) -> str:
    meta = json.loads(text)
    edit(meta)
    return json.dumps(meta)


@pytest.mark.parametrize("case", sorted(EDITS))
def test_open_refuses_with_store_corrupt_error(tmp_path, case):
    path = _store(tmp_path / "store")
    meta = path / "meta.json"
    text = meta.read_text()
    assert '"extra": {}' in text or case != "deeply-nested"
    meta.write_text(EDITS[case](text))
    with pytest.raises(StoreCorruptError, match="meta.json"):
        TrajectoryStore.open(path)


@pytest.mark.parametrize(
    "command",
    [["select", "store", "--budget", "3", "--out", "sel"], ["report", "store", "--out", "rep"]],
)
def test_cli_names_the_file(tmp_path, command):
    path = _store(tmp_path / "store")
    meta = path / "meta.json"
    meta.write_text(EDITS["huge-global-step"](meta.read_text()))
    proc = run_cli(*command, cwd=tmp_path)
    assert_user_error(proc, "corrupt", "meta.json", "global_step")
    assert not (tmp_path / "sel").exists()
