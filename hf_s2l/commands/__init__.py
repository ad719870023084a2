"""CLI sub-commands, one module each, plus the checks they share."""

from __future__ import annotations

from pathlib import Path


def check_out_dir(path: str, flag: str = "--out") -> Path:
    """``path`` as a Path, refusing an existing file (before any work is done)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{flag} {path} is an existing file; pass a directory path")
    return p
