"""Moved to :mod:`hf_s2l.data.card` (the dataset card of a SelectedDataset); kept as an alias."""

from ..data.card import (
    PROVENANCE_FIELDS,
    PROVENANCE_KEY,
    build_card,
    card_provenance,
    md_escape,
    parse_card,
    render_body,
)

__all__ = [
    "PROVENANCE_FIELDS",
    "PROVENANCE_KEY",
    "build_card",
    "card_provenance",
    "md_escape",
    "parse_card",
    "render_body",
]
