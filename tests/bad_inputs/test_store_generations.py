"""A store replaced after it was opened: the object reads the generation it opened, whole
(losses, num_tokens, example ids, metadata), or raises StoreChangedError naming the file."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from hf_s2l import StoreChangedError, StoreCorruptError, TrajectoryStore

N = 16


def _generation(path, g: int, *, metadata: bool = True) -> None:
    """Generation ``g``: every loss and token count is g, ids ``g<g>-<row>``, source ``s<g>``."""
    with TrajectoryStore.create(
        path, N, example_ids=[f"g{g}-{i}" for i in range(N)], replace=True, extra={"gen": g}
    ) as s:
        for j in range(2):
            c = s.add_column(j, float(j), "point")
            s.write(c, np.arange(N), np.full(N, g, np.float32))
            s.mark_complete(c)
        s.write_num_tokens(np.arange(N), np.full(N, g))
        if metadata:
            s.set_metadata("source", [f"s{g}"] * N)


def _generation_read(st: TrajectoryStore) -> dict[str, set]:
    """What each file of ``st`` says its generation is."""
    return {
        "meta": {st.meta["extra"]["gen"]},
        "losses": set(np.unique(st.trajectories()).astype(int).tolist()),
        "num_tokens": set(np.unique(np.asarray(st.num_tokens)).tolist()),
        "example_ids": {int(str(i).split("-")[0][1:]) for i in st.example_ids},
        "source": {int(str(v)[1:]) for v in st.metadata("source")},
    }


def test_store_replaced_after_open_keeps_reading_its_generation(tmp_path):
    path = tmp_path / "traj"
    _generation(path, 1)
    old = TrajectoryStore.open(path)
    _generation(path, 2, metadata=False)  # the new store has no metadata/ folder at all
    # ids, metadata and token counts of generation 1, as the losses (not generation 2's)
    assert _generation_read(old) == {k: {1} for k in _generation_read(old)}
    assert old.example_ids[0] == "g1-0" and old.metadata("source")[0] == "s1"
    # a selection ranked on generation 1 carries generation 1's ids
    from hf_s2l import select

    sel = select(old, "random", 5, seed=0)
    assert sel.example_ids.tolist() == [f"g1-{i}" for i in sel.indices]
    new = TrajectoryStore.open(path)
    assert new.example_ids[0] == "g2-0" and new.metadata_columns == []
    # refresh() never switches generations: it says the store changed, naming meta.json
    with pytest.raises(StoreChangedError, match="meta.json.*names store") as err:
        old.refresh()
    assert err.value.file == path / "meta.json" and isinstance(err.value, StoreCorruptError)
    assert old.example_ids[0] == "g1-0"  # still readable, still generation 1


def test_refresh_of_the_same_generation_sees_new_columns(tmp_path):
    path = tmp_path / "traj"
    _generation(path, 1)
    reader = TrajectoryStore.open(path)
    with TrajectoryStore.open(path, "r+") as w:
        c = w.add_column(5, 1.0, "point")
        w.write(c, np.arange(N), np.full(N, 1, np.float32))
        w.mark_complete(c)
        w.set_metadata("lang", ["en"] * N)
    assert reader.num_columns == 2
    reader.refresh()
    assert reader.num_columns == 3 and reader.metadata("lang")[0] == "en"
    assert _generation_read(reader)["losses"] == {1}


def test_a_closed_writer_keeps_reading_its_generation(tmp_path):
    path = tmp_path / "traj"
    _generation(path, 1)
    w = TrajectoryStore.open(path, "r+")
    w.close()
    _generation(path, 2)
    assert w.example_ids[0] == "g1-0" and _generation_read(w)["source"] == {1}


def test_threaded_replaces_never_mix_generations(tmp_path):
    """One thread replaces the store again and again while three threads open and read every
    file; each object's files are all of one generation, also read long after."""
    path = tmp_path / "traj"
    _generation(path, 1)
    stop = threading.Event()
    problems: list[str] = []
    counts = {"opens": 0, "replaces": 0}
    held: list[TrajectoryStore] = []

    def replace() -> None:
        g = 2
        while not stop.is_set():
            try:
                _generation(path, g, metadata=g % 2 == 0)
            except Exception as e:  # noqa: BLE001 - every failure counts
                problems.append(f"replace: {type(e).__name__}: {e}")
                return
            counts["replaces"] += 1
            g += 1
        _generation(path, g)  # the last one has metadata

    def read() -> None:
        while not stop.is_set():
            try:
                st = TrajectoryStore.open(path)
                if "source" not in st.metadata_columns:
                    continue
                seen = _generation_read(st)
            except Exception as e:  # noqa: BLE001 - every failure counts
                problems.append(f"read: {type(e).__name__}: {e}")
                continue
            counts["opens"] += 1
            if len(set().union(*seen.values())) != 1:
                problems.append(f"one object read several generations: {seen}")
            if counts["opens"] % 20 == 0:
                held.append(st)

    threads = [threading.Thread(target=replace)] + [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(4.0)
    stop.set()
    for t in threads:
        t.join(60)
    for st in held:  # opened long ago, read now: the folder holds later generations
        seen = _generation_read(st)
        if len(set().union(*seen.values())) != 1:
            problems.append(f"a held object read several generations: {seen}")
    assert counts["replaces"] > 5 and counts["opens"] > 20, counts
    assert not problems, f"{len(problems)} problems ({counts}): {problems[:5]}"


def test_a_writer_whose_store_this_process_replaced_closes_and_reads_nothing_new(tmp_path):
    """The callback's ``overwrite=True`` replaces a store while its earlier writer is open (the
    lock is shared within a process), then closes that writer: closing raised a raw
    FileNotFoundError for ``metadata/source.npy`` (the new generation has no metadata yet),
    or pinned the new generation's files under the old meta.json."""
    path = tmp_path / "traj"
    _generation(path, 1)
    old = TrajectoryStore.open(path, "r+")
    _generation(path, 2, metadata=False)
    old.close()  # no error: it gives its hold of the lock back
    for read in (
        lambda: old.losses,
        lambda: old.trajectories(),
        lambda: old.num_tokens,
        lambda: old.example_ids,
        lambda: old.metadata("source"),
    ):
        with pytest.raises(StoreChangedError, match="meta.json names store .* that this object"):
            read()
    new = TrajectoryStore.open(path, "r+")  # the lock is free, the new store whole
    new.close()
    assert set(np.unique(new.trajectories())) == {2} and new.example_ids[0] == "g2-0"
    # a writer of generation 2 closed after generation 3 replaced it never reads 3's files
    old = TrajectoryStore.open(path, "r+")
    _generation(path, 3)
    old.close()
    for read in (lambda: old.example_ids, lambda: old.losses, lambda: old.num_tokens):
        with pytest.raises(StoreChangedError):
            read()
