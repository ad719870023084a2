"""Trajectory stores on the Hub (issue 13.9): push, read back through the HF cache, CLI hf:// paths.

Tested at the ``huggingface_hub`` boundary as the dataset push is (``test_hub_publish.FakeHub``:
the ``HfApi`` methods that talk to the server are replaced, nothing leaves the machine). The
read side runs the real ``snapshot_download``/``hf_hub_download`` and the real cache: the fake
also answers the file-resolve HTTP calls (HEAD + GET ``/datasets/<repo>/resolve/<rev>/<path>``)
through an ``httpx`` mock transport, and records any other request as a failure.
"""

from __future__ import annotations

import logging
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest
from huggingface_hub import constants as hf_constants

from hf_s2l import TrajectoryStore
from hf_s2l.cli import main
from hf_s2l.hub import open_store, parse_card, parse_hub_uri, store_from_hub
from hf_s2l.selection import Selection, select

from ..data.helpers import make_store, raw_dataset
from .test_hub_publish import TOKEN

REPO = "me/gsm8k-proxy-trajectories"
STORE_FILES = {
    "README.md",
    "meta.json",
    "losses.npy",
    "num_tokens.npy",
    "example_ids.npy",
    "metadata/source.npy",
}


@pytest.fixture()
def store(tmp_path):
    """A complete store with example ids, a source column and NaN cells."""
    import hf_s2l

    raw = hf_s2l.add_example_ids(raw_dataset(30))
    proxy = raw.map(lambda r: {"input_ids": [len(r["question"]) % 97, 1]})
    st = make_store(tmp_path / "store", proxy)
    w = TrajectoryStore.open(st.path, "r+")
    w.set_metadata("source", np.array(proxy["source"]))
    w.write(1, [4, 9], [np.nan, np.nan])  # rows without a loss in one column
    w.write_num_tokens(np.arange(30), np.arange(30) + 3)
    return TrajectoryStore.open(st.path)


def _assert_same_store(a: TrajectoryStore, b: TrajectoryStore) -> None:
    assert b.fingerprint == a.fingerprint
    assert b.meta == a.meta
    np.testing.assert_array_equal(np.asarray(b.losses), np.asarray(a.losses))  # NaN == NaN
    np.testing.assert_array_equal(b.num_tokens, a.num_tokens)
    np.testing.assert_array_equal(b.example_ids, a.example_ids)
    assert b.metadata_columns == a.metadata_columns == ["source"]
    np.testing.assert_array_equal(b.metadata("source"), a.metadata("source"))
    for name in STORE_FILES - {"README.md"}:
        assert (b.path / name).read_bytes() == (a.path / name).read_bytes(), name


def test_push_then_from_hub_round_trip(hub, store, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("hf_s2l").setLevel(logging.DEBUG)
    info = store.push_to_hub(REPO, token=TOKEN)
    assert info.oid and len(hub.commits) == 1  # files and card in one commit
    repo = hub.repos[REPO]
    assert set(repo) == STORE_FILES
    assert hub.private[REPO] is True
    assert hub.tokens == {TOKEN} and TOKEN not in caplog.text
    assert TOKEN not in repo["README.md"].decode()

    back = TrajectoryStore.from_hub(REPO, token=TOKEN)
    cache = Path(hf_constants.HF_HUB_CACHE)
    assert back.path.is_relative_to(cache / f"datasets--{REPO.replace('/', '--')}" / "snapshots")
    _assert_same_store(store, back)
    assert sorted(hub.downloads) == sorted(STORE_FILES)

    # the same selection from the download as from the original
    for method, kw in (("s2l", {"num_clusters": 3}), ("random", {})):
        a = select(store, method, 10, seed=3, **kw)
        b = select(back, method, 10, seed=3, **kw)
        np.testing.assert_array_equal(a.indices, b.indices)
        assert b.store_fingerprint == store.fingerprint


def test_card_describes_the_store(hub, store):
    store.push_to_hub(REPO)
    meta, body = parse_card(hub.repos[REPO]["README.md"].decode())
    info = meta["hf_s2l_store"]
    assert info["proxy_model"] == "tiny-proxy"
    assert info["dataset"] == {"length": 30, "fingerprint": store.dataset_fingerprint}
    assert info["store_fingerprint"] == store.fingerprint
    assert info["schedule"] == {"train_begin": True, "num_points": 2}
    assert [c["global_step"] for c in info["columns"]] == [0, 5, 10]
    assert info["metadata_columns"] == ["source"] and info["has_example_ids"] is True
    assert set(info["files"]) == STORE_FILES
    assert meta["viewer"] is False and "trajectories" in meta["tags"]
    for text in ("## Store", "## Recording schedule", "## Columns", "## Use", "tiny-proxy"):
        assert text in body
    assert f"TrajectoryStore.from_hub('{REPO}')" in body
    assert f"hf-s2l select hf://datasets/{REPO} --method s2l" in body


def test_cache_reuse_offline_and_revision(hub, store, tmp_path, monkeypatch):
    first = store.push_to_hub(REPO).oid
    TrajectoryStore.from_hub(REPO)
    n = len(hub.downloads)
    again = TrajectoryStore.from_hub(REPO)
    assert len(hub.downloads) == n  # served by the cache
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    offline = TrajectoryStore.from_hub(REPO)  # no request at all (offline mode blocks them)
    assert offline.path == again.path and offline.fingerprint == store.fingerprint
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)

    # a second version of the store: one more column
    w = TrajectoryStore.open(store.path, "r+")
    c = w.add_column(global_step=15, epoch=1.5, kind="point")
    w.write(c, np.arange(30), np.full(30, 0.5, np.float32))
    w.mark_complete(c)
    grown = TrajectoryStore.open(store.path)
    store.push_to_hub(REPO)
    latest = TrajectoryStore.from_hub(REPO)
    assert latest.num_columns == 4 and latest.fingerprint == grown.fingerprint
    pinned = TrajectoryStore.from_hub(REPO, revision=first)
    assert pinned.num_columns == 3 and pinned.fingerprint != grown.fingerprint
    assert open_store(f"hf://datasets/{REPO}@{first}").fingerprint == pinned.fingerprint


def test_cli_accepts_hub_paths(hub, store, tmp_path, capsys):
    store.push_to_hub(REPO)
    uri = f"hf://datasets/{REPO}"
    assert main(["info", uri]) == 0
    assert "num_examples=30" in capsys.readouterr().out
    out = tmp_path / "sel"
    assert main(["select", uri, "--method", "random", "--budget", "8", "--out", str(out)]) == 0
    assert f"reproduce: hf-s2l select {uri}" in capsys.readouterr().out
    sel = Selection.load(out)
    np.testing.assert_array_equal(sel.indices, select(store, "random", 8, seed=0).indices)
    assert sel.store_fingerprint == store.fingerprint
    rep = tmp_path / "rep"
    assert (
        main(["report", uri, "--selection", str(out), "--out", str(rep), "--num-clusters", "3"])
        == 0
    )
    assert (rep / "index.html").is_file()
    assert not list(Path(hf_constants.HF_HUB_CACHE).rglob("index.html"))  # nothing into the cache


def test_hub_path_errors(hub, store, tmp_path):
    with pytest.raises(ValueError, match="dataset repo"):
        parse_hub_uri("hf://models/me/x")
    with pytest.raises(ValueError, match="hf://datasets/<owner>/<name>"):
        parse_hub_uri("hf://")
    assert parse_hub_uri("hf://datasets/me/x@v1/sub/dir") == ("me/x", "v1", "sub/dir")

    # a dataset repo without a store
    huggingface_hub.HfApi().create_repo("me/plain", repo_type="dataset")
    huggingface_hub.HfApi().upload_file(
        path_or_fileobj=b"# just a card",
        path_in_repo="README.md",
        repo_id="me/plain",
        repo_type="dataset",
    )
    with pytest.raises(FileNotFoundError, match="holds no hf-s2l trajectory store"):
        store_from_hub("me/plain")

    # nothing recorded yet: refused before anything is sent
    empty = TrajectoryStore.create(tmp_path / "empty", num_examples=4)
    empty.add_column(global_step=0, epoch=0.0)
    commits = len(hub.commits)
    with pytest.raises(ValueError, match="no complete column"):
        empty.push_to_hub("me/empty")
    assert len(hub.commits) == commits and "me/empty" not in hub.repos


def test_store_in_a_repo_folder(hub, store):
    store.push_to_hub("me/many", path_in_repo="proxy-70m")
    assert {p.split("/", 1)[0] for p in hub.repos["me/many"]} == {"proxy-70m"}
    back = open_store("hf://datasets/me/many/proxy-70m")
    _assert_same_store(store, back)


def test_push_of_a_store_replaced_after_it_was_opened_is_refused(hub, store):
    """The files are read from the folder by path: they must be the opened store's (issue 26.2)."""
    from hf_s2l import StoreChangedError

    TrajectoryStore.create(store.path, store.num_examples, replace=True).close()
    with pytest.raises(StoreChangedError, match="meta.json names store"):
        store.push_to_hub(REPO, token=TOKEN)
    assert REPO not in hub.repos and not hub.commits
