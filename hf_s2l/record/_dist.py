"""Minimal process-group helpers (no-ops in a single process)."""

from __future__ import annotations

from typing import Any

import torch


def _group() -> Any:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist
    return None


def barrier() -> None:
    dist = _group()
    if dist is not None:
        dist.barrier()


def broadcast_from_main(obj: Any, device: torch.device | None = None) -> Any:
    """``obj`` of rank 0 on every rank (pickled; small objects only)."""
    dist = _group()
    if dist is None:
        return obj
    payload = [obj]
    dev = None
    if dist.get_backend() == "nccl":
        dev = device if device is not None and device.type == "cuda" else torch.device("cuda")
    dist.broadcast_object_list(payload, src=0, device=dev)
    return payload[0]


def run_on_main(fn: Any, rank: int, device: torch.device | None = None) -> Any:
    """Run ``fn()`` on rank 0 and share its result; its exception is raised on every rank."""
    result: Any = None
    error: BaseException | None = None
    if rank == 0:
        try:
            result = fn()
        except Exception as e:  # re-raised below, on every rank
            error = e
    if _group() is None:
        if error is not None:
            raise error
        return result
    shared = broadcast_from_main(
        ("error", f"{type(error).__name__}: {error}") if error is not None else ("ok", result),
        device,
    )
    if error is not None:
        raise error
    if shared[0] == "error":
        raise RuntimeError(f"rank 0 failed: {shared[1]}")
    return shared[1]
