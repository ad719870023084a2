"""Races between real processes: saves of one selection folder, stores replaced under readers."""

from __future__ import annotations

import multiprocessing as mp
import os

import numpy as np

from hf_s2l import Selection, TrajectoryStore
from hf_s2l.selection.selection import SelectionExistsError

TRIALS = 20


def _save_racer(path: str, tag: int, barrier, results) -> None:
    sel = Selection(indices=np.array([tag, tag + 2]), method=f"m{tag}", num_examples=10)
    barrier.wait()
    try:
        sel.save(path, overwrite=False)
        results.put((tag, "ok"))
    except SelectionExistsError:
        results.put((tag, "exists"))
    except BaseException as e:  # noqa: BLE001 - reported to the test
        results.put((tag, f"{type(e).__name__}: {e}"))


def test_two_saves_without_overwrite_at_the_same_instant_one_wins(tmp_path):
    ctx = mp.get_context("fork")
    for trial in range(TRIALS):
        path = str(tmp_path / f"sel{trial}")
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [
            ctx.Process(target=_save_racer, args=(path, tag, barrier, results)) for tag in (1, 2)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        got = dict(results.get(timeout=5) for _ in procs)
        outcomes = sorted(got.values())
        assert outcomes == ["exists", "ok"], f"trial {trial}: {got}"
        winner = next(t for t, r in got.items() if r == "ok")
        back = Selection.load(path)
        assert back.method == f"m{winner}"
        assert back.indices.tolist() == [winner, winner + 2]
        leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
        assert not leftovers, leftovers


def _save_and_hang(path: str, ready) -> None:
    import time

    from hf_s2l.selection import selection as mod

    def hang(*a, **kw):
        ready.set()
        time.sleep(600)

    mod._swap_in = hang  # this child is killed (or left running) with its temp folder full
    Selection(indices=np.array([1]), method="hung", num_examples=4).save(path)


def test_killed_saves_temp_folders_are_cleaned_by_the_next_save(tmp_path):
    import signal

    ctx = mp.get_context("fork")
    path = tmp_path / "sel"
    children = []
    for _ in range(2):
        ready = ctx.Event()
        child = ctx.Process(target=_save_and_hang, args=(str(path), ready))
        child.start()
        assert ready.wait(60)
        children.append(child)
    killed, alive = children
    temps = sorted(p.name for p in tmp_path.glob(".sel.tmp-*"))
    assert len(temps) == 2
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.join(30)
        Selection(indices=np.array([2]), method="next", num_examples=4).save(path)
        left = [p.name for p in tmp_path.glob(".sel.tmp-*")]
        assert left == [f for f in temps if f".tmp-{alive.pid}@" in f], left  # live one kept
        assert Selection.load(path).method == "next"
    finally:
        os.kill(alive.pid, signal.SIGKILL)
        alive.join(30)
    Selection(indices=np.array([3]), method="again", num_examples=4).save(path)
    assert not list(tmp_path.glob(".sel.tmp-*"))


STORE_N = 64
READ_SECONDS = 6.0


def _replace_forever(path: str, started, stop) -> None:
    """Writer: replace the store again and again; generation g holds the loss g everywhere."""
    g = 1
    while not stop.is_set():
        with TrajectoryStore.create(
            path, STORE_N, dataset_fingerprint="fp", replace=True, extra={"gen": g}
        ) as s:
            for j in range(3):
                c = s.add_column(j, float(j), "point")
                s.write(c, np.arange(STORE_N), np.full(STORE_N, g, np.float32))
                s.mark_complete(c)
        started.set()
        g += 1


def test_reader_never_mixes_generations_of_a_store_being_replaced(tmp_path):
    """Every open during replaces sees one generation: meta.json's gen == every loss, and
    the store keeps reading that generation after the next replace."""
    import time

    path = tmp_path / "store"
    ctx = mp.get_context("fork")
    started, stop = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_replace_forever, args=(str(path), started, stop))
    writer.start()
    problems, opens, held = [], 0, []
    try:
        assert started.wait(60)
        end = time.monotonic() + READ_SECONDS
        while time.monotonic() < end:
            try:
                st = TrajectoryStore.open(path)
                gen = st.meta["extra"]["gen"]
                losses = np.asarray(st.losses)
            except Exception as e:  # noqa: BLE001 - every failure counts
                problems.append(f"{type(e).__name__}: {e}")
                continue
            opens += 1
            seen = np.unique(losses[~np.isnan(losses)])
            if len(seen) and seen.tolist() != [gen]:
                problems.append(f"meta.json of generation {gen}, losses {seen.tolist()}")
            if opens % 50 == 0:
                held.append((st, gen))
    finally:
        stop.set()
        writer.join(60)
    for st, gen in held:  # opened long ago; the folder holds later generations now
        seen = np.unique(st.trajectories()[~np.isnan(st.trajectories())])
        if len(seen) and seen.tolist() != [gen]:
            problems.append(f"store opened at generation {gen} later read {seen.tolist()}")
    assert opens > 100, opens
    assert not problems, f"{len(problems)} of {opens + len(problems)} opens: {problems[:5]}"
