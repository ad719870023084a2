"""Bad inputs to the ``hf-s2l`` command line, each run as a real process.

Every runtime error ends in ONE ``error: <message>`` line on stderr and exit status 2, no
traceback (``--debug`` / ``HF_S2L_DEBUG=1`` show it), and leaves the disk as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

N = 50


def _cli() -> list[str]:
    """The installed ``hf-s2l`` console script next to this interpreter, else ``-m``."""
    script = Path(sys.executable).parent / "hf-s2l"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "hf_s2l.cli"]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, **kw):
    """Run ``hf-s2l *args`` in ``cwd`` (HF_S2L_DEBUG only when ``env`` sets it)."""
    full_env = {k: v for k, v in os.environ.items() if k != "HF_S2L_DEBUG"}
    full_env.update({"HF_HUB_OFFLINE": "1", **(env or {})})
    opts = {"capture_output": True, **kw} if "stdout" not in kw else kw
    return subprocess.run([*_cli(), *args], cwd=cwd, env=full_env, text=True, timeout=120, **opts)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under ``root``: kind, size, mtime and content hash."""
    out: dict[str, tuple] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_dir():
            out[rel] = ("dir",)
        else:
            st = p.stat()
            out[rel] = (
                "file",
                st.st_size,
                st.st_mtime_ns,
                hashlib.sha1(p.read_bytes()).hexdigest(),
            )
    return out


def make_store(path: Path, *, complete: bool = True):
    from hf_s2l.store import TrajectoryStore

    store = TrajectoryStore.create(path, N, dataset_fingerprint="fp", model_name_or_path="tiny")
    store.set_metadata("source", np.array(["gsm8k", "aqua"] * (N // 2)))
    rng = np.random.default_rng(0)
    for step in (0, 5, 10, 15):
        c = store.add_column(global_step=step, epoch=step / 10, kind="point")
        store.write(c, np.arange(N), rng.random(N).astype(np.float32))
        if complete:
            store.mark_complete(c)
    return store


@pytest.fixture
def work(tmp_path) -> Path:
    """A folder with a valid store, a plain file and a truncated (corrupt) store."""
    make_store(tmp_path / "store")
    (tmp_path / "afile").write_text("not a folder\n")
    make_store(tmp_path / "corrupt")
    losses = tmp_path / "corrupt" / "losses.npy"
    losses.write_bytes(losses.read_bytes()[:300])
    bad_meta = tmp_path / "badmeta"
    make_store(bad_meta)
    (bad_meta / "meta.json").write_text("[1, 2, 3]")
    return tmp_path


def assert_user_error(proc, *phrases: str) -> str:
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    error_lines = [ln for ln in lines if "error: " in ln]
    assert len(error_lines) == 1, err
    assert lines[-1] == error_lines[0]
    for phrase in phrases:
        assert phrase in error_lines[0], (phrase, err)
    return error_lines[0]


# (arguments, phrases the error line must hold); STORE = the valid store
CASES = {
    "info-missing-store": (["info", "nostore"], ["nostore", "not a trajectory store"]),
    "select-missing-store": (
        ["select", "nostore", "--budget", "3", "--out", "sel"],
        ["nostore", "not a trajectory store"],
    ),
    "report-missing-store": (["report", "nostore", "--out", "rep"], ["not a trajectory store"]),
    "budget-zero": (["select", "store", "--budget", "0", "--out", "sel"], ["budget", "0"]),
    "budget-fraction-above-one": (
        ["select", "store", "--budget", "1.5", "--out", "sel"],
        ["(0, 1]", "1.5"],
    ),
    "budget-over-n": (["select", "store", "--budget", "51", "--out", "sel"], ["51", "50"]),
    "budget-percent-above-100": (
        ["select", "store", "--budget", "150%", "--out", "sel"],
        ["(0, 1]"],
    ),
    "budget-not-a-number": (
        ["select", "store", "--budget", "lots", "--out", "sel"],
        ["--budget", "lots", "percentage"],
    ),
    "unknown-method": (
        ["select", "store", "--method", "nope", "--budget", "3", "--out", "sel"],
        ["nope", "available", "s2l", "random"],
    ),
    "unknown-by-column": (
        ["select", "store", "--by-column", "nosuchcol", "--budget", "3", "--out", "sel"],
        ["nosuchcol", "source"],
    ),
    "select-out-is-a-file": (
        ["select", "store", "--budget", "3", "--out", "afile"],
        ["afile", "file"],
    ),
    "report-out-is-a-file": (["report", "store", "--out", "afile"], ["afile", "file"]),
    "export-out-is-a-file": (
        ["export", "store", "--dataset", "x.jsonl", "--out", "afile"],
        ["afile", "file"],
    ),
    "export-missing-selection": (
        ["export", "nosel", "--dataset", "afile", "--out", "exp"],
        [],
    ),
    "corrupt-losses-select": (["select", "corrupt", "--budget", "3", "--out", "sel"], []),
    "corrupt-losses-info": (["info", "corrupt"], []),
    "corrupt-meta-info": (["info", "badmeta"], []),
    "corrupt-meta-select": (["select", "badmeta", "--budget", "3", "--out", "sel"], []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_user_error_is_one_line_exit_2_and_changes_nothing(work, case):
    args, phrases = CASES[case]
    before = snapshot(work)
    proc = run_cli(*args, cwd=work)
    assert_user_error(proc, *phrases)
    assert snapshot(work) == before


@pytest.mark.parametrize("how", ["flag-after", "flag-before", "env"])
def test_debug_shows_the_traceback(work, how):
    args = ["select", "store", "--budget", "0", "--out", "sel"]
    if how == "flag-after":
        proc = run_cli(*args, "--debug", cwd=work)
    elif how == "flag-before":
        proc = run_cli("--debug", *args, cwd=work)
    else:
        proc = run_cli(*args, cwd=work, env={"HF_S2L_DEBUG": "1"})
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "ValueError: budget" in proc.stderr


@pytest.mark.parametrize("args", [["info", "--json", "store"], ["info", "store"]])
def test_closed_pipe_ends_quietly(work, args):
    """``hf-s2l info --json STORE | head -c 10``: the reader is gone before the first write."""
    r, w = os.pipe()
    os.close(r)  # closed before the process starts: its first write gets EPIPE, every time
    try:
        proc = run_cli(*args, cwd=work, stdout=w, stderr=subprocess.PIPE)
    finally:
        os.close(w)
    assert proc.returncode == 141, proc.stderr
    assert "BrokenPipeError" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == ""


def test_shell_pipe_into_head(work):
    cmd = " ".join([*_cli(), "info", "--json", "store"]) + " | head -c 10"
    proc = subprocess.run(["bash", "-c", cmd], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0
    assert len(proc.stdout) == 10 and proc.stdout.startswith("{")
    assert "Error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_report_without_out_writes_beside_not_into_the_store(work):
    store_before = snapshot(work / "store")
    proc = run_cli("report", "store", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert (work / "store-report" / "index.html").is_file()
    assert snapshot(work / "store") == store_before


def test_info_json_is_the_meta(work):
    proc = run_cli("info", "--json", "store", cwd=work)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["metadata_columns"] == ["source"]
