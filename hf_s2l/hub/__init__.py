"""Hub: share trajectory stores and selected datasets on the Hugging Face Hub.

Dependencies go one way: ``hub`` imports ``data`` and ``store``, never the reverse. The
dataset card and publishing of a :class:`~hf_s2l.SelectedDataset` live with it in
:mod:`hf_s2l.data.card` / :mod:`hf_s2l.data.publish` and are re-exported here.
"""

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
