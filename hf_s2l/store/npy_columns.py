"""A growable, column-major ``.npy`` matrix on disk.

The file is a standard NumPy ``.npy`` file with ``fortran_order: True``, so every column is
one contiguous block of ``N`` values. Adding a column appends ``N`` values at the end of
the file and rewrites the header in place (same length, so nothing moves): nothing already
written is moved or read into memory, and ``numpy.load(path, mmap_mode="r")`` reads the file
as an ordinary ``N x T`` array at every moment.

The header is always parsed, never assumed: a file re-saved by ``np.save`` (whose header
length differs from the 256 bytes this module writes) is read and grown correctly.
"""

from __future__ import annotations

import errno
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._fs import open_nofollow
from .errors import StoreChangedError, StoreCorruptError

# Header block size of the files this module creates (magic + length + dict + padding).
# 256 bytes leaves room for shapes with very large N and T while staying a multiple of 64.
HEADER_BYTES = 256
_MAGIC_PREFIX = b"\x93NUMPY"
# no file holds more (2**62 bytes is 4 EiB); a header claiming more is damaged
MAX_DATA_BYTES = 1 << 62
# numpy parses a .npy header with ast.literal_eval, and CPython 3.11's AST conversion keeps a
# process-wide depth counter that threads parsing at once corrupt ("AST constructor recursion
# depth mismatch"): headers are parsed one at a time
_HEADER_LOCK = threading.Lock()


@dataclass(frozen=True)
class NpyHeader:
    """What the header of a ``.npy`` file says, and where its data starts."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int
    version: tuple[int, int]

    def data_bytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def read_header(path: str | os.PathLike) -> NpyHeader:
    """Parse the header of a ``.npy`` file; :class:`StoreCorruptError` if it is not one."""
    path = Path(path)
    fmt = np.lib.format
    try:
        with _HEADER_LOCK, open(path, "rb") as f:
            version = fmt.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            offset = f.tell()
    except (ValueError, SyntaxError, TypeError, EOFError, OverflowError, MemoryError) as e:
        raise StoreCorruptError(path, f"is not a readable .npy file ({e})") from None
    dims = tuple(int(s) for s in shape)
    size = np.dtype(dtype).itemsize
    for s in dims:
        size *= s  # Python ints: a shape like (50, 10**20) must not overflow here
    if any(s < 0 for s in dims) or size > MAX_DATA_BYTES:
        raise StoreCorruptError(
            path, f"has an impossible shape {dims} in its .npy header ({size} bytes of data)"
        )
    return NpyHeader(dims, bool(fortran), np.dtype(dtype), offset, version)


def check_npy(
    path: str | os.PathLike,
    *,
    shape: tuple[int, ...] | None = None,
    kinds: str | None = None,
    dtype: np.dtype | str | None = None,
) -> NpyHeader:
    """Parse ``path``'s header and check its shape, dtype and that the file holds all the data."""
    path = Path(path)
    h = read_header(path)
    if dtype is not None and h.dtype != np.dtype(dtype):
        raise StoreCorruptError(path, f"holds {h.dtype} values, expected {np.dtype(dtype)}")
    if kinds is not None and h.dtype.kind not in kinds:
        raise StoreCorruptError(path, f"holds values of type {h.dtype}, not supported here")
    if h.dtype.hasobject:
        raise StoreCorruptError(path, "holds Python objects (pickles are never loaded)")
    if shape is not None and h.shape != shape:
        raise StoreCorruptError(path, f"has shape {h.shape}, expected {shape}")
    check_size(path, h)
    return h


def check_size(path: Path, h: NpyHeader) -> None:
    """:class:`StoreCorruptError` if ``path`` is shorter than its header says."""
    need = h.offset + h.data_bytes()
    size = path.stat().st_size
    if size < need:
        raise StoreCorruptError(
            path,
            f"is truncated: {size} bytes, but its header (shape {h.shape}, {h.dtype}) needs {need}",
        )


def _header(h: NpyHeader, num_rows: int, num_cols: int, length: int) -> bytes:
    """A header of exactly ``length`` bytes for an ``num_rows x num_cols`` column-major array."""
    body = repr(
        {
            "descr": np.lib.format.dtype_to_descr(h.dtype),
            "fortran_order": True,
            "shape": (num_rows, num_cols),
        }
    ).encode("latin1")
    size_bytes = 2 if h.version == (1, 0) else 4
    prefix = _MAGIC_PREFIX + bytes(h.version)
    pad = length - len(prefix) - size_bytes - len(body) - 1
    if pad < 0:
        raise ValueError(f"the .npy header has no room for shape ({num_rows}, {num_cols})")
    body = body + b" " * pad + b"\n"
    return prefix + len(body).to_bytes(size_bytes, "little") + body


def open_for_writing(path: Path) -> Any:
    """``path`` opened ``r+b``, never through a symbolic link (:class:`StoreCorruptError`)."""
    try:
        return open_nofollow(path, "r+b")
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise StoreCorruptError(path, SYMLINK_PROBLEM) from None
        raise


SYMLINK_PROBLEM = (
    "is a symbolic link: a store opened for writing writes only its own files, never through a "
    "link to a file elsewhere. Replace the link by a copy of the file it points to, or record "
    "into another output directory (reading the store works as it is)"
)


class ColumnFile:
    """An ``N x T`` column-major ``.npy`` file that grows one column at a time."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._pinned: Any = None
        self._lost: tuple[Path, str] | None = None
        self.refresh()

    def lose(self, file: Path, problem: str) -> None:
        """The file's generation is gone (see ``pin_written_generation``): reads raise
        :class:`StoreChangedError` naming ``file``."""
        self._lost = (file, problem)

    def pin(self) -> None:
        """Read-only use: keep the file open, so every later read sees this file even if
        another process replaces the store (a new file renamed over this path)."""
        if self._pinned is None:
            self._pinned = open(self.path, "rb")  # noqa: SIM115 - lives as long as self

    def __del__(self) -> None:
        f = getattr(self, "_pinned", None)
        if f is not None:
            f.close()

    def _source(self, mode: str) -> Any:
        if self._lost is not None:
            raise StoreChangedError(*self._lost)
        return self._pinned if (self._pinned is not None and mode == "r") else self.path

    @classmethod
    def create(
        cls, path: str | os.PathLike, num_rows: int, dtype: np.dtype | str = np.float32
    ) -> ColumnFile:
        h = NpyHeader((num_rows, 0), True, np.dtype(dtype), HEADER_BYTES, (1, 0))
        path = Path(path)
        with open(path, "wb") as f:
            f.write(_header(h, num_rows, 0, HEADER_BYTES))
        return cls(path)

    def refresh(self) -> None:
        """Re-read the header (another process may have added a column) and check the file."""
        h = read_header(self.path)
        if len(h.shape) != 2:
            raise StoreCorruptError(self.path, f"has shape {h.shape}, expected 2 dimensions")
        if not h.fortran_order and min(h.shape) > 1:
            raise StoreCorruptError(
                self.path,
                "is row-major (fortran_order False); the store's column files are column-major: "
                "re-save it with np.save(path, np.asfortranarray(array))",
            )
        check_size(self.path, h)
        self.header = h
        (self.num_rows, self.num_columns), self.dtype = h.shape, h.dtype

    @property
    def offset(self) -> int:
        """Byte offset of the first value (the parsed header length)."""
        return self.header.offset

    def _offset(self, column: int) -> int:
        return self.offset + column * self.num_rows * self.dtype.itemsize

    def _write_header(self, f, num_columns: int) -> None:
        f.seek(0)
        f.write(_header(self.header, self.num_rows, num_columns, self.offset))

    def append_column(self, fill: float | int) -> int:
        """Append one column filled with ``fill``; returns its index."""
        column = self.num_columns
        block = np.full(min(self.num_rows, 1 << 20), fill, dtype=self.dtype)
        with open_for_writing(self.path) as f:
            f.truncate(self._offset(column))
            f.seek(self._offset(column))
            remaining = self.num_rows
            while remaining:
                k = min(remaining, len(block))
                f.write(block[:k].tobytes())
                remaining -= k
            f.flush()
            os.fsync(f.fileno())
            self._write_header(f, column + 1)
            f.flush()
            os.fsync(f.fileno())
        self.num_columns = column + 1
        self.header = NpyHeader(
            (self.num_rows, column + 1), True, self.dtype, self.offset, self.header.version
        )
        return column

    def truncate(self, num_columns: int) -> None:
        """Drop columns ``num_columns..`` (used to discard a column that was never registered)."""
        if num_columns > self.num_columns:
            raise ValueError("cannot truncate to more columns than present")
        with open_for_writing(self.path) as f:
            self._write_header(f, num_columns)
            f.truncate(self._offset(num_columns))
        self.num_columns = num_columns
        self.header = NpyHeader(
            (self.num_rows, num_columns), True, self.dtype, self.offset, self.header.version
        )

    def column(self, column: int, mode: str = "r+") -> np.ndarray:
        """A memmap of one column (length N), at the offset the parsed header gives."""
        if not 0 <= column < self.num_columns:
            raise IndexError(f"column {column} out of range (have {self.num_columns})")
        if self.num_rows == 0:
            return np.zeros(0, dtype=self.dtype)
        if mode != "r":
            with open_for_writing(self.path) as f:  # the map keeps its own handle
                return np.memmap(
                    f,
                    dtype=self.dtype,
                    mode=mode,
                    offset=self._offset(column),
                    shape=(self.num_rows,),
                )
        return np.memmap(
            self._source(mode),
            dtype=self.dtype,
            mode=mode,
            offset=self._offset(column),
            shape=(self.num_rows,),
        )

    def matrix(self, num_columns: int | None = None) -> np.ndarray:
        """The first ``num_columns`` (default all) columns as a read-only ``N x T`` memmap."""
        cols = self.num_columns if num_columns is None else min(num_columns, self.num_columns)
        if cols == 0 or self.num_rows == 0:
            return np.zeros((self.num_rows, cols), dtype=self.dtype)
        return np.memmap(
            self._source("r"),
            dtype=self.dtype,
            mode="r",
            offset=self.offset,
            shape=(self.num_rows, cols),
            order="F",
        )


class PinnedNpy:
    """A ``.npy`` file kept open, read through its open handle: every read sees the file that
    was opened, even after another process renamed a new file over its path."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._file = open(self.path, "rb")  # noqa: SIM115 - lives as long as self
        self.header = read_header(self.path)  # the caller opens both within one generation

    def array(self, *, mmap: bool = False) -> np.ndarray:
        """The array: a read-only memmap, or (default) a copy in memory."""
        h = self.header
        mm = np.memmap(
            self._file,
            dtype=h.dtype,
            mode="r",
            offset=h.offset,
            shape=h.shape,
            order="F" if h.fortran_order else "C",
        )
        return mm if mmap else np.array(mm)

    def __del__(self) -> None:
        f = getattr(self, "_file", None)
        if f is not None:
            f.close()


def read_shape(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype]:
    """Return ``(shape, dtype)`` from the parsed header of a ``.npy`` file."""
    h = read_header(path)
    return h.shape, h.dtype
