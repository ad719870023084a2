"""The writer lock and the garbage collector: a store freed by the cyclic GC while this
process takes or gives up a lock must not deadlock (the GC can run inside the lock's mutex).

Each case runs in a subprocess with a timeout, so a deadlock fails the test instead of
hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The GC is made to run exactly where the lock module holds its mutex (inside acquire, where
# any allocation may trigger a collection), with a writable store waiting to be collected.
SCRIPT = """
import gc, sys
from pathlib import Path
from hf_s2l.store import TrajectoryStore
from hf_s2l.store import lock as lock_mod

root, case = Path(sys.argv[1]), sys.argv[2]
real_write_holder = lock_mod._write_holder

def collect_then_write(store_dir):
    gc.collect()  # what an allocation inside the mutex may trigger
    real_write_holder(store_dir)

gc.disable()
a = TrajectoryStore.create(root / "a", num_examples=3)
a.self_ref = a  # a reference cycle: only the cyclic GC frees it
if case == "closed":
    a.close()
del a
lock_mod._write_holder = collect_then_write
b = TrajectoryStore.create(root / "b", num_examples=3)  # acquire -> GC -> a's cleanup
lock_mod._write_holder = real_write_holder
assert not lock_mod._held_for(root / "a"), "a's lock was not released"
assert lock_mod._held_for(root / "b") == 1
c = TrajectoryStore.open(root / "a", "r+")  # a's lock was given back: free to take again
c.close()
b.close()
assert not lock_mod._held_for(root / "b")
print("OK", flush=True)
"""


@pytest.mark.parametrize("case", ["open", "closed"])
def test_store_collected_while_the_lock_mutex_is_held_does_not_deadlock(tmp_path, case):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    try:
        res = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path), case],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: a store collected inside the writer-lock mutex hung the process")
    assert res.returncode == 0 and res.stdout.strip() == "OK", res.stderr[-3000:]


def test_close_cancels_the_gc_cleanup(tmp_path):
    """After close() nothing of the store runs at garbage collection (the hold is gone)."""
    import gc

    from hf_s2l.store import TrajectoryStore
    from hf_s2l.store import lock as lock_mod

    s = TrajectoryStore.create(tmp_path / "s", num_examples=2)
    assert lock_mod._held_for(tmp_path / "s") == 1
    s.close()
    assert not lock_mod._held_for(tmp_path / "s")
    other = TrajectoryStore.open(tmp_path / "s", "r+")  # a new hold on the same lock
    s.self_ref = s
    del s
    gc.collect()  # the closed store's cleanup must not give up other's hold
    assert lock_mod._held_for(tmp_path / "s") == 1
    other.close()


THREADS = """
import gc, sys, threading
from pathlib import Path
from hf_s2l.store import TrajectoryStore
from hf_s2l.store import lock as lock_mod

root = Path(sys.argv[1])
TrajectoryStore.create(root / "s", num_examples=3).close()
gc.set_threshold(5)  # collections at almost every allocation, in every thread
errors = []

def work():
    try:
        for _ in range(40):
            s = TrajectoryStore.open(root / "s", "r+")
            s.self_ref = s  # freed by the cyclic GC, at some allocation of some thread
            if _ % 3 == 0:
                s.close()
            del s
    except BaseException as e:
        errors.append(e)

threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
gc.collect()
lock_mod._drain_if_free()
assert not errors, errors
assert lock_mod._held_for(root / "s") == 0, lock_mod._held_for(root / "s")
print("OK", flush=True)
"""


def test_threads_dropping_stores_leave_no_hold_and_no_deadlock(tmp_path):
    """Four threads open and drop (cyclic, some closed) stores of one folder while the GC
    runs at almost every allocation: no deadlock, and at the end no hold is left."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    try:
        res = subprocess.run(
            [sys.executable, "-c", THREADS, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: threads dropping writable stores hung the process")
    assert res.returncode == 0 and res.stdout.strip() == "OK", res.stderr[-3000:]
