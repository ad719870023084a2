"""Hub: dataset cards with selection provenance; push to the Hub, save and export."""

from .card import PROVENANCE_FIELDS, build_card, card_provenance, parse_card, render_body
from .publish import export, push_to_hub, write_card

__all__ = [
    "PROVENANCE_FIELDS",
    "build_card",
    "card_provenance",
    "export",
    "parse_card",
    "push_to_hub",
    "render_body",
    "write_card",
]
