"""hf-s2l: data-efficient fine-tuning from small-model loss trajectories.

Pipeline (one module per concept)::

    record/  TrajectoryCallback      per-example losses while the proxy trains
    store/   TrajectoryStore         memory-mapped N x T loss matrix on disk
    selection/ select(), Selection   S2L, Learning Percentage and baselines
    data/    tokenize_sft            rows for the recorder (prompt masked from the loss)
             SelectedDataset         the target's training set, filtered + aligned
    hub/     dataset cards, push     provenance on the Hugging Face Hub
    report/  build_report            HTML + PNG plots of a store
    transfer_check/ transfer()       does the proxy stand for the target? (two stores)
    experiments/ run_demo            demo, tiny models, corpora, metrics, the shared loop
                                     (not needed to use the library; the core never imports it)

Heavy dependencies (torch, transformers) are imported lazily on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

_LAZY: dict[str, str] = {
    # store
    "TrajectoryStore": "hf_s2l.store",
    "StoreMismatchError": "hf_s2l.store",
    "StoreCorruptError": "hf_s2l.store",
    "StoreChangedError": "hf_s2l.store",
    "StoreLockedError": "hf_s2l.store",
    # record
    "TrajectoryCallback": "hf_s2l.record",
    "RecordingSchedule": "hf_s2l.record",
    "per_example_loss": "hf_s2l.record",
    "attach": "hf_s2l.record",
    "RecorderConflictError": "hf_s2l.record",
    # select
    "Selection": "hf_s2l.selection",
    "select": "hf_s2l.selection",
    "register_method": "hf_s2l.selection",
    "MethodResult": "hf_s2l.selection",
    "available_methods": "hf_s2l.selection",
    # data
    "SelectedDataset": "hf_s2l.data",
    "add_example_ids": "hf_s2l.data",
    "AlignmentError": "hf_s2l.data",
    "tokenize_sft": "hf_s2l.data.sft",
    "format_prompt": "hf_s2l.data.sft",
    # report / demo
    "build_report": "hf_s2l.report",
    "run_demo": "hf_s2l.experiments.demo",
    "DemoConfig": "hf_s2l.experiments.demo",
    # transfer check
    "transfer": "hf_s2l.transfer_check",
    "TransferReport": "hf_s2l.transfer_check",
    "TransferAlignmentError": "hf_s2l.transfer_check",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from .data import AlignmentError, SelectedDataset, add_example_ids
    from .data.sft import format_prompt, tokenize_sft
    from .experiments.demo import DemoConfig, run_demo
    from .record import (
        RecorderConflictError,
        RecordingSchedule,
        TrajectoryCallback,
        attach,
        per_example_loss,
    )
    from .report import build_report
    from .selection import MethodResult, Selection, available_methods, register_method, select
    from .store import (
        StoreChangedError,
        StoreCorruptError,
        StoreLockedError,
        StoreMismatchError,
        TrajectoryStore,
    )
    from .transfer_check import TransferAlignmentError, TransferReport, transfer


def _bind_hub_entry_points() -> None:
    """``TrajectoryStore.push_to_hub`` / ``from_hub`` call ``hf_s2l.hub``, which the store layer
    does not import (tests/test_layers.py): they are bound here, where both layers are visible.
    This module runs before any module of the package, so every ``TrajectoryStore`` has them;
    it costs numpy only (the hub and its dependencies are imported on the first call)."""
    from .store.trajectory_store import HubEntryPoints, TrajectoryStore

    def push(store: TrajectoryStore, repo_id: str, **kwargs: Any) -> Any:
        from .hub.trajectories import push_store_to_hub

        return push_store_to_hub(store, repo_id, **kwargs)

    def load(repo_id: str, revision: str | None = None, **kwargs: Any) -> TrajectoryStore:
        from .hub.trajectories import store_from_hub

        return store_from_hub(repo_id, revision, **kwargs)

    TrajectoryStore.bind_hub(HubEntryPoints(push=push, load=load))


_bind_hub_entry_points()


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hf_s2l' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
