"""Publish a :class:`~hf_s2l.SelectedDataset`: Hub push, ``save_to_disk`` card and file export.

Each function checks that the rows may be published (a ``SelectedDataset`` whose alignment was
verified, unless ``allow_unverified=True``), builds its provenance
(:func:`hf_s2l.data.provenance.selection_provenance`) and hands the rows and the provenance to
:mod:`hf_s2l.hub.datasets`, which writes or uploads them with the card (see there for the
two-commit Hub push). The token goes to ``datasets``/``huggingface_hub`` only, never logged.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..hub import datasets as hub_datasets
from ..hub.datasets import CARD_FILENAME, EXPORT_FORMATS
from ..hub.datasets import hub_metadata as _hub_metadata
from .alignment import AlignmentError
from .provenance import selection_provenance

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import CommitInfo

    from .provenance import SelectedRows as SelectedDataset

__all__ = ["CARD_FILENAME", "EXPORT_FORMATS", "export", "push_to_hub", "write_card"]
_ = _hub_metadata  # old private name, kept importable from here


def _check_publishable(selected: SelectedDataset, allow_unverified: bool) -> None:
    # duck-typed: this module sits below selected_dataset.py (whose methods call it)
    if not all(hasattr(selected, a) for a in ("selection", "alignment", "store")):
        raise TypeError(f"expected a SelectedDataset, got {type(selected).__name__}")
    if not selected.alignment.verified and not allow_unverified:
        raise AlignmentError(
            "refusing to publish: this SelectedDataset was built with verify=False, so nothing "
            "proves its rows are the selected examples. Align it through ids (id_column=...) "
            "or pass allow_unverified=True"
        )


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

    Returns the card commit's ``CommitInfo``. See :mod:`hf_s2l.hub.datasets`.
    """
    _check_publishable(selected, allow_unverified)
    split = split or (str(selected.split) if selected.split is not None else "train")
    provenance = selection_provenance(
        selected, command=command, source_dataset=source_dataset, group_counts=group_counts
    )
    return hub_datasets.push_rows(
        selected,
        repo_id,
        provenance,
        private=private,
        token=token,
        split=split,
        card_commit_message=card_commit_message,
        **push_kwargs,
    )


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
    provenance = selection_provenance(
        selected, command=command, source_dataset=source_dataset, group_counts=group_counts
    )
    return hub_datasets.write_card(directory, replace(provenance, layout=layout), metadata=metadata)


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
    provenance = selection_provenance(
        selected, command=command, source_dataset=source_dataset, group_counts=group_counts
    )
    return hub_datasets.export_rows(selected, directory, provenance, format=format, split=split)
