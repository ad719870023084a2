"""An export is written whole or not at all: a full disk (a real small tmpfs where this runs
as root, and a real ``EFBIG`` from ``RLIMIT_FSIZE`` everywhere) leaves no marker, no empty
card and no partial data file that ``datasets.load_dataset`` would load; a re-export in
another format replaces the earlier export's data file instead of leaving it beside."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import datasets
import pytest

from .test_cli import assert_user_error, run_cli, snapshot
from .test_out_folders import N, env  # noqa: F401 - env: fixture

BIG = 60_000  # characters of random hex per row: 3 selected rows never fit in 64 KiB


def _rows(path: Path, size: int) -> None:
    with open(path, "w") as f:
        for i in range(N):
            text = os.urandom(size // 2).hex()
            f.write(json.dumps({"example_id": f"e{i}", "text": text}) + "\n")


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A 64 KiB tmpfs (needs root; skipped elsewhere, the RLIMIT test below still runs)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def _export(work: Path, out: Path, rows: str, fmt: str):
    return run_cli("export", "sel", "--dataset", rows, "--out", str(out), "--format", fmt, cwd=work)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_full_disk_leaves_nothing_behind(env, small_disk, fmt):  # noqa: F811
    _rows(env / "big.jsonl", BIG)
    out = small_disk / "exp"
    assert_user_error(_export(env, out, "big.jsonl", fmt), f"could not export to {out}", "space")
    assert list(small_disk.iterdir()) == []  # no folder, marker, card or temporary folder


def test_export_into_the_mount_point_itself(env, small_disk):  # noqa: F811
    """--out is the (empty) mount point: staged inside it, as a rename cannot leave it."""
    _rows(env / "big.jsonl", BIG)
    assert_user_error(_export(env, small_disk, "big.jsonl", "jsonl"), str(small_disk), "space")
    assert list(small_disk.iterdir()) == []
    proc = _export(env, small_disk, "rows.jsonl", "jsonl")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in small_disk.iterdir()) == [".hf-s2l-output", "README.md", "data"]
    assert datasets.load_dataset(str(small_disk), split="train")["text"] == [
        "row 1",
        "row 4",
        "row 7",
    ]


def test_full_disk_keeps_the_earlier_export(env, small_disk):  # noqa: F811
    out = small_disk / "exp"
    proc = _export(env, out, "rows.jsonl", "jsonl")  # small rows: fits
    assert proc.returncode == 0, proc.stderr
    before = snapshot(small_disk)
    _rows(env / "big.jsonl", BIG)
    assert_user_error(_export(env, out, "big.jsonl", "parquet"), str(out), "space")
    assert snapshot(small_disk) == before
    rows = datasets.load_dataset(str(out), split="train")
    assert rows["text"] == ["row 1", "row 4", "row 7"]


SCRIPT = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    import datasets, numpy as np
    from hf_s2l import SelectedDataset, Selection

    out, size = sys.argv[1], int(sys.argv[2])
    rows = datasets.Dataset.from_dict(  # in memory: nothing on disk before the export
        {"example_id": [f"e{i}" for i in range(12)], "text": [os.urandom(size // 2).hex() for _ in range(12)]}
    )
    sel = Selection(indices=np.array([1, 4, 7]), method="random", num_examples=12,
                    example_ids=np.array(["e1", "e4", "e7"]))
    selected = SelectedDataset(rows, sel, id_column="example_id")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    try:
        selected.export(out, format=sys.argv[3])
    except OSError as e:
        print(json.dumps({"error": str(e), "type": type(e).__name__}))
    else:
        print(json.dumps({"error": None}))
    """
)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("existing", [False, True])
def test_file_size_limit_leaves_the_target_as_it_was(tmp_path, fmt, existing):
    out = tmp_path / "exp"
    if existing:
        out.mkdir()
        (out / "notes.txt").write_text("keep me\n")
    before = snapshot(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), "50000", fmt],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] is not None, "the export did not fail"
    assert f"could not export to {out}" in result["error"], result
    assert "nothing was written there" in result["error"]
    assert snapshot(tmp_path) == before  # no partial file, no temporary folder


def test_re_export_in_another_format_replaces_the_data_file(env):  # noqa: F811
    out = env / "exp"
    for fmt in ("parquet", "jsonl"):
        proc = _export(env, out, "rows.jsonl", fmt)
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (out / "data").iterdir()) == ["train.jsonl"]
    assert sorted(p.name for p in out.iterdir()) == [".hf-s2l-output", "README.md", "data"]
    rows = datasets.load_dataset(str(out), split="train")
    assert rows["text"] == ["row 1", "row 4", "row 7"]
    # a user's own file in data/ (written into with --overwrite) is never removed
    (out / "data" / "mine.csv").write_text("a\n1\n")
    proc = run_cli(
        "export", "sel", "--dataset", "rows.jsonl", "--out", "exp", "--split", "train", cwd=env
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (out / "data").iterdir()) == ["mine.csv", "train.parquet"]
