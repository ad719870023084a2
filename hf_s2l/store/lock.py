"""One writer per store: an operating-system file lock held by the writing process.

The writer takes ``flock(LOCK_EX | LOCK_NB)`` (``msvcrt.locking`` on Windows) on
``<store>/.hf-s2l-writer.lock`` and records who it is (pid, host, start time, command) in
``<store>/.hf-s2l-writer.json`` next to it. The kernel drops the lock when the process
exits, however it exits (``SIGKILL`` included), so a crashed writer never blocks the next
run; the info file is only read to name the holder in :class:`StoreLockedError`.

The lock is per process: several store objects of one process share it (counted), so a
notebook that re-runs a training in the same kernel is not locked out by its own earlier
objects. Children created with ``fork`` (dataloader workers) close their copy of the lock
file without unlocking it. Readers never lock.

**Garbage collection.** A store that is never closed gives its hold back when it is collected
(:meth:`WriterLock.release_soon`, run by its finalizer). The cyclic garbage collector can run
at any allocation, also while this thread holds the module's mutex (inside :func:`acquire`
or :meth:`WriterLock.release`), so that cleanup never waits for the mutex: it takes it only
if it is free, else it queues the hold; whoever holds the mutex gives queued holds back
before letting go of it (and checks again after, for a hold queued meanwhile).

On network file systems ``flock`` is as good as the server's lock support (Linux maps it to
NFS byte-range locks); a local or NFSv4 file system is safe.
"""

from __future__ import annotations

import datetime
import errno
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ._fs import atomic_write_json
from .errors import StoreCorruptError, StoreLockedError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

LOCK_FILE = ".hf-s2l-writer.lock"
HOLDER_FILE = ".hf-s2l-writer.json"


@dataclass
class _Held:
    fd: int
    count: int


_held: dict[tuple[int, int], _Held] = {}  # (st_dev, st_ino) of the lock file -> hold
_mutex = threading.Lock()  # not reentrant on purpose: a GC cleanup inside it must queue
_pending: list[WriterLock] = []  # holds given back by GC cleanups, released under _mutex


@contextmanager
def _locked() -> Iterator[None]:
    """Hold ``_mutex``; give back the holds queued by GC cleanups before and after."""
    with _mutex:
        _drain()
        try:
            yield
        finally:
            _drain()
    _drain_if_free()


def _drain() -> None:
    """Release the queued holds (``_mutex`` held)."""
    while _pending:
        _pending.pop()._release_locked()


def _drain_if_free() -> None:
    """Release queued holds if nobody holds ``_mutex`` (else its holder does it)."""
    while _pending and _mutex.acquire(blocking=False):
        try:
            _drain()
        finally:
            _mutex.release()


def _held_for(store_dir: str | os.PathLike) -> int:
    """How many holds this process has on ``store_dir``'s lock (0: none; for tests)."""
    try:
        st = os.stat(Path(store_dir) / LOCK_FILE)
    except OSError:
        return 0
    with _locked():
        held = _held.get((st.st_dev, st.st_ino))
        return 0 if held is None else held.count


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        else:  # pragma: no cover
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    except OSError:
        pass


def _open(path: Path) -> int:
    nofollow = getattr(os, "O_NOFOLLOW", 0)  # a link would create / lock a file elsewhere
    try:
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | nofollow, 0o666)
        except PermissionError:
            return os.open(path, os.O_RDONLY | nofollow)  # flock needs no write access
    except OSError as e:
        if e.errno == errno.ELOOP or path.is_symlink():
            raise StoreCorruptError(
                path, "is a symbolic link; remove it (it is re-created)"
            ) from None
        raise


def read_holder(store_dir: str | os.PathLike) -> dict:
    """What the current (or last) writer of ``store_dir`` recorded about itself, or ``{}``."""
    import json

    try:
        with open(Path(store_dir) / HOLDER_FILE) as f:
            info = json.load(f)
    except (OSError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def _write_holder(store_dir: Path) -> None:
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        # the program only: arguments may hold secrets (tokens), and teammates may read the file
        "command": os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python",
    }
    try:
        atomic_write_json(store_dir / HOLDER_FILE, info, default=str)
    except OSError:  # informational only
        pass


class WriterLock:
    """This process's hold on a store's writer lock; :meth:`release` gives it up (idempotent)."""

    def __init__(self, key: tuple[int, int], store_dir: Path) -> None:
        self._key = key
        self.store_dir = store_dir  # updated by the store when its folder is moved into place
        self.released = False

    def release(self) -> None:
        """Give up this hold; the OS lock is dropped when the process's last hold is released."""
        with _locked():
            self._release_locked()

    def release_soon(self) -> None:
        """:meth:`release` for a garbage-collection cleanup: never waits for ``_mutex``.

        Releases now if the mutex is free; otherwise (another thread holds it, or this one,
        interrupted by the GC inside :func:`acquire`) the hold is queued and released by the
        mutex's holder before it lets go.
        """
        if self.released:
            return
        _pending.append(self)
        _drain_if_free()

    def _release_locked(self) -> None:
        if self.released:
            return
        self.released = True
        held = _held.get(self._key)
        if held is None:
            return
        held.count -= 1
        if held.count > 0:
            return
        del _held[self._key]
        try:
            os.unlink(self.store_dir / HOLDER_FILE)
        except OSError:
            pass
        _unlock(held.fd)
        os.close(held.fd)

    def __repr__(self) -> str:
        return f"WriterLock({str(self.store_dir)!r}, released={self.released})"


def acquire(store_dir: str | os.PathLike) -> WriterLock:
    """Take the writer lock of ``store_dir`` now, or raise :class:`StoreLockedError`."""
    store_dir = Path(store_dir)
    lock_path = store_dir / LOCK_FILE
    with _locked():
        try:
            st = os.stat(lock_path)
            held = _held.get((st.st_dev, st.st_ino))
        except OSError:
            held = None
        if held is not None:  # this process already writes the store
            held.count += 1
            return WriterLock((st.st_dev, st.st_ino), store_dir)
        while True:
            fd = _open(lock_path)
            if not _try_lock(fd):
                os.close(fd)
                raise StoreLockedError(store_dir, read_holder(store_dir))
            # the lock file must still be the one at lock_path (not removed meanwhile)
            fst = os.fstat(fd)
            try:
                st = os.stat(lock_path)
                if (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino):
                    break
            except FileNotFoundError:
                pass
            _unlock(fd)
            os.close(fd)
        key = (fst.st_dev, fst.st_ino)
        _held[key] = _Held(fd, 1)
        _write_holder(store_dir)
    return WriterLock(key, store_dir)


def _forget_after_fork() -> None:
    """In a forked child: close the inherited lock files without unlocking (the parent holds)."""
    for held in _held.values():
        try:
            os.close(held.fd)
        except OSError:
            pass
    _held.clear()
    _pending.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
