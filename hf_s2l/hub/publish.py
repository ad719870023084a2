"""Moved to :mod:`hf_s2l.data.publish` (push/save/export a SelectedDataset); kept as an alias."""

from ..data.publish import export, push_to_hub, write_card

__all__ = ["export", "push_to_hub", "write_card"]
