"""``hf://`` paths cannot leave the repo's snapshot in the Hub cache (offline, real cache layout)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hf_s2l import TrajectoryStore
from hf_s2l.hub.trajectories import open_store, parse_hub_uri

from .test_cli import assert_user_error, run_cli

ESCAPE = "hf://datasets/o/n/../../../../outside"


@pytest.fixture
def cache(tmp_path) -> Path:
    """A Hub cache holding a snapshot of o/n, and a store OUTSIDE the cache at tmp/outside."""
    with TrajectoryStore.create(tmp_path / "outside", 4, dataset_fingerprint="fp") as s:
        c = s.add_column(0, 0.0, "point")
        s.write(c, np.arange(4), np.ones(4, dtype=np.float32))
        s.mark_complete(c)
    repo = tmp_path / "cache" / "datasets--o--n"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("a" * 40)
    (repo / "snapshots" / ("a" * 40)).mkdir(parents=True)
    (repo / "snapshots" / ("a" * 40) / "README.md").write_text("hi\n")
    return tmp_path / "cache"


@pytest.mark.parametrize(
    "uri",
    [
        ESCAPE,
        "hf://datasets/o/n/sub/../../x",
        "hf://datasets/o/n/./x",
        "hf://datasets/o/n@../x",
        "hf://datasets/../n",
        "hf://datasets/o/n/a\\..\\..",
        "hf://datasets/o/n//etc",
        "hf://datasets/o/n/%2e%2e/%2e%2e/outside",  # decoded by the Hub client: '..'
        "hf://datasets/o/n/.%2e/x",
        "hf://datasets/o/n/%2E%2E",
        "hf://datasets/o/n/ ../x",
        "hf://datasets/o/n/.. /x",
        "hf://datasets/o/n/a\tb",
        "hf://datasets/o/n@%2e%2e",
        "hf://datasets/%2e%2e/n",
        "hf://datasets/o/ n",
    ],
)
def test_dot_dot_and_odd_parts_are_refused(uri):
    with pytest.raises(ValueError, match="not allowed|empty folder|relative"):
        parse_hub_uri(uri)


def test_open_store_does_not_leave_the_cache(cache, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match=r"'\.\.'"):
        open_store(ESCAPE, cache_dir=cache)


@pytest.mark.parametrize(
    "sub", ["../../../../outside", "/abs/folder", "%2e%2e/%2e%2e/outside", ".%2e", " .."]
)
def test_store_from_hub_refuses_path_in_repo(cache, sub):
    from hf_s2l.hub.trajectories import store_from_hub

    with pytest.raises(ValueError, match=r"not allowed|relative"):
        store_from_hub("o/n", path_in_repo=sub, cache_dir=cache, local_files_only=True)


def test_cli_info_does_not_leave_the_cache(cache):
    proc = run_cli("info", ESCAPE, cwd=cache.parent, env={"HF_HUB_CACHE": str(cache)})
    assert_user_error(proc, "'..'")


@pytest.mark.parametrize("uri", ["hf://datasets/o/n/%2e%2e/%2e%2e/x", "hf://datasets/o/n/ ../x"])
def test_encoded_dot_dot_never_reaches_the_download(cache, monkeypatch, uri):
    import huggingface_hub

    def fail(*a, **k):
        raise AssertionError(f"snapshot_download called with {a} {k}")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fail)
    with pytest.raises(ValueError, match="not allowed"):
        open_store(uri, cache_dir=cache)


def test_cli_info_refuses_an_encoded_dot_dot(cache):
    uri = "hf://datasets/o/n/%2e%2e/%2e%2e/%2e%2e/%2e%2e/outside"
    proc = run_cli("info", uri, cwd=cache.parent, env={"HF_HUB_CACHE": str(cache)})
    assert_user_error(proc, "'%2e%2e'", "not allowed")
