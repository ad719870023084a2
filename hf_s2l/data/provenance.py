"""The provenance of a :class:`~hf_s2l.SelectedDataset`, as the typed object its card renders.

:func:`selection_provenance` reads the selection (method, parameters, stats, recorded command),
the trajectory store it was made from (fingerprints, schedule, per-metadata-column counts) and
the alignment, and hands :mod:`hf_s2l.hub` a plain
:class:`~hf_s2l.hub.provenance.SelectionProvenance`. Group counts come from three places, later
ones replacing earlier ones of the same name: the store's categorical metadata columns, the
selection's stats (:func:`hf_s2l.selection.stats.group_tables`) and ``group_counts`` passed in.

The selection's ``provenance`` dict is written by :func:`hf_s2l.select` with the keys
``store_path``, ``model_name_or_path`` and ``columns``; selections made by hand (or by user
methods) may use the aliases in :data:`SELECTION_KEY_ALIASES`, read here and nowhere else.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

import numpy as np

from ..hub.markdown import redact
from ..hub.provenance import (
    CardAlignment,
    GroupCount,
    RecordingSchedule,
    Reproduce,
    SelectionProvenance,
)
from ..selection.stats import group_tables
from ..store.commandline import hf_s2l_command
from ..version import __version__

__all__ = ["SELECTION_KEY_ALIASES", "SelectedRows", "card_provenance", "selection_provenance"]

MAX_GROUP_VALUES = 1000
SELECTION_KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "store_path": ("store", "store_path"),
    "model_name_or_path": ("model", "proxy_model", "model_name_or_path"),
    "schedule": ("schedule", "recording_schedule"),
}
Counts = dict[str, dict[str, GroupCount]]


class SelectedRows(Protocol):
    """What is read of a :class:`~hf_s2l.SelectedDataset` (no import of it: it imports us)."""

    selection: Any
    alignment: Any
    ordered: bool
    weight_column: str | None
    column_names: list[str]

    def store(self) -> Any: ...

    def __len__(self) -> int: ...


def _get(d: dict[str, Any], key: str) -> Any:
    """``d[key]`` or its first non-``None`` alias (:data:`SELECTION_KEY_ALIASES`)."""
    for k in SELECTION_KEY_ALIASES.get(key, (key,)):
        if d.get(k) is not None:
            return d[k]
    return None


def _store_counts(store: Any, indices: np.ndarray) -> Counts:
    """Per-value counts of the store's categorical metadata columns (≤ 1000 values each)."""
    out: Counts = {}
    for name in store.metadata_columns:
        try:
            values = np.asarray(store.metadata(name))
        except (KeyError, OSError, ValueError):
            continue
        if values.ndim != 1 or values.dtype.kind == "f":
            continue
        before = Counter(map(str, values.tolist()))
        if len(before) > MAX_GROUP_VALUES:
            continue
        after = Counter(map(str, values[indices].tolist()))
        out[name] = {k: GroupCount(before[k], after.get(k, 0)) for k in sorted(before)}
    return out


def _recording_schedule(prov: dict[str, Any], store: Any) -> RecordingSchedule | None:
    """The recorder's schedule (from the store's meta) and the recorded points."""
    sched = _get(prov, "schedule")
    points = None
    if store is not None:
        extra = store.meta.get("extra", {}) or {}
        recorder = extra.get("recorder") if isinstance(extra.get("recorder"), dict) else {}
        if sched is None:
            sched = recorder.get("schedule") or _get(extra, "schedule") or (extra or None)
        points = [
            {"global_step": c["global_step"], "epoch": c["epoch"], "kind": c.get("kind")}
            for c in store.columns
            if c.get("complete")
        ]
    elif isinstance(prov.get("columns"), list):
        points = [
            {"global_step": c.get("global_step"), "epoch": c.get("epoch"), "kind": c.get("kind")}
            for c in prov["columns"]
            if isinstance(c, dict) and c.get("complete", True)
        ]
    if sched is None and points is None:
        return None
    return RecordingSchedule(sched, points)


def _typed_counts(tables: dict[str, dict[str, Any]]) -> Counts:
    """``{group: {value: {before, after} | (before, after)}}`` as :class:`GroupCount` tables."""
    return {
        str(g): {
            str(k): GroupCount(v["before"], v["after"]) if isinstance(v, dict) else GroupCount(*v)
            for k, v in t.items()
        }
        for g, t in tables.items()
    }


def _group_quotas(sel: Any) -> dict[str, Any] | None:
    """The rule that split the budget over the groups, with per-group size, quota, selected."""
    params, stats = sel.params or {}, sel.stats if isinstance(sel.stats, dict) else {}
    groups = stats.get("groups")
    if "group_quotas" not in params or not isinstance(groups, dict):
        return None
    counts = groups.get("counts") if isinstance(groups.get("counts"), dict) else {}
    return {
        "column": params.get("by_column") or (sel.provenance or {}).get("group_column"),
        "rule": params["group_quotas"],
        "groups": {
            str(k): {f: v.get(f) for f in ("size", "quota", "selected")}
            for k, v in counts.items()
            if isinstance(v, dict)
        },
    }


def selection_provenance(
    selected: SelectedRows,
    *,
    command: str | None = None,
    source_dataset: str | None = None,
    group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
    content_sha1: str | None | bool = True,
) -> SelectionProvenance:
    """The typed provenance of ``selected``'s card.

    ``command`` is the publishing command (redacted of tokens); ``group_counts`` adds
    ``{group: {value: {before, after}}}`` tables (e.g. from :meth:`SelectedDataset.group_counts`);
    ``content_sha1=True`` hashes the rows (``False`` skips it, a string is used as is).
    """
    from .ids import content_fingerprint

    sel = selected.selection
    prov = dict(sel.provenance or {})
    store = selected.store()
    model = _get(prov, "model_name_or_path")
    if isinstance(model, dict):
        model = model.get("name_or_path") or model.get("name") or model
    if model is None and store is not None:
        model = store.model_name_or_path
    counts: Counts = {}
    if store is not None:
        counts.update(_store_counts(store, sel.indices))
    counts.update(_typed_counts(group_tables(sel.stats)))
    counts.update(_typed_counts(group_counts or {}))
    if content_sha1 is True:
        cols = [c for c in selected.column_names if c != selected.weight_column]
        content_sha1 = content_fingerprint(selected, cols) if len(selected) else None
    elif content_sha1 is False:
        content_sha1 = None
    store_path = _get(prov, "store_path") or getattr(store, "path", None)
    sel_cmd = redact(prov.get("command"))
    if sel_cmd is None and store_path is not None:
        # the library's one command builder; before issue 21 the method name was not quoted
        # (identical for every registered method name: they are identifiers)
        sel_cmd = hf_s2l_command(
            "select",
            [store_path],
            [
                ("--method", str(sel.method)),
                ("--budget", str(sel.budget)),
                ("--seed", str(sel.seed)),
                ("--out", "SELECTION_DIR"),
            ],
        )
    id_col = selected.alignment.id_column
    python = (
        "from hf_s2l import Selection, SelectedDataset\n"
        "ds = SelectedDataset(raw_train, Selection.load('SELECTION_DIR')"
        + (f", id_column={id_col!r}" if id_col else "")
        + (", ordered=True" if selected.ordered else "")
        + ")"
    )
    return SelectionProvenance(
        method=sel.method,
        params=sel.params,
        budget=sel.budget,
        num_selected=len(sel.indices),
        num_examples=sel.num_examples or None,
        fraction=round(sel.fraction, 6) if sel.num_examples else None,
        seed=sel.seed,
        proxy_model=model,
        store_fingerprint=sel.store_fingerprint
        or (store.fingerprint if store is not None else None),
        dataset_fingerprint=sel.dataset_fingerprint
        or (store.dataset_fingerprint if store is not None else None),
        recording_schedule=_recording_schedule(prov, store),
        counts=counts,
        selection_stats=sel.stats,
        alignment=CardAlignment(
            method=selected.alignment.method,
            id_column=id_col,
            ordered=selected.ordered,
            weight_column=selected.weight_column,
        ),
        source_dataset=source_dataset,
        content_sha1=content_sha1,
        library_version=__version__,
        reproduce=Reproduce(selection_command=sel_cmd, command=redact(command), python=python),
        group_quotas=_group_quotas(sel),
    )


def card_provenance(selected: SelectedRows, **kwargs: Any) -> dict[str, Any]:
    """:func:`selection_provenance` as the card's ``hf_s2l`` dict (the public form until 0.x)."""
    return selection_provenance(selected, **kwargs).to_dict()
