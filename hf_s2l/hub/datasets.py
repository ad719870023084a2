"""Publish rows with their card: Hub push, a card next to ``save_to_disk`` files, file export.

Plain inputs: a ``datasets.Dataset`` (any subclass; ``datasets``' own writers are called, never
an override) and a :class:`~hf_s2l.hub.provenance.SelectionProvenance`. Checking that the rows
are the selected ones is the caller's job (:mod:`hf_s2l.data.publish`).

Hub push = two commits: ``datasets.Dataset.push_to_hub`` uploads the parquet shards and its
own README (``dataset_info`` + ``configs`` metadata); then that README is read back, its
metadata kept, the ``hf_s2l`` provenance block and the body added, and the card uploaded with
``HfApi.upload_file``. The card is built before anything is sent. The token goes to
``datasets``/``huggingface_hub`` only and is never logged.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers.utils import logging

from .card import build_card, parse_card
from .export_folder import CARD_FILENAME, staged_export
from .provenance import PROVENANCE_KEY, SelectionProvenance

if TYPE_CHECKING:  # pragma: no cover
    import datasets
    from huggingface_hub import CommitInfo

logger = logging.get_logger(__name__)

EXPORT_FORMATS = ("parquet", "jsonl")

__all__ = [
    "CARD_FILENAME",
    "EXPORT_FORMATS",
    "export_rows",
    "hub_metadata",
    "push_rows",
    "write_card",
]


def hub_metadata(api: Any, repo_id: str, revision: str | None, split: str) -> dict[str, Any]:
    """The YAML metadata of the README ``datasets`` just pushed (configs, dataset_info)."""
    import huggingface_hub.errors as hf_errors

    expected = tuple(
        getattr(hf_errors, n)
        for n in ("HfHubHTTPError", "EntryNotFoundError")
        if isinstance(getattr(hf_errors, n, None), type)
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = api.hf_hub_download(
                repo_id, CARD_FILENAME, repo_type="dataset", revision=revision, local_dir=tmp
            )
            meta, _ = parse_card(Path(path).read_text(encoding="utf-8"))
    except (*expected, OSError, ValueError) as e:
        logger.info(
            f"could not read back the pushed dataset card ({type(e).__name__}); rebuilding its configs"
        )
        meta = {
            "configs": [
                {
                    "config_name": "default",
                    "data_files": [{"split": split, "path": f"data/{split}-*"}],
                }
            ]
        }
    meta.pop(PROVENANCE_KEY, None)
    return meta


def push_rows(
    rows: datasets.Dataset,
    repo_id: str,
    provenance: SelectionProvenance,
    *,
    private: bool = True,
    token: str | None = None,
    split: str = "train",
    card_commit_message: str = "Add hf-s2l dataset card",
    **push_kwargs: Any,
) -> CommitInfo:
    """Push ``rows`` and their card to the Hub dataset repo ``repo_id``; the card commit's info."""
    import datasets
    from huggingface_hub import HfApi

    build_card(provenance)  # fail on a bad card before anything is uploaded
    logger.info(
        f"pushing {len(rows)} selected rows to the dataset repo {repo_id} (private={private})"
    )
    data_commit = datasets.Dataset.push_to_hub(
        rows, repo_id, private=private, token=token, split=split, **push_kwargs
    )
    full_id = getattr(getattr(data_commit, "repo_url", None), "repo_id", None) or repo_id
    revision = getattr(data_commit, "pr_revision", None) or push_kwargs.get("revision")
    api = HfApi(token=token)
    metadata = hub_metadata(api, full_id, getattr(data_commit, "oid", None) or revision, split)
    card = build_card(provenance, metadata=metadata)
    info = api.upload_file(
        path_or_fileobj=str(card).encode("utf-8"),
        path_in_repo=CARD_FILENAME,
        repo_id=full_id,
        repo_type="dataset",
        revision=revision,
        commit_message=card_commit_message,
    )
    logger.info(f"pushed {len(rows)} rows and the dataset card to {full_id}")
    return info


def write_card(
    directory: str | os.PathLike,
    provenance: SelectionProvenance,
    *,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``directory/README.md`` (the card of ``provenance``) and return its path."""
    card = build_card(provenance, metadata=metadata)
    path = Path(directory) / CARD_FILENAME
    path.write_text(str(card), encoding="utf-8")
    return path


def export_rows(
    rows: datasets.Dataset,
    directory: str | os.PathLike,
    provenance: SelectionProvenance,
    *,
    format: str = "parquet",
    split: str = "train",
) -> Path:
    """Write ``DIR/data/{split}.{parquet|jsonl}`` and ``DIR/README.md``; return ``DIR``.

    The card's ``configs`` metadata points at the data file, so
    ``datasets.load_dataset(DIR, split=split)`` loads it back. The card's ``layout`` is
    ``format``.
    """
    import datasets

    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}, got {format!r}")
    build_card(provenance)  # fail on a bad card before anything is written
    d = Path(directory)
    rel = f"data/{split}.{format}"
    with staged_export(d, [rel, CARD_FILENAME]) as tmp:  # all files, or none
        (tmp / "data").mkdir()
        if format == "parquet":
            datasets.Dataset.to_parquet(rows, str(tmp / rel))
        else:
            datasets.Dataset.to_json(rows, str(tmp / rel), lines=True, force_ascii=False)
        metadata = {
            "configs": [{"config_name": "default", "data_files": [{"split": split, "path": rel}]}]
        }
        write_card(tmp, replace(provenance, layout=format), metadata=metadata)
    logger.info(f"exported {len(rows)} rows to {d / rel}")
    return d
