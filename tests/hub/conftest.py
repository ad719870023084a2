"""Hub fakes shared by the hub tests (no request leaves the machine)."""

from __future__ import annotations

import hashlib
import re
from types import SimpleNamespace

import datasets
import huggingface_hub
import pytest
from huggingface_hub import constants as hf_constants
from huggingface_hub.hf_api import RepoFile

from .test_hub_publish import FakeHub

_RESOLVE = re.compile(r"^/datasets/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")


class VersionedHub(FakeHub):
    """FakeHub plus commit history and the HTTP file-resolve endpoint the cache downloads from."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, dict[str, bytes]] = {}
        self.downloads: list[str] = []

    def install(self, monkeypatch) -> None:
        super().install(monkeypatch)
        hub = self
        create_commit = huggingface_hub.HfApi.create_commit

        def committing(api, repo_id, operations, *args, **kw):
            info = create_commit(api, repo_id, operations, *args, **kw)
            hub.history[info.oid] = dict(hub.repos[hub._full(repo_id)])
            return info

        def files_at(rid, revision):
            if revision in hub.history:
                return revision, hub.history[revision]
            return hub.sha[rid], hub.repos[rid]

        fake_repo_info = huggingface_hub.HfApi.repo_info

        def repo_info(api, repo_id, *args, revision=None, **kw):
            if hub._full(repo_id) not in hub.repos:
                return fake_repo_info(api, repo_id, *args, **kw)  # RepositoryNotFoundError
            hub.tokens.add(api.token)
            sha, _ = files_at(hub._full(repo_id), revision)
            return SimpleNamespace(id=hub._full(repo_id), sha=sha, private=True)

        fake_list_repo_tree = huggingface_hub.HfApi.list_repo_tree

        def list_repo_tree(
            api, repo_id, path_in_repo=None, *, recursive=False, revision=None, **kw
        ):
            if path_in_repo or not recursive or revision not in hub.history:  # latest files
                return fake_list_repo_tree(api, repo_id, path_in_repo, recursive=recursive, **kw)
            _, files = files_at(hub._full(repo_id), revision)  # snapshot_download's listing
            return iter([RepoFile(path=p, size=len(b), oid="x") for p, b in sorted(files.items())])

        monkeypatch.setattr(huggingface_hub.HfApi, "create_commit", committing)
        monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", repo_info)
        monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_tree", list_repo_tree)

        import httpx2

        def handler(request):
            if request.url.path == "/api/agent-harnesses":  # huggingface_hub's own user-agent
                return httpx2.Response(404, request=request)  # lookup: "unknown", not cached
            m = _RESOLVE.match(request.url.path)
            rid = m["repo"] if m else None
            if m is None or rid not in hub.repos:
                hub.http_requests.append(str(request.url))
                return httpx2.Response(599, request=request)
            sha, files = files_at(rid, m["rev"])
            data = files.get(m["path"])
            if data is None:
                return httpx2.Response(
                    404, headers={"X-Error-Code": "EntryNotFound"}, request=request
                )
            headers = {
                hf_constants.HUGGINGFACE_HEADER_X_REPO_COMMIT: sha,
                "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
                "Content-Length": str(len(data)),
            }
            if request.method == "HEAD":
                return httpx2.Response(200, headers=headers, request=request)
            hub.downloads.append(m["path"])
            return httpx2.Response(200, headers=headers, content=data, request=request)

        huggingface_hub.set_client_factory(
            lambda: httpx2.Client(transport=httpx2.MockTransport(handler))
        )


@pytest.fixture()
def hub(monkeypatch, tmp_path):
    h = VersionedHub()
    h.install(monkeypatch)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)  # CI exports HF_HUB_OFFLINE=1
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)  # load local files only
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    yield h
    h._restore()
    assert h.http_requests == []
