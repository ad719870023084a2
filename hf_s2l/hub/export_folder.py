"""An export folder written whole or not at all.

:func:`staged_export` gives a temporary folder next to the target (same file system) to
write every file into; only when all of them are written are they moved into place: the
whole folder by one rename when the target is new or empty, else file by file, after the
data files of the earlier export in that folder (named by its card's ``configs``) are
removed, so a re-export in another format or split never leaves the old rows beside the new
ones. A failure (a full disk, a killed process) leaves the target as it was and raises an
``OSError`` naming it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from transformers.utils import logging

from ..store._fs import make_temp_dir
from .card import PROVENANCE_KEY, parse_card

logger = logging.get_logger(__name__)

CARD_FILENAME = "README.md"
_DATA_FILE = re.compile(r"data/[^/\\*?\[\]]+\.(parquet|jsonl)")


def previous_export_files(d: Path) -> set[str]:
    """The data files (``data/NAME.parquet|jsonl``) the hf-s2l card in ``d`` points at."""
    try:
        meta, _ = parse_card((d / CARD_FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return set()
    if not isinstance(meta, dict) or PROVENANCE_KEY not in meta:
        return set()  # not an hf-s2l export: nothing of it is ours to remove
    found: set[str] = set()
    for config in meta.get("configs") or []:
        files = config.get("data_files") if isinstance(config, dict) else None
        for entry in files if isinstance(files, list) else []:
            path = entry.get("path") if isinstance(entry, dict) else None
            for p in path if isinstance(path, list) else [path]:
                if isinstance(p, str) and _DATA_FILE.fullmatch(p):
                    found.add(p)
    return found


@contextlib.contextmanager
def staged_export(directory: str | os.PathLike, files: list[str]) -> Iterator[Path]:
    """Yield a temporary folder; on a clean exit move ``files`` (relative paths) from it
    into ``directory``. Any ``OSError`` becomes one naming ``directory``."""
    d = Path(directory).resolve()
    try:
        d.parent.mkdir(parents=True, exist_ok=True)
        stage = d.parent
        if d.is_dir() and d.stat().st_dev != stage.stat().st_dev:
            stage = d  # a mount point: stage inside it, renames cannot cross file systems
        tmp = make_temp_dir(stage, prefix=f".{d.name}.export-tmp-")
    except OSError as e:
        raise _named(e, d) from e
    moving = False
    try:
        yield tmp
        for rel in files:
            with open(tmp / rel, "rb") as f:
                os.fsync(f.fileno())
        moving = True
        _move_into_place(tmp, d, files)
    except OSError as e:
        raise _named(e, d, moving) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_into_place(tmp: Path, d: Path, files: list[str]) -> None:
    if tmp.parent != d and (not d.exists() or (d.is_dir() and not any(d.iterdir()))):
        os.replace(tmp, d)  # one rename: the folder appears complete
        return
    for rel in sorted(previous_export_files(d) - set(files)):
        old = d / rel
        if old.is_file() or old.is_symlink():
            logger.info(f"removing {old}, a data file of the earlier export in {d}")
            old.unlink()
    for rel in files:
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, d / rel)


def _named(e: OSError, d: Path, moving: bool) -> OSError:
    why = e.strerror or str(e) or type(e).__name__
    if e.errno and os.strerror(e.errno) not in why:
        why = f"{why} ({os.strerror(e.errno)})"
    state = (
        "its files may be incomplete: free space and export again"
        if moving
        else "nothing was written there"
    )
    return OSError(e.errno, f"could not export to {d}: {why}; {state}")
