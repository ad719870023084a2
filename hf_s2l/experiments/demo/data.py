"""The demo's data: the embedded math mixture and its fixed held-out split."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from .config import SPLIT_SEED


def demo_data_dir() -> Path:
    """The embedded demo data folder (``hf_s2l/assets/math_demo``)."""
    return Path(str(resources.files("hf_s2l") / "assets" / "math_demo"))


def _read_jsonl(path: Path, limit: int | None) -> list[dict[str, Any]]:
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
                if limit is not None and len(rows) >= limit:
                    break
    return rows


def split_heldout(
    rows: list[dict[str, Any]], fraction: float, seed: int = SPLIT_SEED
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(train, heldout)``: a fixed ``fraction`` of every source held out (row order kept)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    held: set[int] = set()
    for src in sorted({r["source"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["source"] == src]
        k = int(round(fraction * len(idx)))
        held.update(int(i) for i in rng.choice(idx, k, replace=False))
    return (
        [r for i, r in enumerate(rows) if i not in held],
        [r for i, r in enumerate(rows) if i in held],
    )
