"""File-system helpers shared by the store and saved selections.

Files are written to a temporary name and renamed into place (a reader sees the old or the
new file, never half of one). ``tempfile`` creates files ``0600`` and folders ``0700``
whatever the umask; the helpers here give them the mode an ordinary ``open()`` /
``mkdir()`` would (``0666`` / ``0777`` less the process umask), so a shared store stays
readable by a team when the umask allows it.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def current_umask() -> int:
    """The process umask (read without changing it where the OS allows)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no way to read it without setting it elsewhere
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Mode of a new regular file: ``0666`` less the umask."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """Mode of a new directory: ``0777`` less the umask."""
    return 0o777 & ~current_umask()


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new empty directory in ``parent`` with the umask's directory mode."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(tmp, dir_mode())
    return tmp


def open_nofollow(path: str | os.PathLike, mode: str = "rb") -> Any:
    """``open(path, mode)`` (``"rb"`` or ``"r+b"``) that never follows a symbolic link at
    ``path``: a link raises ``OSError`` (``ELOOP``) instead of reaching the file it points to."""
    if os.path.islink(path):  # O_NOFOLLOW below closes the race; this covers systems without it
        raise OSError(errno.ELOOP, "is a symbolic link", str(path))
    flags = {"rb": os.O_RDONLY, "r+b": os.O_RDWR}[mode]
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(path, flags), mode)


def atomic_write(path: Path, write: Callable[[Any], None], *, binary: bool = False) -> None:
    """Write ``path`` through ``write(file)`` into a temporary file, then rename it into place."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, payload: Any, default: Callable[[Any], Any]) -> None:
    """``json.dump`` ``payload`` to ``path`` atomically."""
    atomic_write(path, lambda f: json.dump(payload, f, indent=2, default=default))


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    """``np.save`` ``array`` to ``path`` atomically (no pickles)."""
    atomic_write(path, lambda f: np.save(f, array, allow_pickle=False), binary=True)
