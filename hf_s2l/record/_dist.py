"""Process-group helpers for the recorders (no-ops in a single process).

Only torch.distributed object collectives are used (``gather_object``,
``all_gather_object``): they work on gloo (CPU) and nccl (GPU,
on the current CUDA device the Trainer / accelerate has set) and need no shared file system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


def _group() -> Any:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist
    return None


def all_gather(obj: Any) -> list[Any]:
    """Every rank's ``obj``, as a list by global rank, on every rank (``[obj]`` alone)."""
    dist = _group()
    if dist is None:
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def gather_to(obj: Any, dst: int, rank: int) -> list[Any] | None:
    """Every rank's ``obj`` (list by global rank) on rank ``dst``; ``None`` on the others."""
    dist = _group()
    if dist is None:
        return [obj]
    out = [None] * dist.get_world_size() if rank == dst else None
    dist.gather_object(obj, out, dst=dst)
    return out


@dataclass(frozen=True)
class Writers:
    """Which processes write a store: the global main, or each node's local main.

    ``save_on_each_node`` follows ``TrainingArguments.save_on_each_node``: ``False`` (default)
    -> global rank 0 alone writes (nodes need not share a disk: the other ranks send their
    rows over the process group and never touch the store's folder); ``True`` -> the local
    main process of every node writes its own full copy at the same path on its node's disk.
    """

    rank: int
    world_size: int
    ranks: tuple[int, ...]  # global ranks that write, ascending

    @property
    def is_writer(self) -> bool:
        return self.rank in self.ranks

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_args(cls, args: Any) -> Writers:
        """From ``TrainingArguments`` (``process_index``, ``local_process_index``...)."""
        rank = int(getattr(args, "process_index", 0) or 0)
        local = int(getattr(args, "local_process_index", rank) or 0)
        each_node = bool(getattr(args, "save_on_each_node", False))
        writes = rank == 0 or (each_node and local == 0)
        flags = all_gather(writes)
        return cls(rank, len(flags), tuple(r for r, w in enumerate(flags) if w))

    def gather(self, obj: Any) -> list[Any] | None:
        """Every rank's ``obj`` (list by rank) on each writer, ``None`` on non-writers.

        One ``gather_object`` per writer (one per node at most), so a non-writer holds
        nothing but its own payload.
        """
        if self.world_size == 1:
            return [obj]
        mine = None
        for dst in self.ranks:
            got = gather_to(obj, dst, self.rank)
            if dst == self.rank:
                mine = got
        return mine

    def run(self, fn: Callable[[], Any]) -> list[Any]:
        """Run ``fn()`` on the writers; every rank gets the list of results by rank.

        Non-writers contribute ``None``. An exception on any writer is raised on every rank
        (the writer re-raises its own; the others raise a ``RuntimeError`` naming it), so no
        rank is left waiting in a collective.
        """
        result: Any = None
        error: BaseException | None = None
        if self.is_writer:
            try:
                result = fn()
            except Exception as e:  # re-raised below, on every rank
                error = e
        if self.world_size == 1:
            if error is not None:
                raise error
            return [result]
        shared = all_gather(
            ("error", f"{type(error).__name__}: {error}") if error is not None else ("ok", result)
        )
        if error is not None:
            raise error
        failed = [(r, s[1]) for r, s in enumerate(shared) if s[0] == "error"]
        if failed:
            r, msg = failed[0]
            raise RuntimeError(f"rank {r} failed: {msg}")
        return [s[1] for s in shared]

    def raise_any(self, error: BaseException | None) -> None:
        """Collective: raise on every rank if ``error`` is set on any rank."""
        if self.world_size == 1:
            if error is not None:
                raise error
            return
        shared = all_gather(None if error is None else f"{type(error).__name__}: {error}")
        if error is not None:
            raise error
        failed = [(r, m) for r, m in enumerate(shared) if m is not None]
        if failed:
            raise RuntimeError(f"rank {failed[0][0]} failed: {failed[0][1]}")


def first_not_none(values: Sequence[Any]) -> Any:
    return next((v for v in values if v is not None), None)
