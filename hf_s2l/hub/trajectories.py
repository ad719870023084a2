"""Trajectory stores on the Hub: publish a proxy's losses once, select from them anywhere.

A proxy's trajectories are reusable: with them anyone can select any budget with any method
without training the proxy again. :func:`push_store_to_hub` publishes a store as a Hub
*dataset* repo; :func:`store_from_hub` (and ``TrajectoryStore.from_hub``) downloads it
through the Hugging Face cache (``huggingface_hub.snapshot_download``) and opens it;
:func:`open_store` accepts a local directory or ``hf://datasets/<owner>/<name>[@revision]``
(what ``hf-s2l select|report|info`` take).

Format: the store's own files, byte for byte, plus a dataset card::

    README.md          dataset card: proxy model, dataset length + fingerprint, store
                       fingerprint, recording schedule, columns, metadata columns
    meta.json          the store's schema (unchanged, so the fingerprint is the same)
    losses.npy         float32 N x T (standard .npy)
    num_tokens.npy     int64 N
    cell_steps.npy     int64 N x T (in-step stores only)
    example_ids.npy    N stable ids (when recorded)
    metadata/NAME.npy  per-example columns such as ``source``

Why ``.npy`` and not Parquet: these files *are* the store. The downloaded snapshot folder
opens with :meth:`TrajectoryStore.open` as is, memory-mapped from the cache (no conversion,
no second copy: a 50M x 12 store opens in milliseconds and selection streams its columns),
the round trip is exact (float32 bits, NaN for "not recorded") and the store fingerprint is
unchanged, so selections made from the download verify against it. ``numpy.load`` reads
every file without hf-s2l. Parquet would only buy the Hub's table viewer, at the cost of a
conversion on both ends and a full copy on read; the card turns the viewer off instead.

Push a finished store (no training writing to it); only the allow-listed files above are
sent (no lock or temporary files).
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers.utils import logging

from ..store.trajectory_store import (
    CELL_STEPS_FILE,
    EXAMPLE_IDS_FILE,
    LOSSES_FILE,
    META_FILE,
    METADATA_DIR,
    NUM_TOKENS_FILE,
    TrajectoryStore,
)
from ..version import __version__
from .markdown import code_block, json_block, md_escape, table

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import CommitInfo

logger = logging.get_logger(__name__)

HUB_URI_PREFIX = "hf://"
CARD_FILENAME = "README.md"
CARD_KEY = "hf_s2l_store"
STORE_FILES = (META_FILE, LOSSES_FILE, NUM_TOKENS_FILE, CELL_STEPS_FILE, EXAMPLE_IDS_FILE)
_URI_RE = re.compile(
    r"^hf://(?P<type>[^/]+)/(?P<repo>[^/@]+/[^/@]+|[^/@]+)(?:@(?P<rev>[^/]+))?(?:/(?P<sub>.*))?$"
)


def is_hub_uri(path: Any) -> bool:
    """True for an ``hf://...`` string."""
    return isinstance(path, str) and path.startswith(HUB_URI_PREFIX)


def parse_hub_uri(uri: str) -> tuple[str, str | None, str]:
    """``hf://datasets/<owner>/<name>[@revision][/path]`` -> ``(repo_id, revision, path)``."""
    m = _URI_RE.match(uri)
    if not m:
        raise ValueError(
            f"{uri!r} is not a Hub dataset path; expected hf://datasets/<owner>/<name> "
            "(optionally @<revision> and /<folder in the repo>)"
        )
    if m["type"] != "datasets":
        raise ValueError(
            f"{uri!r} is not a dataset repo ({m['type']}); trajectory stores are published as "
            "dataset repos: hf://datasets/<owner>/<name>"
        )
    for part in m["repo"].split("/"):
        _check_part(part, uri)
    if m["rev"] is not None:
        _check_part(m["rev"], uri, what="revision")
    return m["repo"], m["rev"], check_path_in_repo(m["sub"] or "", uri)


def _check_part(part: str, where: str, what: str = "path") -> None:
    # '%' (percent-encoding: '%2e%2e' is '..' once decoded), spaces around a part (' ..')
    # and control characters never name a real repo, revision or folder: refused with '..'
    odd = "%" in part or part != part.strip() or any(ord(c) < 32 or ord(c) == 127 for c in part)
    if part in (".", "..") or "\\" in part or odd:
        raise ValueError(
            f"{where!r}: the {what} part {part!r} is not allowed in a Hub path ('.', '..', "
            "backslashes, '%'-escapes, spaces around a name and control characters could "
            "reach files outside the repo's snapshot in the Hub cache)"
        )


def check_path_in_repo(path: str, where: str | None = None) -> str:
    """``path`` (a folder of a Hub repo) without its outer slashes; refuses ``..``, ``.``,
    empty and absolute parts, which would resolve outside the repo's cached snapshot."""
    if not isinstance(path, str):
        raise TypeError(f"path_in_repo must be a string, got {type(path).__name__}")
    where = where if where is not None else path
    if path.startswith("/") and path.strip("/"):
        raise ValueError(
            f"{where!r}: a folder in a Hub repo must be relative, not the absolute path {path!r}"
        )
    inner = path.strip("/")
    if not inner:
        return ""
    for part in inner.split("/"):
        if part == "":
            raise ValueError(f"{where!r}: empty folder name ('//') in a Hub path")
        _check_part(part, where)
    return inner


def _store_files(store: TrajectoryStore) -> list[str]:
    """The store's files to publish, relative to its directory (allow-list)."""
    root = store.path
    files = [f for f in STORE_FILES if (root / f).is_file()]
    for name in store.metadata_columns:
        rel = f"{METADATA_DIR}/{name}.npy"
        if (root / rel).is_file():
            files.append(rel)
    return files


def store_card_metadata(store: TrajectoryStore, repo_id: str | None = None) -> dict[str, Any]:
    """The ``hf_s2l_store`` block of the card's YAML header (machine-readable provenance)."""
    meta = store.meta
    extra = meta.get("extra") or {}
    recorder = extra.get("recorder") if isinstance(extra.get("recorder"), dict) else {}
    complete = store.complete_columns()
    return {
        "format": meta.get("format"),
        "schema_version": meta.get("schema_version"),
        "num_examples": store.num_examples,
        "num_columns": store.num_columns,
        "complete_columns": len(complete),
        "proxy_model": store.model_name_or_path,
        "proxy_model_revision": (meta.get("model") or {}).get("revision"),
        "proxy_model_class": recorder.get("model_class"),
        "dataset": {
            "length": store.dataset_length,
            "fingerprint": store.dataset_fingerprint,
        },
        "store_fingerprint": store.fingerprint,
        "mode": store.mode,
        "schedule": recorder.get("schedule"),
        "point_steps": recorder.get("point_steps"),
        "columns": [
            {
                "column": i,
                "global_step": int(c["global_step"]),
                "epoch": float(c["epoch"]),
                "kind": c.get("kind"),
                "complete": bool(c["complete"]),
            }
            for i, c in enumerate(store.columns)
        ],
        "metadata_columns": store.metadata_columns,
        "has_example_ids": store.example_ids is not None,
        "loss_definition": meta.get("loss_definition"),
        "recorded_with": meta.get("library_version"),
        "files": _store_files(store) + [CARD_FILENAME],
        "repo_id": repo_id,
        "library_version": __version__,
    }


def store_card(store: TrajectoryStore, repo_id: str | None = None) -> str:
    """The dataset card (README.md text) of a published trajectory store."""
    from huggingface_hub import DatasetCard, DatasetCardData

    info = store_card_metadata(store, repo_id)
    model = info["proxy_model"] or (
        f"{info['proxy_model_class']} (built from a config; no name recorded)"
        if info["proxy_model_class"]
        else "not recorded"
    )
    data = DatasetCardData(
        pretty_name=f"hf-s2l trajectories of {model}"[:200],
        tags=["hf-s2l", "trajectories", "data-selection"],
        viewer=False,
        **{CARD_KEY: json.loads(json.dumps(info, default=str))},
    )
    uri = f"hf://datasets/{repo_id}" if repo_id else "hf://datasets/<owner>/<name>"
    ref = repo_id or "<owner>/<name>"
    overview = [
        ("proxy model", model),
        ("proxy model revision", info["proxy_model_revision"] or "-"),
        ("examples (rows)", info["num_examples"]),
        (
            "recording points (columns)",
            f"{info['num_columns']} ({info['complete_columns']} complete)",
        ),
        ("dataset length", info["dataset"]["length"]),
        ("dataset fingerprint", info["dataset"]["fingerprint"] or "-"),
        ("store fingerprint", info["store_fingerprint"]),
        ("recording mode", info["mode"]),
        ("metadata columns", ", ".join(info["metadata_columns"]) or "-"),
        ("stable example ids", "yes" if info["has_example_ids"] else "no"),
        ("loss", info["loss_definition"] or "-"),
        ("recorded with", f"hf-s2l {info['recorded_with']}"),
    ]
    columns = [
        (c["column"], c["global_step"], f"{c['epoch']:.3f}", c["kind"], c["complete"])
        for c in info["columns"]
    ]
    python = (
        "from hf_s2l import TrajectoryStore, select\n\n"
        f"store = TrajectoryStore.from_hub({ref!r})  # cached by huggingface_hub\n"
        'sel = select(store, "s2l", 0.3, seed=0)\n'
        'sel.save("selection")'
    )
    bash = (
        f"hf-s2l info {shlex.quote(uri)}\n"
        f"hf-s2l select {shlex.quote(uri)} --method s2l --budget 0.3 --out selection"
    )
    body = [
        f"# {md_escape(data.pretty_name)}",
        "",
        "Per-example loss trajectories of a small proxy model, recorded by "
        "[hf-s2l](https://github.com/hf-s2l/hf-s2l): one row per training example, one "
        "column per recording point. Select a training subset of any size, with any method "
        "(S2L, Learning Percentage, baselines), without training the proxy again.",
        "",
        "## Store",
        "",
        table(overview, ("field", "value")),
        "",
        "## Recording schedule",
        "",
        json_block({"schedule": info["schedule"], "point_steps": info["point_steps"]}),
        "",
        "## Columns",
        "",
        table(columns, ("column", "global step", "epoch", "kind", "complete")),
        "",
        "## Files",
        "",
        "`losses.npy` is a standard float32 `.npy` (rows = examples, NaN = not recorded); "
        "`meta.json` describes every column. `numpy.load(path, mmap_mode='r')` reads any "
        "file. The rows follow the proxy's training set: align a target dataset through "
        "`example_ids.npy` (`hf_s2l.add_example_ids`) or the dataset fingerprint.",
        "",
        "## Use",
        "",
        code_block(python, "python"),
        "",
        code_block(bash, "bash"),
        "",
    ]
    return str(DatasetCard(f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(body)))


def push_store_to_hub(
    store: TrajectoryStore | str | os.PathLike,
    repo_id: str,
    *,
    private: bool = True,
    token: str | None = None,
    revision: str | None = None,
    path_in_repo: str = "",
    commit_message: str | None = None,
    create_pr: bool = False,
) -> CommitInfo:
    """Publish ``store`` as the Hub dataset repo ``repo_id`` in one commit (files + card).

    The repo is created if needed (``private=True`` by default). ``path_in_repo`` puts the
    store in a folder of the repo (read it back with ``hf://datasets/<repo>/<folder>``).
    Returns the commit's ``CommitInfo``. The token goes to ``huggingface_hub`` only.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    if not isinstance(store, TrajectoryStore):
        store = TrajectoryStore.open(store)
    if not len(store.complete_columns()):
        raise ValueError(
            f"{store.path} has no complete column: nothing to share yet (push a store after "
            "the proxy run has recorded it)"
        )
    incomplete = store.num_columns - len(store.complete_columns())
    if incomplete:
        logger.warning(
            f"{store.path} has {incomplete} incomplete column(s); they are published as they "
            "are and ignored by selection"
        )
    prefix = check_path_in_repo(path_in_repo)
    files = _store_files(store)
    ops = [
        CommitOperationAdd(
            path_in_repo=f"{prefix}/{f}" if prefix else f, path_or_fileobj=str(store.path / f)
        )
        for f in files
    ]
    store.check_generation()  # the files just read are those of the store described
    card = store_card(store, repo_id).encode("utf-8")
    ops.append(
        CommitOperationAdd(
            path_in_repo=f"{prefix}/{CARD_FILENAME}" if prefix else CARD_FILENAME,
            path_or_fileobj=card,
        )
    )
    api = HfApi(token=token)
    url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    full_id = getattr(url, "repo_id", None) or repo_id
    logger.info(
        f"pushing the trajectory store {store.path} ({store.num_examples} x {store.num_columns}, "
        f"{len(files)} files) to the dataset repo {full_id} (private={private})"
    )
    info = api.create_commit(
        repo_id=full_id,
        repo_type="dataset",
        operations=ops,
        commit_message=commit_message
        or f"Add hf-s2l trajectory store ({store.num_examples} x {store.num_columns})",
        revision=revision,
        create_pr=create_pr,
    )
    logger.info(f"pushed the trajectory store to {full_id}")
    return info


def store_from_hub(
    repo_id: str,
    revision: str | None = None,
    *,
    path_in_repo: str = "",
    token: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    local_files_only: bool = False,
) -> TrajectoryStore:
    """Download (through the Hugging Face cache) and open a store published on the Hub.

    Only the store's files are fetched; a second call reuses the cache, and works offline
    (``HF_HUB_OFFLINE=1``) once cached. The store opens read-only from the snapshot folder.
    """
    from huggingface_hub import snapshot_download

    prefix = check_path_in_repo(path_in_repo)
    pat = (lambda p: f"{prefix}/{p}") if prefix else (lambda p: p)
    patterns = [pat(f) for f in (*STORE_FILES, f"{METADATA_DIR}/*.npy", CARD_FILENAME)]
    folder = snapshot_download(
        repo_id,
        repo_type="dataset",
        revision=revision,
        token=token,
        cache_dir=str(cache_dir) if cache_dir is not None else None,
        allow_patterns=patterns,
        local_files_only=local_files_only,
    )
    path = Path(folder) / prefix if prefix else Path(folder)
    if not path.resolve().is_relative_to(Path(folder).resolve()):  # e.g. a symlinked folder
        raise ValueError(f"{repo_id}/{prefix} resolves outside the repo's snapshot: {path}")
    if not (path / META_FILE).is_file():
        where = f"{repo_id}/{prefix}" if prefix else repo_id
        raise FileNotFoundError(
            f"the Hub dataset {where} (revision {revision or 'main'}) holds no hf-s2l "
            f"trajectory store ({META_FILE} missing); publish one with "
            "TrajectoryStore.push_to_hub"
        )
    store = TrajectoryStore.open(path)
    logger.info(f"opened the trajectory store of {repo_id} from the Hugging Face cache: {path}")
    return store


def open_store(
    path_or_uri: TrajectoryStore | str | os.PathLike, **hub_kwargs: Any
) -> TrajectoryStore:
    """A :class:`TrajectoryStore` from a local directory or ``hf://datasets/<owner>/<name>``.

    ``hf://datasets/<owner>/<name>@<revision>/<folder>`` pins a revision and a folder of
    the repo. ``hub_kwargs`` go to :func:`store_from_hub` (``token``, ``cache_dir``...).
    """
    if isinstance(path_or_uri, TrajectoryStore):
        return path_or_uri
    if is_hub_uri(path_or_uri):
        repo_id, revision, sub = parse_hub_uri(str(path_or_uri))
        return store_from_hub(repo_id, revision, path_in_repo=sub, **hub_kwargs)
    return TrajectoryStore.open(path_or_uri)
