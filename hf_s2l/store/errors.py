"""The errors a trajectory store raises (importable without NumPy or torch)."""

from __future__ import annotations

import os
from pathlib import Path


class StoreMismatchError(ValueError):
    """Raised when an existing store does not belong to the dataset being recorded."""


class StoreCorruptError(ValueError):
    """A store file is damaged or does not match the store's schema.

    Raised when a store is opened (nothing runs on a corrupt store). ``file`` is the
    damaged file, ``problem`` says what is wrong with it.
    """

    def __init__(self, file: str | os.PathLike, problem: str) -> None:
        self.file = Path(file)
        self.problem = problem
        super().__init__(
            f"corrupt trajectory store: {self.file} {problem}. The store cannot be used as it "
            "is: record it again, or restore the file from a copy"
        )

    def __reduce__(self):  # picklable (torch.distributed ships exceptions between ranks)
        return (type(self), (self.file, self.problem))


class StoreChangedError(StoreCorruptError):
    """The store was replaced (by another process, or another store object) after it was opened.

    A :class:`~hf_s2l.TrajectoryStore` object reads the files of the generation it opened (it
    keeps them open); what cannot come from that generation raises this error, naming the file,
    instead of mixing one generation's losses with another's ids. Open the store again.
    """

    def __init__(self, file: str | os.PathLike, problem: str) -> None:
        self.file = Path(file)
        self.problem = problem
        ValueError.__init__(
            self,
            f"trajectory store changed: {self.file} {problem}. The store was replaced after this "
            "object opened it; open it again (TrajectoryStore.open) to read the new store",
        )


class StoreLockedError(RuntimeError):
    """Another process is writing the store (a store takes one writer at a time).

    ``holder`` holds what the writing process recorded about itself (``pid``, ``host``,
    ``since``, ``command``), or is empty when it could not be read.
    """

    def __init__(self, store: str | os.PathLike, holder: dict | None = None) -> None:
        self.store = Path(store)
        self.holder = dict(holder or {})
        who = (
            f"pid {self.holder.get('pid', '?')} on host {self.holder.get('host', '?')}"
            f", since {self.holder.get('since', '?')}"
            if self.holder
            else "holder unknown"
        )
        if self.holder.get("command"):
            who += f", command: {self.holder['command']}"
        super().__init__(
            f"the trajectory store {self.store} is being written by another process ({who}). "
            "A store takes one writer at a time: wait for that run to finish, or record into "
            "another output directory. Reading the store (TrajectoryStore.open(path), "
            "hf-s2l select / report / info) works meanwhile"
        )

    def __reduce__(self):
        return (type(self), (self.store, self.holder))
