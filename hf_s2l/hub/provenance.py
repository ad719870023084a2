"""The typed provenance of a published selection: what a dataset card's ``hf_s2l`` block says.

:class:`SelectionProvenance` is plain data (no selection or dataset types), built by
:func:`hf_s2l.data.selection_provenance` from a :class:`~hf_s2l.SelectedDataset` and rendered by
:mod:`hf_s2l.hub.card`. :meth:`SelectionProvenance.to_dict` writes exactly the YAML keys of every
card hf-s2l has written (:data:`PROVENANCE_FIELDS`, in that order, then ``layout`` when set);
:meth:`SelectionProvenance.from_dict` reads such a block back (older cards included), keeping
keys it does not know in ``extra`` so a round trip loses nothing. ``group_quotas`` (the rule
that split the budget over a ``by_column`` and its per-group counts) follows when recorded.

Counts are ``{group: {value: GroupCount(before, after)}}``: examples with that value in the whole
dataset and in the selection (per metadata column, per cluster, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..store.jsonable import to_jsonable

__all__ = [
    "PROVENANCE_FIELDS",
    "PROVENANCE_KEY",
    "CardAlignment",
    "GroupCount",
    "RecordingSchedule",
    "Reproduce",
    "SelectionProvenance",
]

PROVENANCE_KEY = "hf_s2l"
PROVENANCE_FIELDS = (
    "method",
    "params",
    "budget",
    "num_selected",
    "num_examples",
    "fraction",
    "seed",
    "proxy_model",
    "store_fingerprint",
    "dataset_fingerprint",
    "recording_schedule",
    "counts",
    "selection_stats",
    "alignment",
    "source_dataset",
    "content_sha1",
    "library_version",
    "reproduce",
)


class GroupCount(NamedTuple):
    """Examples with one group value in the whole dataset (``before``) and the selection."""

    before: Any
    after: Any


@dataclass
class RecordingSchedule:
    """The recorder's schedule settings (as recorded) and the recorded points."""

    schedule: Any = None
    points: list[dict[str, Any]] | None = None  # {"global_step", "epoch", "kind"} each

    def to_dict(self) -> dict[str, Any]:
        return {"schedule": self.schedule, "points": self.points}


@dataclass
class CardAlignment:
    """How the published rows were matched to the selection's indices."""

    method: str | None = None
    id_column: str | None = None
    ordered: bool = False
    weight_column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "id_column": self.id_column,
            "ordered": self.ordered,
            "weight_column": self.weight_column,
        }


@dataclass
class Reproduce:
    """Commands (tokens redacted) and a Python snippet that rebuild the published rows."""

    selection_command: str | None = None
    command: str | None = None
    python: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "selection_command": self.selection_command,
            "command": self.command,
            "python": self.python,
        }


def _counts_from_dict(val: Any) -> dict[str, dict[str, GroupCount]]:
    out: dict[str, dict[str, GroupCount]] = {}
    for group, table in (val or {}).items():
        out[str(group)] = {
            str(k): (
                GroupCount(v.get("before"), v.get("after"))
                if isinstance(v, dict)
                else GroupCount(*v)
            )
            for k, v in (table or {}).items()
        }
    return out


@dataclass
class SelectionProvenance:
    """Provenance of a published selection (see the module docstring); plain, JSON-safe values."""

    method: str | None = None
    params: dict[str, Any] | None = None
    budget: Any = None
    num_selected: int | None = None
    num_examples: int | None = None
    fraction: float | None = None
    seed: int | None = None
    proxy_model: Any = None
    store_fingerprint: str | None = None
    dataset_fingerprint: str | None = None
    recording_schedule: RecordingSchedule | None = None
    counts: dict[str, dict[str, GroupCount]] = field(default_factory=dict)
    selection_stats: Any = None  # the selection's own statistics, verbatim
    alignment: CardAlignment | None = None
    source_dataset: str | None = None
    content_sha1: str | None = None
    library_version: str | None = None
    reproduce: Reproduce = field(default_factory=Reproduce)
    layout: str | None = None  # "save_to_disk", "parquet", "jsonl" (written cards only)
    # {"column", "rule", "groups": {value: {"size", "quota", "selected"}}}: how the budget was
    # split over the by_column groups (selections made with groups only)
    group_quotas: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # unknown keys of a parsed card

    def to_dict(self) -> dict[str, Any]:
        """The card's ``hf_s2l`` YAML block (keys in :data:`PROVENANCE_FIELDS` order)."""
        out: dict[str, Any] = {
            "method": self.method,
            "params": self.params,
            "budget": self.budget,
            "num_selected": self.num_selected,
            "num_examples": self.num_examples,
            "fraction": self.fraction,
            "seed": self.seed,
            "proxy_model": self.proxy_model,
            "store_fingerprint": self.store_fingerprint,
            "dataset_fingerprint": self.dataset_fingerprint,
            "recording_schedule": (
                self.recording_schedule.to_dict() if self.recording_schedule else None
            ),
            "counts": {
                g: {k: {"before": c.before, "after": c.after} for k, c in t.items()}
                for g, t in self.counts.items()
            },
            "selection_stats": self.selection_stats,
            "alignment": self.alignment.to_dict() if self.alignment else None,
            "source_dataset": self.source_dataset,
            "content_sha1": self.content_sha1,
            "library_version": self.library_version,
            "reproduce": self.reproduce.to_dict(),
        }
        if self.layout is not None:
            out["layout"] = self.layout
        if self.group_quotas is not None:
            out["group_quotas"] = self.group_quotas
        for k, v in self.extra.items():
            out.setdefault(k, v)
        return to_jsonable(out)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelectionProvenance:
        """Read a card's ``hf_s2l`` block (missing keys -> ``None``; unknown keys -> ``extra``)."""
        if not isinstance(data, dict):
            raise TypeError(f"a card's {PROVENANCE_KEY} block is a mapping, got {type(data)}")
        d = dict(data)
        sched, align, rep = d.get("recording_schedule"), d.get("alignment"), d.get("reproduce")
        known = {*PROVENANCE_FIELDS, "layout", "group_quotas"}
        return cls(
            method=d.get("method"),
            params=d.get("params"),
            budget=d.get("budget"),
            num_selected=d.get("num_selected"),
            num_examples=d.get("num_examples"),
            fraction=d.get("fraction"),
            seed=d.get("seed"),
            proxy_model=d.get("proxy_model"),
            store_fingerprint=d.get("store_fingerprint"),
            dataset_fingerprint=d.get("dataset_fingerprint"),
            recording_schedule=(
                RecordingSchedule(sched.get("schedule"), sched.get("points"))
                if isinstance(sched, dict)
                else None
            ),
            counts=_counts_from_dict(d.get("counts")),
            selection_stats=d.get("selection_stats"),
            alignment=(
                CardAlignment(
                    align.get("method"),
                    align.get("id_column"),
                    bool(align.get("ordered", False)),
                    align.get("weight_column"),
                )
                if isinstance(align, dict)
                else None
            ),
            source_dataset=d.get("source_dataset"),
            content_sha1=d.get("content_sha1"),
            library_version=d.get("library_version"),
            reproduce=(
                Reproduce(rep.get("selection_command"), rep.get("command"), rep.get("python"))
                if isinstance(rep, dict)
                else Reproduce()
            ),
            layout=d.get("layout"),
            group_quotas=d.get("group_quotas") if isinstance(d.get("group_quotas"), dict) else None,
            extra={k: v for k, v in d.items() if k not in known},
        )
