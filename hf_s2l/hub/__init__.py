"""Hub: share trajectory stores and selected datasets on the Hugging Face Hub.

Dependencies go one way: ``hub`` imports ``data`` and ``store``, never the reverse. The
dataset card and publishing of a :class:`~hf_s2l.SelectedDataset` live with it in
:mod:`hf_s2l.data.card` / :mod:`hf_s2l.data.publish` and are re-exported here; trajectory
stores on the Hub are :mod:`hf_s2l.hub.trajectories`. Names are imported on first use, so
``hf-s2l info hf://...`` does not pay for ``datasets``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "PROVENANCE_FIELDS": "hf_s2l.data.card",
    "build_card": "hf_s2l.data.card",
    "card_provenance": "hf_s2l.data.card",
    "parse_card": "hf_s2l.data.card",
    "render_body": "hf_s2l.data.card",
    "export": "hf_s2l.data.publish",
    "push_to_hub": "hf_s2l.data.publish",
    "write_card": "hf_s2l.data.publish",
    "is_hub_uri": "hf_s2l.hub.trajectories",
    "open_store": "hf_s2l.hub.trajectories",
    "parse_hub_uri": "hf_s2l.hub.trajectories",
    "push_store_to_hub": "hf_s2l.hub.trajectories",
    "store_card": "hf_s2l.hub.trajectories",
    "store_from_hub": "hf_s2l.hub.trajectories",
}

__all__ = [
    "PROVENANCE_FIELDS",
    "build_card",
    "card_provenance",
    "export",
    "is_hub_uri",
    "open_store",
    "parse_card",
    "parse_hub_uri",
    "push_store_to_hub",
    "push_to_hub",
    "render_body",
    "store_card",
    "store_from_hub",
    "write_card",
]

if TYPE_CHECKING:  # pragma: no cover
    from ..data.card import PROVENANCE_FIELDS, build_card, card_provenance, parse_card, render_body
    from ..data.publish import export, push_to_hub, write_card
    from .trajectories import (
        is_hub_uri,
        open_store,
        parse_hub_uri,
        push_store_to_hub,
        store_card,
        store_from_hub,
    )


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hf_s2l.hub' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
