"""One recorder per store folder: a second writer is refused when it is wired, before training.

The store's writer lock stops a second *process*. Within a process the lock is shared (a
notebook that re-runs a training is not locked out by its own earlier objects), so two
recorders of one process would both write one store: every probe pass twice, or, with other
schedules, a store left unreadable at train end. They are refused here:

* :func:`check_recorders` — the recorders a Trainer holds: the same one listed twice, or two
  that write one store folder (symbolic links resolved), raise :class:`RecorderConflictError`.
  Run by :func:`hf_s2l.record.attach`, at Trainer construction (``on_init_end``) and at train
  begin, so also for callbacks added with ``trainer.add_callback``.
* :func:`claim_folders` / :func:`release_folders` — a recorder holds its folders from train
  begin to train end; another thread of this process that starts recording into one of them
  meanwhile is refused. Trainings of one thread run one after the other, so a claim left by a
  training of the same thread that ended with an error never blocks the next one.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RecorderConflictError", "check_recorders", "claim_folders", "recorder_folders"]


class RecorderConflictError(ValueError):
    """Two recorders would write one trajectory store (or one recorder would run twice)."""


def recorder_folders(callback: Any) -> list[Path] | None:
    """The store folders ``callback`` writes, or ``None`` if it is no hf-s2l recorder."""
    # TrajectoryCallback and a standalone InStepRecorder say which folders they write
    folders = getattr(callback, "store_folders", None)
    return list(folders()) if callable(folders) else None


def _key(folder: Path) -> str:
    return os.path.realpath(folder)


def _describe(callback: Any) -> str:
    return f"{type(callback).__name__}({str(getattr(callback, 'output_dir', '?'))!r})"


def recorders(trainer: Any) -> list[Any]:
    """The hf-s2l recorders among ``trainer``'s callbacks, in order (repeats included)."""
    callbacks = getattr(getattr(trainer, "callback_handler", None), "callbacks", None) or []
    return [cb for cb in callbacks if recorder_folders(cb) is not None]


def check_recorders(trainer: Any) -> None:
    """:class:`RecorderConflictError` if ``trainer`` holds one recorder twice, or two that
    write the same store folder."""
    if trainer is None:
        return
    seen: list[Any] = []
    owners: dict[str, Any] = {}
    for cb in recorders(trainer):
        if any(cb is other for other in seen):
            raise RecorderConflictError(
                f"the Trainer holds the same {_describe(cb)} twice: it would record every column "
                "twice into one store. Add it once (Trainer(callbacks=[callback]) or "
                "hf_s2l.attach(trainer, callback), not both)"
            )
        seen.append(cb)
        for folder in recorder_folders(cb) or []:
            other = owners.get(_key(folder))
            if other is not None:
                raise RecorderConflictError(
                    f"two recorders of this Trainer write the trajectory store {folder}: "
                    f"{_describe(other)} and {_describe(cb)}. A store takes one recorder: keep "
                    "one (TrajectoryCallback(..., mode='both') records probe and in-step "
                    "columns), or give the other its own output_dir"
                )
            owners[_key(folder)] = cb


@dataclass
class _Claim:
    owner: weakref.ref
    thread: threading.Thread


# folder -> the recorder that records into it now: process state, as the writer lock it guards
_claims: dict[str, _Claim] = {}
_mutex = threading.Lock()


def claim_folders(recorder: Any, folders: list[Path]) -> None:
    """Hold ``folders`` for ``recorder`` until :func:`release_folders`; a live recorder of
    another running thread recording into one of them is a :class:`RecorderConflictError`,
    also ``recorder`` itself (one callback object given to two Trainers that train at once)."""
    me = threading.current_thread()
    with _mutex:
        for folder in folders:
            claim = _claims.get(_key(folder))
            other = claim.owner() if claim is not None else None
            if other is None or claim.thread is me or not claim.thread.is_alive():
                continue
            if other is recorder:  # one callback object given to two Trainers
                raise RecorderConflictError(
                    f"{_describe(recorder)} is recording another training of this process "
                    f"(thread {claim.thread.name!r}) into {folder}: a recorder records one "
                    "training at a time. Give each Trainer its own TrajectoryCallback, with its "
                    "own output_dir"
                )
            raise RecorderConflictError(
                f"{folder} is being recorded by another training of this process "
                f"({_describe(other)} in thread {claim.thread.name!r}). A store takes one "
                "writer at a time: wait for that training to end, or record into another "
                "output_dir"
            )
        for folder in folders:
            _claims[_key(folder)] = _Claim(weakref.ref(recorder), me)


def release_folders(recorder: Any) -> None:
    """Give back every folder ``recorder`` holds (at train end, or when its train begin failed)."""
    with _mutex:
        for key in [k for k, c in _claims.items() if c.owner() is recorder]:
            del _claims[key]
