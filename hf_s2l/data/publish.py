"""Publish a :class:`~hf_s2l.SelectedDataset`: Hub push, ``save_to_disk`` and file export.

All three write the same dataset card (:mod:`hf_s2l.data.card`).

Hub push = two commits: ``datasets.Dataset.push_to_hub`` uploads the parquet shards and its
own README (``dataset_info`` + ``configs`` metadata); hf-s2l then reads that README back,
keeps its metadata, adds the ``hf_s2l`` provenance block and the body, and uploads it with
``HfApi.upload_file``. The card is built before anything is sent, and a dataset whose
alignment was not verified (``verify=False``) is refused unless ``allow_unverified=True``.
The token goes to ``datasets``/``huggingface_hub`` only and is never logged.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformers.utils import logging

from .alignment import AlignmentError
from .card import PROVENANCE_KEY, build_card, card_provenance, parse_card

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import CommitInfo

    from .selected_dataset import SelectedDataset

logger = logging.get_logger(__name__)

CARD_FILENAME = "README.md"
EXPORT_FORMATS = ("parquet", "jsonl")


def _check_publishable(selected: SelectedDataset, allow_unverified: bool) -> None:
    from .selected_dataset import SelectedDataset

    if not isinstance(selected, SelectedDataset):
        raise TypeError(f"expected a SelectedDataset, got {type(selected).__name__}")
    if not selected.alignment.verified and not allow_unverified:
        raise AlignmentError(
            "refusing to publish: this SelectedDataset was built with verify=False, so nothing "
            "proves its rows are the selected examples. Align it through ids (id_column=...) "
            "or pass allow_unverified=True"
        )


def _hub_metadata(api: Any, repo_id: str, revision: str | None, split: str) -> dict[str, Any]:
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


def push_to_hub(
    selected: SelectedDataset,
    repo_id: str,
    *,
    private: bool = True,
    token: str | None = None,
    split: str | None = None,
    command: str | None = None,
    source_dataset: str | None = None,
    group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
    allow_unverified: bool = False,
    card_commit_message: str = "Add hf-s2l dataset card",
    **push_kwargs: Any,
) -> CommitInfo:
    """Push ``selected``'s rows and its dataset card to the Hub dataset repo ``repo_id``.

    Returns the card commit's ``CommitInfo``. See the module docstring.
    """
    from huggingface_hub import HfApi

    _check_publishable(selected, allow_unverified)
    split = split or (str(selected.split) if selected.split is not None else "train")
    provenance = card_provenance(
        selected, command=command, source_dataset=source_dataset, group_counts=group_counts
    )
    build_card(provenance)  # fail on a bad card before anything is uploaded
    logger.info(
        f"pushing {len(selected)} selected rows to the dataset repo {repo_id} (private={private})"
    )
    data_commit = selected._push_rows_to_hub(
        repo_id, private=private, token=token, split=split, **push_kwargs
    )
    full_id = getattr(getattr(data_commit, "repo_url", None), "repo_id", None) or repo_id
    revision = getattr(data_commit, "pr_revision", None) or push_kwargs.get("revision")
    api = HfApi(token=token)
    metadata = _hub_metadata(api, full_id, getattr(data_commit, "oid", None) or revision, split)
    card = build_card(provenance, metadata=metadata)
    info = api.upload_file(
        path_or_fileobj=str(card).encode("utf-8"),
        path_in_repo=CARD_FILENAME,
        repo_id=full_id,
        repo_type="dataset",
        revision=revision,
        commit_message=card_commit_message,
    )
    logger.info(f"pushed {len(selected)} rows and the dataset card to {full_id}")
    return info


def write_card(
    selected: SelectedDataset,
    directory: str | os.PathLike,
    *,
    command: str | None = None,
    source_dataset: str | None = None,
    group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
    metadata: dict[str, Any] | None = None,
    layout: str = "save_to_disk",
) -> Path:
    """Write ``directory/README.md`` for ``selected`` and return its path."""
    provenance = card_provenance(
        selected, command=command, source_dataset=source_dataset, group_counts=group_counts
    )
    provenance["layout"] = layout
    card = build_card(provenance, metadata=metadata)
    path = Path(directory) / CARD_FILENAME
    path.write_text(str(card), encoding="utf-8")
    return path


def export(
    selected: SelectedDataset,
    directory: str | os.PathLike,
    *,
    format: str = "parquet",
    split: str = "train",
    command: str | None = None,
    source_dataset: str | None = None,
    group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
    allow_unverified: bool = False,
) -> Path:
    """Write ``DIR/data/{split}.{parquet|jsonl}`` and ``DIR/README.md``; return ``DIR``.

    The card's ``configs`` metadata points at the data file, so
    ``datasets.load_dataset(DIR, split=split)`` loads it back.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}, got {format!r}")
    _check_publishable(selected, allow_unverified)
    d = Path(directory)
    (d / "data").mkdir(parents=True, exist_ok=True)
    rel = f"data/{split}.{format}"
    if format == "parquet":
        selected.to_parquet(str(d / rel))
    else:
        selected.to_json(str(d / rel), lines=True, force_ascii=False)
    metadata = {
        "configs": [{"config_name": "default", "data_files": [{"split": split, "path": rel}]}]
    }
    write_card(
        selected,
        d,
        command=command,
        source_dataset=source_dataset,
        group_counts=group_counts,
        metadata=metadata,
        layout=format,
    )
    logger.info(f"exported {len(selected)} rows to {d / rel}")
    return d
