"""Old path of the engine (:mod:`hf_s2l.selection.engine`); kept importable."""

from .engine import select

__all__ = ["select"]
