"""Hub: everything that leaves the machine, from plain inputs (rows, provenance, stores).

* :mod:`hf_s2l.hub.provenance` — :class:`SelectionProvenance`, the typed ``hf_s2l`` block of a
  selection's dataset card;
* :mod:`hf_s2l.hub.card` — render/parse that card; :mod:`hf_s2l.hub.markdown` — its escaping;
* :mod:`hf_s2l.hub.datasets` — push/export rows (a ``datasets.Dataset``) with their card;
* :mod:`hf_s2l.hub.trajectories` — trajectory stores on the Hub.

Dependencies go one way: ``hub`` imports ``store`` only; ``hf_s2l.data`` builds the provenance of
a :class:`~hf_s2l.SelectedDataset` and calls hub (``SelectedDataset.push_to_hub``/``export``,
:func:`hf_s2l.data.card_provenance`). Names are imported on first use, so
``hf-s2l info hf://...`` does not pay for ``datasets``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "PROVENANCE_FIELDS": "hf_s2l.hub.provenance",
    "PROVENANCE_KEY": "hf_s2l.hub.provenance",
    "GroupCount": "hf_s2l.hub.provenance",
    "SelectionProvenance": "hf_s2l.hub.provenance",
    "build_card": "hf_s2l.hub.card",
    "parse_card": "hf_s2l.hub.card",
    "read_provenance": "hf_s2l.hub.card",
    "render_body": "hf_s2l.hub.card",
    "md_escape": "hf_s2l.hub.markdown",
    "export_rows": "hf_s2l.hub.datasets",
    "push_rows": "hf_s2l.hub.datasets",
    "is_hub_uri": "hf_s2l.hub.trajectories",
    "open_store": "hf_s2l.hub.trajectories",
    "parse_hub_uri": "hf_s2l.hub.trajectories",
    "push_store_to_hub": "hf_s2l.hub.trajectories",
    "store_card": "hf_s2l.hub.trajectories",
    "store_from_hub": "hf_s2l.hub.trajectories",
}

__all__ = [
    "PROVENANCE_FIELDS",
    "PROVENANCE_KEY",
    "GroupCount",
    "SelectionProvenance",
    "build_card",
    "export_rows",
    "is_hub_uri",
    "md_escape",
    "open_store",
    "parse_card",
    "parse_hub_uri",
    "push_rows",
    "push_store_to_hub",
    "read_provenance",
    "render_body",
    "store_card",
    "store_from_hub",
]

if TYPE_CHECKING:  # pragma: no cover
    from .card import build_card, parse_card, read_provenance, render_body
    from .datasets import export_rows, push_rows
    from .markdown import md_escape
    from .provenance import PROVENANCE_FIELDS, PROVENANCE_KEY, GroupCount, SelectionProvenance
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
