"""push_to_hub without network (fake Hub at the HfApi boundary), export, CLI, dataset card."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import datasets
import huggingface_hub
import numpy as np
import pytest
from huggingface_hub import CommitInfo, CommitOperationAdd, CommitOperationDelete, HfApi, RepoUrl
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile, RepoFolder

from hf_s2l import AlignmentError, SelectedDataset, add_example_ids
from hf_s2l.cli import main
from hf_s2l.hub import PROVENANCE_FIELDS, parse_card

from ..data.helpers import make_selection, make_store, raw_dataset

TOKEN = "hf_SeCrEtT0kenValue1234567890"
SELECTED = [0, 2, 3, 7, 11, 12, 19, 25, 26, 31]


class FakeHub:
    """An in-memory Hub replacing the ``HfApi`` methods that talk to the server.

    ``datasets``' ``push_to_hub`` and hf-s2l run their real code down to these methods
    (``HfFileSystem`` also lists/reads through them); file contents are captured at
    ``preupload_lfs_files`` (the parquet temp files are deleted right after) and
    ``create_commit``.
    """

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.private: dict[str, bool] = {}
        self.sha: dict[str, str] = {}
        self.commits: list[dict] = []
        self.preuploaded: dict[int, bytes] = {}
        self.tokens: set = set()
        self.http_requests: list[str] = []
        self._n = itertools.count(1)

    @staticmethod
    def _full(repo_id: str) -> str:
        return repo_id if "/" in repo_id else f"fake-user/{repo_id}"

    def install(self, monkeypatch) -> None:
        hub = self

        def repo_info(api, repo_id, *args, **kw):
            hub.tokens.add(api.token)
            rid = hub._full(repo_id)
            if rid not in hub.repos:
                import httpx2

                req = httpx2.Request("GET", f"https://huggingface.co/api/datasets/{rid}")
                raise RepositoryNotFoundError(
                    "not found", response=httpx2.Response(404, request=req)
                )
            return SimpleNamespace(id=rid, sha=hub.sha[rid], private=hub.private[rid])

        def create_repo(api, repo_id, *args, private=None, exist_ok=False, **kw):
            hub.tokens.add(api.token)
            rid = hub._full(repo_id)
            hub.repos.setdefault(rid, {})
            hub.private.setdefault(rid, private)
            hub.sha.setdefault(rid, "0" * 40)
            return RepoUrl(f"https://huggingface.co/datasets/{rid}")

        def preupload_lfs_files(api, repo_id, additions, *args, **kw):
            hub.tokens.add(api.token)
            for op in additions:
                with op.as_file() as f:
                    hub.preuploaded[id(op)] = f.read()
                op._is_uploaded = True

        def create_commit(api, repo_id, operations, *args, commit_message="", **kw):
            hub.tokens.add(api.token)
            rid = hub._full(repo_id)
            files = hub.repos[rid]
            for op in operations:
                if isinstance(op, CommitOperationAdd):
                    if id(op) in hub.preuploaded:
                        files[op.path_in_repo] = hub.preuploaded.pop(id(op))
                    else:
                        with op.as_file() as f:
                            files[op.path_in_repo] = f.read()
                elif isinstance(op, CommitOperationDelete):
                    files.pop(op.path_in_repo, None)
            sha = f"{next(hub._n):040x}"
            hub.sha[rid] = sha
            hub.commits.append(
                {
                    "repo": rid,
                    "message": commit_message,
                    "paths": [o.path_in_repo for o in operations],
                }
            )
            return CommitInfo(
                commit_url=f"https://huggingface.co/datasets/{rid}/commit/{sha}",
                commit_message=commit_message,
                commit_description="",
                oid=sha,
            )

        def _entries(rid, prefix, recursive):
            prefix = (prefix or "").strip("/")
            out, folders = [], set()
            for path, data in sorted(hub.repos.get(rid, {}).items()):
                if prefix and not path.startswith(prefix + "/"):
                    continue
                rest = path[len(prefix) + 1 :] if prefix else path
                if not recursive and "/" in rest:
                    folders.add((prefix + "/" if prefix else "") + rest.split("/")[0])
                    continue
                out.append(RepoFile(path=path, size=len(data), oid="x"))
            return [RepoFolder(path=f, oid="y") for f in sorted(folders)] + out

        def list_repo_tree(api, repo_id, path_in_repo=None, *, recursive=False, **kw):
            entries = _entries(hub._full(repo_id), path_in_repo, recursive)
            if path_in_repo and not entries:  # the server answers 404 for a missing folder
                raise EntryNotFoundError(path_in_repo)
            return iter(entries)

        def get_paths_info(api, repo_id, paths, **kw):
            files = hub.repos.get(hub._full(repo_id), {})
            paths = [paths] if isinstance(paths, str) else paths
            return [RepoFile(path=p, size=len(files[p]), oid="x") for p in paths if p in files]

        def hf_hub_download(api, repo_id, filename, *, local_dir=None, **kw):
            hub.tokens.add(api.token)
            files = hub.repos.get(hub._full(repo_id), {})
            if filename not in files:
                raise EntryNotFoundError(filename)
            path = Path(local_dir) / filename
            path.write_bytes(files[filename])
            return str(path)

        for name, fn in {
            "repo_info": repo_info,
            "create_repo": create_repo,
            "preupload_lfs_files": preupload_lfs_files,
            "create_commit": create_commit,
            "list_repo_tree": list_repo_tree,
            "get_paths_info": get_paths_info,
            "hf_hub_download": hf_hub_download,
        }.items():
            monkeypatch.setattr(HfApi, name, fn)

        # Anything that still reaches the HTTP layer is recorded (and fails the request).
        import httpx2
        import huggingface_hub.utils._http as hf_http

        def handler(request):
            hub.http_requests.append(str(request.url))
            return httpx2.Response(599, request=request)

        old_factory = hf_http._GLOBAL_CLIENT_FACTORY
        huggingface_hub.set_client_factory(
            lambda: httpx2.Client(transport=httpx2.MockTransport(handler))
        )
        self._restore = lambda: huggingface_hub.set_client_factory(old_factory)


@pytest.fixture(autouse=True)
def _available_commands(monkeypatch):
    """Sub-commands still being written by others may be missing: build the CLI from the rest."""
    import importlib.util

    import hf_s2l.cli as cli

    present = tuple(
        n for n in cli.COMMANDS if importlib.util.find_spec(f"hf_s2l.commands.{n}") is not None
    )
    monkeypatch.setattr(cli, "COMMANDS", present)


@pytest.fixture()
def fake_hub(monkeypatch):
    hub = FakeHub()
    hub.install(monkeypatch)
    yield hub
    hub._restore()
    assert hub.http_requests == []


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    datasets.disable_progress_bars()
    tmp = tmp_path_factory.mktemp("hub")
    raw = add_example_ids(raw_dataset(40))
    proxy = raw.map(
        lambda r: {"input_ids": [len(r["question"]) % 97, 1, 2]},
        remove_columns=["question", "answer"],
    )
    store = make_store(tmp / "store", proxy)
    store_w = type(store).open(store.path, "r+")
    store_w.set_metadata("source", np.array(proxy["source"]))
    store = type(store).open(store.path)
    sel = make_selection(
        store,
        SELECTED,
        stats={  # the selection engine's shape (hf_s2l/selection/s2l.py)
            "num_clusters": 3,
            "clusters": [
                {"cluster": 0, "size": 20, "selected": 4},
                {"cluster": 1, "size": 12, "selected": 3},
                {"cluster": 2, "size": 8, "selected": 3},
            ],
        },
    )
    sel_dir = sel.save(tmp / "selection")
    raw_file = tmp / "raw.jsonl"
    raw.to_json(str(raw_file), lines=True)
    noid_file = tmp / "raw_noid.jsonl"
    raw.remove_columns("example_id").to_json(str(noid_file), lines=True)
    return {
        "raw": raw,
        "store": store,
        "sel": sel,
        "sel_dir": sel_dir,
        "raw_file": raw_file,
        "noid_file": noid_file,
        "tmp": tmp,
    }


def _check_card(text: str, setup, *, expect_configs: bool) -> dict:
    meta, body = parse_card(text)
    prov = meta["hf_s2l"]
    for key in PROVENANCE_FIELDS:
        assert key in prov, key
    sel, store = setup["sel"], setup["store"]
    assert prov["method"] == "s2l" and prov["params"] == {"num_clusters": 3}
    assert prov["budget"] == len(SELECTED) and prov["num_selected"] == len(SELECTED)
    assert prov["num_examples"] == 40 and prov["seed"] == 7
    assert prov["proxy_model"] == "tiny-proxy"
    assert prov["store_fingerprint"] == store.fingerprint == sel.store_fingerprint
    assert prov["dataset_fingerprint"] == store.dataset_fingerprint
    sched = prov["recording_schedule"]
    assert sched["schedule"] == {"train_begin": True, "num_points": 2}
    assert [p["global_step"] for p in sched["points"]] == [0, 5, 10]
    src = np.array(setup["raw"]["source"])
    assert prov["counts"]["source"]["aqua"] == {
        "before": int((src == "aqua").sum()),
        "after": int((src[SELECTED] == "aqua").sum()),
    }
    assert prov["counts"]["clusters"]["0"] == {"before": 20, "after": 4}
    assert prov["reproduce"]["selection_command"].startswith("hf-s2l select")
    assert "s2l" in meta["tags"]
    assert ("configs" in meta) == expect_configs
    for word in (
        "## Selection",
        "## Proxy run",
        "## Counts before and after",
        "## How to reproduce",
        store.fingerprint,
    ):
        assert word in body
    return meta


def test_push_to_hub_through_fake_hub(setup, fake_hub, caplog, capsys, tmp_path):
    raw = setup["raw"]
    sd = SelectedDataset(raw.shuffle(seed=1), setup["sel"], id_column="example_id")
    caplog.set_level(logging.DEBUG)
    for name in ("hf_s2l", "datasets", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    info = sd.push_to_hub("me/gsm8k-s2l", token=TOKEN, command=f"hf-s2l push SEL --token {TOKEN}")
    assert info.oid

    repo = fake_hub.repos["me/gsm8k-s2l"]
    assert fake_hub.private["me/gsm8k-s2l"] is True
    assert fake_hub.tokens == {TOKEN}  # the token reached the Hub client boundary...
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err, repo["README.md"].decode()):
        assert TOKEN not in text  # ...and nothing else
    assert len(fake_hub.commits) == 2

    shards = sorted(p for p in repo if p.endswith(".parquet"))
    assert shards and all(p.startswith("data/train-") for p in shards)
    local = []
    for p in shards:
        (tmp_path / Path(p).name).write_bytes(repo[p])
        local.append(str(tmp_path / Path(p).name))
    back = datasets.Dataset.from_parquet(local)
    assert back.to_list() == raw.select(SELECTED).to_list()
    assert back.to_list() == sd.to_list()

    meta = _check_card(repo["README.md"].decode(), setup, expect_configs=True)
    assert meta["configs"][0]["data_files"][0]["path"] == "data/train-*"  # datasets' metadata kept
    assert "dataset_info" in meta
    assert meta["hf_s2l"]["alignment"]["method"] == "id_column"
    assert "<redacted>" not in meta["hf_s2l"]["reproduce"]["command"]
    assert meta["hf_s2l"]["reproduce"]["command"] == "hf-s2l push SEL"


def test_push_refused_when_alignment_unverified(setup, fake_hub):
    sel = setup["sel"]
    from hf_s2l.selection import Selection

    bare = Selection(
        indices=sel.indices, method="random", num_examples=40, dataset_fingerprint="nope"
    )
    sd = SelectedDataset(setup["raw"].remove_columns("example_id"), bare, verify=False)
    with pytest.raises(AlignmentError, match="refusing to publish"):
        sd.push_to_hub("me/x", token=TOKEN)
    assert not fake_hub.repos and not fake_hub.commits


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_cli_export(setup, tmp_path, fmt, capsys):
    out = tmp_path / "export"
    rc = main(
        [
            "export",
            str(setup["sel_dir"]),
            "--dataset",
            str(setup["raw_file"]),
            "--out",
            str(out),
            "--format",
            fmt,
            "--store",
            str(setup["store"].path),
        ]
    )
    assert rc == 0
    assert "exported 10 rows" in capsys.readouterr().out
    back = datasets.load_dataset(str(out), split="train")
    expected = setup["raw"].select(SELECTED)
    assert back.to_list() == expected.to_list()
    meta = _check_card((out / "README.md").read_text(), setup, expect_configs=True)
    assert meta["hf_s2l"]["alignment"]["method"] == "example_ids"
    assert meta["hf_s2l"]["reproduce"]["command"].startswith("hf-s2l export")
    assert meta["hf_s2l"]["source_dataset"] == str(setup["raw_file"])


def test_cli_export_refuses_misaligned(setup, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_S2L_DEBUG", "1")  # raise, instead of the CLI's one `error:` line
    # the raw file has no ids and another fingerprint -> alignment cannot be verified
    with pytest.raises(AlignmentError):
        main(
            [
                "export",
                str(setup["sel_dir"]),
                "--dataset",
                str(setup["noid_file"]),
                "--out",
                str(tmp_path / "o"),
            ]
        )
    short = tmp_path / "short.jsonl"
    setup["raw"].select(range(20)).to_json(str(short), lines=True)
    with pytest.raises(AlignmentError, match="missing"):
        main(
            [
                "export",
                str(setup["sel_dir"]),
                "--dataset",
                str(short),
                "--id-column",
                "example_id",
                "--out",
                str(tmp_path / "o2"),
            ]
        )


def test_cli_push_parser(setup, fake_hub, tmp_path, capsys):
    saved = tmp_path / "saved"
    setup["raw"].save_to_disk(str(saved))
    rc = main(
        [
            "push",
            str(setup["sel_dir"]),
            "--dataset",
            str(saved),
            "--repo-id",
            "me/pub",
            "--public",
            "--id-column",
            "example_id",
        ]
    )
    assert rc == 0
    assert fake_hub.private["me/pub"] is False
    meta, _ = parse_card(fake_hub.repos["me/pub"]["README.md"].decode())
    assert meta["hf_s2l"]["reproduce"]["command"].endswith("--repo-id me/pub --public")
    assert json.dumps(meta)  # YAML is plain data
