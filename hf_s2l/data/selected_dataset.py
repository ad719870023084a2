"""``SelectedDataset``: the target's training set restricted to a selection.

Design: :class:`SelectedDataset` IS a :class:`datasets.Dataset` (a subclass), built with
``Dataset.select`` on the target dataset, so it is zero-copy (an indices mapping over the
original Arrow table) and everything that accepts a ``datasets.Dataset`` accepts it,
``transformers.Trainer`` included (``remove_unused_columns``, length grouping…). ``len``,
indexing, ``column_names``, ``map``, ``with_format``, ``to_pandas``… are the ``datasets``
ones. Transformations that return a new dataset (``map``, ``select``, ``shuffle``…) return
plain ``datasets.Dataset`` objects with the same rows; the selection's provenance stays on
the ``SelectedDataset`` (use it for publishing).

Curriculum order: ``SelectedDataset(ds, sel, ordered=True)`` presents rows in
``selection.order``. The ``Trainer`` shuffles by default; to keep the order either

* transformers ≥ 5: ``TrainingArguments(..., train_sampling_strategy="sequential")``, or
* any version: ``hf_s2l.data.curriculum_trainer()`` (a ``Trainer`` subclass using a
  ``SequentialSampler``; pass ``trainer_cls=`` to wrap ``Seq2SeqTrainer``/``SFTTrainer``).

Weights: ``weight_column="weight"`` adds a float32 column holding ``selection.weights`` (or
``weights=`` given explicitly, aligned with ``selection.indices``, e.g.
:func:`inverse_frequency_weights` of cluster labels) for users who implement a weighted
loss. Remember to keep it out of ``remove_unused_columns`` (e.g. a custom
``compute_loss``/collator).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import datasets
import numpy as np
from transformers.utils import logging

from .alignment import Alignment, AlignmentError, align

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import CommitInfo, DatasetCard

    from ..selection.selection import Selection
    from ..store.trajectory_store import TrajectoryStore

logger = logging.get_logger(__name__)


def inverse_frequency_weights(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Per-example weights ``1 / count(label)``, rescaled to mean 1 (e.g. inverse cluster size)."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or not len(arr):
        raise ValueError("labels must be a non-empty 1-D sequence")
    _, inv, counts = np.unique(arr, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inv].astype(np.float64)
    return (w / w.mean()).astype(np.float32)


def _load_store(store: Any, selection: Selection) -> TrajectoryStore | None:
    """The store given, or the one named in the selection's provenance when it still matches."""
    from ..store.trajectory_store import TrajectoryStore, is_store

    if store is not None:
        return store if isinstance(store, TrajectoryStore) else TrajectoryStore.open(store)
    prov = selection.provenance or {}
    path = prov.get("store") or prov.get("store_path")
    if isinstance(path, dict):
        path = path.get("path")
    if not path or not is_store(path):
        return None
    try:
        st = TrajectoryStore.open(path)
    except Exception as e:  # pragma: no cover - unreadable store: provenance only
        logger.debug(f"could not open the selection's store {path}: {e}")
        return None
    if selection.store_fingerprint and st.fingerprint != selection.store_fingerprint:
        logger.info(
            f"the store at {path} changed since the selection was made; not using it for provenance"
        )
        return None
    return st


class SelectedDataset(datasets.Dataset):
    """A ``datasets.Dataset`` holding only the selected rows of ``dataset`` (zero-copy).

    Args:
        dataset: the target's training set (raw or tokenized with any tokenizer), one split.
        selection: a :class:`~hf_s2l.Selection` or the directory it was saved to.
        id_column: map the selection through this stable id column (the target may then be
            reordered or filtered). Without it, alignment is positional and verified as
            described in :mod:`hf_s2l.data.alignment`.
        ordered: present the rows in ``selection.order`` (curriculum) instead of index order.
        weight_column: if set, add a float32 column of per-example weights with this name.
        weights: explicit weights aligned with ``selection.indices`` (default: ``selection.weights``).
        store: the :class:`~hf_s2l.TrajectoryStore` (or its path) the selection was made from;
            checked against ``selection.store_fingerprint`` and used for ids and provenance.
            Default: the store path recorded in the selection's provenance, if it still matches.
        verify: ``False`` accepts an unverifiable positional alignment (row count only), with a
            warning; such a dataset is not published unless ``allow_unverified=True``.

    Raises:
        AlignmentError: the selection cannot be proven to refer to these rows.
    """

    def __init__(
        self,
        dataset: datasets.Dataset,
        selection: Selection | str | os.PathLike,
        *,
        id_column: str | None = None,
        ordered: bool = False,
        weight_column: str | None = None,
        weights: Sequence[float] | np.ndarray | None = None,
        store: TrajectoryStore | str | os.PathLike | None = None,
        verify: bool = True,
    ) -> None:
        from ..selection.selection import Selection

        if isinstance(dataset, datasets.DatasetDict):
            raise TypeError(
                f"SelectedDataset needs one split, got a DatasetDict with {list(dataset)}; "
                "pass e.g. dataset['train']"
            )
        if not isinstance(dataset, datasets.Dataset):
            raise TypeError(
                f"SelectedDataset needs a map-style datasets.Dataset, got {type(dataset).__name__}"
            )
        if not isinstance(selection, Selection):
            selection = Selection.load(selection)
        store_obj = _load_store(store, selection)
        alignment = align(
            dataset,
            selection,
            id_column=id_column,
            ordered=ordered,
            verify=verify,
            store=store_obj,
        )
        base = dataset
        w_rows: np.ndarray | None = None
        if weight_column is not None:
            w = selection.weights if weights is None else np.asarray(weights, dtype=np.float32)
            if w is None:
                raise ValueError(
                    f"weight_column={weight_column!r} but the selection carries no weights; "
                    "pass weights=... (e.g. inverse_frequency_weights(cluster_labels))"
                )
            if w.shape != selection.indices.shape:
                raise ValueError(
                    f"weights has shape {w.shape}, expected {selection.indices.shape} "
                    "(aligned with selection.indices)"
                )
            if weight_column in dataset.column_names:
                raise ValueError(f"the dataset already has a column {weight_column!r}")
            w_rows = np.asarray(w, dtype=np.float32)[
                np.searchsorted(selection.indices, alignment.proxy_indices)
            ]
            if dataset._indices is None:
                # Horizontal concat of one float column: the existing columns are not copied.
                full = np.full(len(dataset), np.nan, dtype=np.float32)
                full[alignment.rows] = w_rows
                base = dataset.add_column(weight_column, full, feature=datasets.Value("float32"))
                w_rows = None
        selected = base.select(alignment.rows)
        if w_rows is not None:  # base had an indices mapping: add_column flattens the subset
            selected = selected.add_column(weight_column, w_rows, feature=datasets.Value("float32"))
        super().__init__(
            selected._data,
            info=selected.info.copy(),
            split=selected.split,
            indices_table=selected._indices,
            fingerprint=selected._fingerprint,
        )
        fmt = selected.format
        if fmt["type"] is not None or fmt["columns"] is not None:
            self.set_format(
                type=fmt["type"],
                columns=fmt["columns"],
                output_all_columns=fmt["output_all_columns"],
                **fmt["format_kwargs"],
            )
        self._s2l_selection = selection
        self._s2l_alignment = alignment
        self._s2l_weight_column = weight_column
        self._s2l_store_path = str(store_obj.path) if store_obj is not None else None
        self._s2l_source_len = len(dataset)
        self._s2l_source_fingerprint = getattr(dataset, "_fingerprint", None)
        if ordered:
            logger.info(
                "SelectedDataset(ordered=True): rows follow the curriculum order; keep the Trainer "
                "from shuffling with TrainingArguments(train_sampling_strategy='sequential') "
                "(transformers>=5) or hf_s2l.data.curriculum_trainer()"
            )

    # ------------------------------------------------------------------ provenance
    @property
    def selection(self) -> Selection:
        """The :class:`~hf_s2l.Selection` these rows come from."""
        return self._s2l_selection

    @property
    def alignment(self) -> Alignment:
        """How the selection was mapped onto the source dataset."""
        return self._s2l_alignment

    @property
    def source_indices(self) -> np.ndarray:
        """Row positions in the source dataset, in this dataset's order."""
        return self._s2l_alignment.rows

    @property
    def proxy_indices(self) -> np.ndarray:
        """Row indices in the proxy's training set (store rows), in this dataset's order."""
        return self._s2l_alignment.proxy_indices

    @property
    def ordered(self) -> bool:
        return self._s2l_alignment.ordered

    @property
    def weight_column(self) -> str | None:
        return self._s2l_weight_column

    def store(self) -> TrajectoryStore | None:
        """The trajectory store the selection was made from, if known and still there."""
        from ..store.trajectory_store import TrajectoryStore, is_store

        p = self._s2l_store_path
        return TrajectoryStore.open(p) if p and is_store(p) else None

    def group_counts(
        self, column: str, source: datasets.Dataset | None = None
    ) -> dict[str, dict[str, int]]:
        """``{value: {"before": n_in_source, "after": n_selected}}`` for a categorical column.

        ``before`` needs the full ``source`` dataset (the one passed to the constructor);
        without it only ``after`` is filled.
        """
        after = Counter(str(v) for v in self.select_columns([column]).with_format(None)[column])
        before: Counter[str] = Counter()
        if source is not None:
            before = Counter(
                str(v) for v in source.select_columns([column]).with_format(None)[column]
            )
        keys = sorted(set(before) | set(after))
        return {k: {"before": before.get(k, 0), "after": after.get(k, 0)} for k in keys}

    def provenance(self, **extra: Any) -> dict[str, Any]:
        """The provenance recorded in dataset cards (see :func:`hf_s2l.data.card_provenance`)."""
        from .provenance import card_provenance

        return card_provenance(self, **extra)

    def card(self, **extra: Any) -> DatasetCard:
        """The dataset card (README.md) describing this selection."""
        from ..hub.card import build_card
        from .provenance import selection_provenance

        return build_card(selection_provenance(self, **extra))

    # ------------------------------------------------------------------ publishing
    def push_to_hub(  # type: ignore[override]
        self,
        repo_id: str,
        private: bool = True,
        token: str | None = None,
        *,
        command: str | None = None,
        source_dataset: str | None = None,
        group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
        allow_unverified: bool = False,
        **push_kwargs: Any,
    ) -> CommitInfo:
        """Push the rows (``datasets``' own ``push_to_hub``) then a dataset card with provenance.

        Wrap the RAW dataset to publish raw rows. ``private`` defaults to ``True``. The
        token is passed to ``huggingface_hub`` only, never logged. Refuses (AlignmentError)
        an unverified alignment unless ``allow_unverified=True``. Other keyword arguments go
        to :meth:`datasets.Dataset.push_to_hub`. Returns the card commit's ``CommitInfo``.
        """
        from .publish import push_to_hub

        return push_to_hub(
            self,
            repo_id,
            private=private,
            token=token,
            command=command,
            source_dataset=source_dataset,
            group_counts=group_counts,
            allow_unverified=allow_unverified,
            **push_kwargs,
        )

    def save_to_disk(  # type: ignore[override]
        self,
        dataset_path: str | os.PathLike,
        *args: Any,
        card: bool = True,
        command: str | None = None,
        source_dataset: str | None = None,
        group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
        **kwargs: Any,
    ) -> None:
        """``datasets.Dataset.save_to_disk`` plus the dataset card as ``README.md`` (local paths)."""
        datasets.Dataset.save_to_disk(self, dataset_path, *args, **kwargs)
        if card:
            from .publish import write_card

            write_card(
                self,
                Path(dataset_path),
                command=command,
                source_dataset=source_dataset,
                group_counts=group_counts,
                layout="save_to_disk",
            )

    def export(
        self,
        directory: str | os.PathLike,
        format: str = "parquet",
        *,
        split: str = "train",
        command: str | None = None,
        source_dataset: str | None = None,
        group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
    ) -> Path:
        """Write the rows as ``DIR/data/{split}.parquet`` or ``.jsonl`` plus ``README.md``.

        The card's ``configs`` metadata makes ``datasets.load_dataset(DIR)`` load the file.
        """
        from .publish import export

        return export(
            self,
            directory,
            format=format,
            split=split,
            command=command,
            source_dataset=source_dataset,
            group_counts=group_counts,
        )

    def __repr__(self) -> str:
        sel = self._s2l_selection
        return (
            f"SelectedDataset(method={sel.method!r}, rows={len(self)}/{self._s2l_source_len}, "
            f"alignment={self._s2l_alignment.method!r}, ordered={self.ordered}, "
            f"features={list(self.features)})"
        )


def curriculum_trainer(trainer_cls: type | None = None) -> type:
    """A subclass of ``trainer_cls`` (default ``transformers.Trainer``) that never shuffles.

    Its training dataloader uses a ``SequentialSampler``, so an ``ordered=True``
    :class:`SelectedDataset` is seen in curriculum order (every epoch). On transformers ≥ 5
    ``TrainingArguments(train_sampling_strategy="sequential")`` does the same.
    """
    import torch
    from transformers import Trainer

    base = trainer_cls or Trainer

    def _get_train_sampler(self: Any, *args: Any, **kwargs: Any) -> Any:
        ds = args[0] if args else kwargs.get("train_dataset", None)
        ds = self.train_dataset if ds is None else ds
        if ds is None or not hasattr(ds, "__len__"):
            return None
        return torch.utils.data.SequentialSampler(ds)

    return type(f"Curriculum{base.__name__}", (base,), {"_get_train_sampler": _get_train_sampler})


__all__ = [
    "AlignmentError",
    "SelectedDataset",
    "curriculum_trainer",
    "inverse_frequency_weights",
]
