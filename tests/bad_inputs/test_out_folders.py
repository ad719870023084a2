"""``hf-s2l export`` / ``report`` never overwrite a user's folder (real CLI processes)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hf_s2l import Selection, TrajectoryStore

from .test_cli import assert_user_error, run_cli, snapshot

N = 12
USER_FILES = {
    "README.md": "# my project\n",
    "data/train.parquet": "my own data\n",
    "index.html": "<p>my page</p>\n",
    "report.json": '{"mine": true}\n',
    "notes.txt": "keep me\n",
}


@pytest.fixture
def env(tmp_path) -> Path:
    ids = [f"e{i}" for i in range(N)]
    with TrajectoryStore.create(
        tmp_path / "store", N, dataset_fingerprint="fp", example_ids=ids
    ) as s:
        rng = np.random.default_rng(0)
        for step in range(4):
            c = s.add_column(step, step / 4, "point")
            s.write(c, np.arange(N), rng.random(N).astype(np.float32))
            s.mark_complete(c)
    Selection(
        indices=np.array([1, 4, 7]),
        method="random",
        num_examples=N,
        dataset_fingerprint="fp",
        example_ids=np.array(["e1", "e4", "e7"]),
    ).save(tmp_path / "sel")
    with open(tmp_path / "rows.jsonl", "w") as f:
        for i in range(N):
            f.write(json.dumps({"example_id": f"e{i}", "text": f"row {i}"}) + "\n")
    user = tmp_path / "user"
    for name, text in USER_FILES.items():
        (user / name).parent.mkdir(parents=True, exist_ok=True)
        (user / name).write_text(text)
    return tmp_path


def _export(env: Path, *extra: str):
    return run_cli(
        "export",
        str(env / "sel"),
        "--dataset",
        str(env / "rows.jsonl"),
        "--out",
        ".",
        *extra,
        cwd=env / "user",
    )


def _report(env: Path, *extra: str):
    return run_cli("report", str(env / "store"), "--out", ".", *extra, cwd=env / "user")


@pytest.mark.parametrize("command", [_export, _report])
def test_out_dot_with_user_files_is_refused(env, command):
    before = snapshot(env / "user")
    assert_user_error(command(env), "not an earlier hf-s2l", "--overwrite")
    assert snapshot(env / "user") == before


def test_export_overwrite_and_rerun(env):
    proc = _export(env, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert (env / "user" / "notes.txt").read_text() == "keep me\n"
    assert "hf_s2l" in (env / "user" / "README.md").read_text()
    out = env / "exp"
    for _ in range(2):  # a new folder, then the same folder again: ours, no flag needed
        proc = run_cli(
            "export",
            str(env / "sel"),
            "--dataset",
            str(env / "rows.jsonl"),
            "--out",
            str(out),
            cwd=env,
        )
        assert proc.returncode == 0, proc.stderr
    assert (out / "data" / "train.parquet").is_file()


def test_report_overwrite_and_rerun(env):
    proc = _report(env, "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert (env / "user" / "notes.txt").read_text() == "keep me\n"
    for _ in range(2):
        proc = run_cli("report", str(env / "store"), "--out", "rep", cwd=env)
        assert proc.returncode == 0, proc.stderr
    assert (env / "rep" / "index.html").is_file()
