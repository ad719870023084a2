"""CLI sub-commands, one module each, plus the checks they share."""

from __future__ import annotations

import json
from pathlib import Path

OUTPUT_MARKER = ".hf-s2l-output"
"""File the ``export`` / ``report`` commands leave in their ``--out`` folder (JSON
``{"kind": "export"|"report"}``): such a folder may be written again without ``--overwrite``."""


def check_out_dir(
    path: str, flag: str = "--out", *, kind: str | None = None, overwrite: bool = False
) -> Path:
    """``path`` as a Path, refusing an existing file (before any work is done).

    With ``kind`` (``"export"`` or ``"report"``), a non-empty folder is refused unless it
    is an earlier output of that command (its :data:`OUTPUT_MARKER`, or the files an older
    version wrote) or ``overwrite`` is set: the command writes fixed names (``README.md``,
    ``index.html``…) that would replace the user's own files.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{flag} {path} is an existing file; pass a directory path")
    if kind is not None and not overwrite and p.is_dir() and any(p.iterdir()):
        if not _is_our_output(p, kind):
            raise FileExistsError(
                f"{flag} {path} is a non-empty folder that is not an earlier hf-s2l {kind} "
                f"output; its files (e.g. {_written_names(kind)}) would be overwritten. Choose "
                f"a new or empty folder, or pass --overwrite to write into it anyway"
            )
    return p


def mark_out_dir(path: str | Path, kind: str) -> None:
    """Leave :data:`OUTPUT_MARKER` in ``path`` (after the command wrote its files)."""
    from ..store._fs import atomic_write

    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    atomic_write(p / OUTPUT_MARKER, lambda f: f.write(json.dumps({"kind": kind}) + "\n"))


def _written_names(kind: str) -> str:
    return "README.md, data/" if kind == "export" else "index.html, report.json, *.png"


def _is_our_output(p: Path, kind: str) -> bool:
    marker = p / OUTPUT_MARKER
    if marker.is_file():
        try:
            return json.loads(marker.read_text()).get("kind") == kind
        except (OSError, ValueError, AttributeError):
            return False
    try:  # written before the marker existed
        if kind == "report":
            old = json.loads((p / "report.json").read_text())
            return isinstance(old, dict) and {"summary", "figures"} <= set(old)
        card = (p / "README.md").read_text(encoding="utf-8")
        header = card.split("\n---", 1)[0] if card.startswith("---") else ""
        return "\nhf_s2l:" in header
    except (OSError, ValueError, UnicodeDecodeError):
        return False
