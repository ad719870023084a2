"""The selection folder on disk: its file names, its errors, and the atomic save.

:meth:`Selection.save <hf_s2l.selection.Selection.save>` writes every file into a sibling
temporary folder (:func:`temp_prefix`, cleaned by :func:`clean_stale_temps` when its writer
is gone) and swaps it in (:func:`swap_in`: ``renameat2(RENAME_EXCHANGE)`` where available,
else two renames, undone by :func:`recover`; ``overwrite=False``: :func:`claim_new`, of two
racing saves exactly one wins). :func:`reader` reads a folder through one directory
descriptor, so a concurrent swap never mixes two selections.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from transformers.utils import logging

logger = logging.get_logger(__name__)

SELECTION_FORMAT = "hf-s2l-selection"
SELECTION_SCHEMA_VERSION = 2  # 2: files_sha256 always saved (selection_meta.py)
INDICES_FILE = "indices.npy"
ORDER_FILE = "order.npy"
WEIGHTS_FILE = "weights.npy"
SELECTION_META_FILE = "selection.json"
EXAMPLE_IDS_FILE = "example_ids.npy"


class SelectionCorruptError(ValueError):
    """A saved selection's files do not agree with each other or cannot be read."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"corrupt selection: {self.path} {problem}. Run the selection again to recreate it"
        )

    def __reduce__(self):
        return (type(self), (self.path, self.problem))


class SelectionExistsError(FileExistsError):
    """The target folder already holds a saved selection and ``overwrite`` is off."""


@contextlib.contextmanager
def reader(d: Path) -> Iterator[Any]:
    """``read(name) -> bytes`` of files of folder ``d``, all from the same folder even if a
    concurrent save swaps ``d`` meanwhile (reads go through one directory descriptor)."""
    if os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY"):
        dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)

        def read(name: str) -> bytes:
            fd = os.open(name, os.O_RDONLY, dir_fd=dfd)
            with os.fdopen(fd, "rb") as f:
                return f.read()

        try:
            yield read
        finally:
            os.close(dfd)
    else:  # pragma: no cover - platforms without dir_fd

        def read(name: str) -> bytes:
            return (d / name).read_bytes()

        yield read


def fsync_dir_files(d: Path) -> None:
    for p in d.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())


_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2(a: Path, b: Path, flags: int) -> int | None:
    """``renameat2(a, b, flags)``: 0 on success, the errno on failure, None where the OS
    (or its C library) has no such call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), flags) == 0:
        return 0
    err = ctypes.get_errno()
    return None if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP) else err


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    err = _renameat2(a, b, _RENAME_EXCHANGE)
    if err is None or err == 0:
        return err == 0
    raise OSError(err, os.strerror(err), str(b))


def rename_noreplace(a: Path, b: Path) -> bool:
    """Rename ``a`` to ``b`` only if ``b`` does not exist (``renameat2(RENAME_NOREPLACE)``).

    False if the OS lacks it; ``FileExistsError`` if ``b`` exists.
    """
    err = _renameat2(a, b, _RENAME_NOREPLACE)
    if err is None or err == 0:
        return err == 0
    if err in (errno.EEXIST, errno.ENOTEMPTY):
        raise FileExistsError(err, os.strerror(err), str(b))
    raise OSError(err, os.strerror(err), str(b))


def claim_new(tmp: Path, d: Path) -> None:
    """``overwrite=False``: put ``tmp`` at ``d`` only if no other save got there first.

    An empty ``d`` is removed first (``rmdir`` fails if a concurrent save filled it); the
    rename then must not replace anything, so of two saves racing for one folder exactly
    one wins and the other gets :class:`SelectionExistsError`.
    """
    taken = SelectionExistsError(
        f"{d} already holds a saved selection (another save wrote it meanwhile); pass "
        "overwrite=True (hf-s2l select --overwrite) to replace it, or choose another directory"
    )
    try:
        os.rmdir(d)
    except FileNotFoundError:
        pass
    except OSError as e:
        if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise taken from None
        if e.errno != errno.ENOTDIR:
            raise
        raise FileExistsError(
            f"{d} exists and is not a directory; choose another directory"
        ) from None
    try:
        if rename_noreplace(tmp, d):
            return
        # No renameat2: rename() onto an existing non-empty folder fails; the window left
        # (another save creating an empty folder at d meanwhile) is the OS's limit.
        os.rename(tmp, d)
    except FileExistsError:
        raise taken from None
    except OSError as e:
        if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise taken from None
        raise


def swap_in(tmp: Path, d: Path, *, overwrite: bool = True) -> None:
    """Put folder ``tmp`` at ``d``; afterwards ``tmp`` holds the old folder (if any)."""
    if not overwrite:
        claim_new(tmp, d)
        return
    if not d.exists() or not any(d.iterdir()):
        os.replace(tmp, d)  # new or empty target: one atomic rename
        return
    if exchange(tmp, d):
        return
    # Fallback: two renames. A crash between them leaves no d but a complete old folder
    # `.NAME.old-*`, which load() reads and the next save() puts back first.
    old = tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))
    os.rename(d, old)
    os.rename(tmp, d)
    shutil.rmtree(old, ignore_errors=True)


STALE_TEMP_AGE_S = 24 * 3600.0
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def temp_prefix(d: Path) -> str:
    """``.NAME.tmp-<pid>@<host hash>-``: names the save that owns a temporary folder."""
    return f".{d.name}.tmp-{os.getpid()}@{_HOST}-"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or unknown: keep
    return True


def clean_stale_temps(d: Path) -> None:
    """Remove ``.NAME.tmp-*`` folders left by killed saves of ``d``.

    A folder is stale when its owner (pid on this host, from its name) is no longer running,
    or, for folders of other hosts or of older versions (no pid in the name), when it is
    older than :data:`STALE_TEMP_AGE_S`. A live save's folder is never removed.
    """
    if not d.parent.is_dir():
        return
    now = time.time()
    for p in d.parent.glob(f".{d.name}.tmp-*"):
        owner = p.name[len(f".{d.name}.tmp-") :].split("-", 1)[0]
        pid_s, _, host = owner.partition("@")
        try:
            if host == _HOST and pid_s.isdigit():
                stale = int(pid_s) != os.getpid() and not pid_alive(int(pid_s))
            else:
                stale = now - p.lstat().st_mtime > STALE_TEMP_AGE_S
        except OSError:
            continue
        if not stale:
            continue
        if p.is_symlink():  # no save makes links: removed, never followed
            logger.info(f"removing the symbolic link {p} (named like a temporary folder of {d})")
            try:
                p.unlink()
            except OSError:
                pass
        elif p.is_dir():
            logger.info(f"removing {p}, left by an interrupted save of {d}")
            shutil.rmtree(p, ignore_errors=True)


def interrupted_old(d: Path) -> Path | None:
    """The complete old folder a save killed between its two renames left, if any."""
    if not d.parent.is_dir():
        return None
    olds = [p for p in d.parent.glob(f".{d.name}.old-*") if (p / SELECTION_META_FILE).is_file()]
    return max(olds, key=lambda p: p.stat().st_mtime) if olds else None


def recover(d: Path) -> None:
    """Before saving: put back the old folder of an interrupted fallback swap."""
    if not d.exists():
        old = interrupted_old(d)
        if old is not None:
            os.rename(old, d)
