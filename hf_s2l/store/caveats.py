"""The recording caveats a store carries in its metadata (``extra["training_mode"]``).

The in-step recorder (:mod:`hf_s2l.record.train_mode`) writes there why its values are
training-mode losses (dropout, NEFTune, left padding with absolute positions); ``hf-s2l info``,
``select()``'s provenance and the report read it through :func:`recording_caveats`.
"""

from __future__ import annotations

from typing import Any

CAVEATS_KEY = "training_mode"


def recording_caveats(meta: dict[str, Any]) -> list[str]:
    """One line per caveat (``"dropout: ... (size); alternative: ..."``), ``[]`` if none."""
    extra = meta.get("extra") or {}
    items = extra.get(CAVEATS_KEY) if isinstance(extra, dict) else None
    out = []
    for c in items or []:
        if isinstance(c, dict):
            out.append(
                f"{c.get('cause', '?')}: {c.get('detail', '')} (in-step cells differ from the "
                f"examples' losses alone by {c.get('size', '?')}); alternative: "
                f"{c.get('alternative', '-')}"
            )
    return out
