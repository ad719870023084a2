"""A growable, column-major ``.npy`` matrix on disk.

The file is a standard NumPy ``.npy`` file (format 1.0) with ``fortran_order: True``, so
every column is one contiguous block of ``N`` values. Adding a column appends ``N`` values
at the end of the file and rewrites the fixed-size header in place: nothing already
written is moved or read into memory, and ``numpy.load(path, mmap_mode="r")`` reads the
file as an ordinary ``N x T`` array at every moment.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np

# Header block size (magic + length + dict + padding). 256 bytes leaves room for shapes
# with very large N and T while staying a multiple of 64 as the format recommends.
HEADER_BYTES = 256
_MAGIC = b"\x93NUMPY\x01\x00"


def _header(dtype: np.dtype, num_rows: int, num_cols: int) -> bytes:
    body = repr(
        {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": True,
            "shape": (num_rows, num_cols),
        }
    ).encode("latin1")
    pad = HEADER_BYTES - len(_MAGIC) - 2 - len(body) - 1
    if pad < 0:
        raise ValueError("npy header overflow")
    body = body + b" " * pad + b"\n"
    return _MAGIC + len(body).to_bytes(2, "little") + body


def read_shape(path: str | os.PathLike) -> tuple[tuple[int, int], np.dtype]:
    """Return ``((N, T), dtype)`` from the header of a column file."""
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
    if not head.startswith(_MAGIC):
        raise ValueError(f"{path} is not a .npy file written by hf-s2l")
    n = int.from_bytes(head[8:10], "little")
    info = ast.literal_eval(head[10 : 10 + n].decode("latin1"))
    if not info.get("fortran_order", False):
        raise ValueError(f"{path} is not column-major")
    return tuple(info["shape"]), np.dtype(info["descr"])


class ColumnFile:
    """An ``N x T`` column-major ``.npy`` file that grows one column at a time."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        (self.num_rows, self.num_columns), self.dtype = read_shape(self.path)

    @classmethod
    def create(
        cls, path: str | os.PathLike, num_rows: int, dtype: np.dtype | str = np.float32
    ) -> ColumnFile:
        dtype = np.dtype(dtype)
        path = Path(path)
        with open(path, "wb") as f:
            f.write(_header(dtype, num_rows, 0))
        return cls(path)

    def refresh(self) -> None:
        """Re-read the header (another process may have added a column)."""
        (self.num_rows, self.num_columns), self.dtype = read_shape(self.path)

    def _offset(self, column: int) -> int:
        return HEADER_BYTES + column * self.num_rows * self.dtype.itemsize

    def append_column(self, fill: float | int) -> int:
        """Append one column filled with ``fill``; returns its index."""
        column = self.num_columns
        block = np.full(min(self.num_rows, 1 << 20), fill, dtype=self.dtype)
        with open(self.path, "r+b") as f:
            f.truncate(self._offset(column))
            f.seek(self._offset(column))
            remaining = self.num_rows
            while remaining:
                k = min(remaining, len(block))
                f.write(block[:k].tobytes())
                remaining -= k
            f.flush()
            os.fsync(f.fileno())
            f.seek(0)
            f.write(_header(self.dtype, self.num_rows, column + 1))
            f.flush()
            os.fsync(f.fileno())
        self.num_columns = column + 1
        return column

    def truncate(self, num_columns: int) -> None:
        """Drop columns ``num_columns..`` (used to discard a column that was never registered)."""
        if num_columns > self.num_columns:
            raise ValueError("cannot truncate to more columns than present")
        with open(self.path, "r+b") as f:
            f.seek(0)
            f.write(_header(self.dtype, self.num_rows, num_columns))
            f.truncate(self._offset(num_columns))
        self.num_columns = num_columns

    def column(self, column: int, mode: str = "r+") -> np.memmap:
        """A memmap of one column (length N)."""
        if not 0 <= column < self.num_columns:
            raise IndexError(f"column {column} out of range (have {self.num_columns})")
        if self.num_rows == 0:
            return np.zeros(0, dtype=self.dtype)  # type: ignore[return-value]
        return np.memmap(
            self.path,
            dtype=self.dtype,
            mode=mode,
            offset=self._offset(column),
            shape=(self.num_rows,),
        )

    def matrix(self) -> np.ndarray:
        """The whole ``N x T`` matrix as a read-only memmap."""
        if self.num_columns == 0 or self.num_rows == 0:
            return np.zeros((self.num_rows, self.num_columns), dtype=self.dtype)
        return np.load(self.path, mmap_mode="r")
