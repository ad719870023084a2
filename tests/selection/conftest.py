"""Small hand-made trajectory stores for the selection tests."""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.store import TrajectoryStore

# Perplexities of the golden store (rows = examples). Columns: step 0 (train_begin),
# end of epoch 1, a mid-epoch-2 point, end of epoch 2. Stored losses are log(P).
GOLDEN_PPL = np.array(
    [
        [8, 4, 3, 2],
        [8, 7, 6, 2],
        [5, 5, 5, 5],
        [10, 2, 2, 2],
        [6, 5, 4, 3],
        [4, 6, 5, 2],
        [9, 6, 4, 3],
        [12, 9, 7, 4],
        [7, 3, 3, 3],
        [2, 1.6, 1.2, 1.1],
    ],
    dtype=np.float64,
)
GOLDEN_SCHEDULE = [
    (0, 0.0, "train_begin"),
    (10, 1.0, "epoch_end"),
    (15, 1.5, "point"),
    (20, 2.0, "epoch_end"),
]


def build_store(path, losses, schedule=None, complete=None, **kw) -> TrajectoryStore:
    """A store holding ``losses`` (N x T) with the given (step, epoch, kind) schedule."""
    losses = np.asarray(losses, dtype=np.float32)
    n, t = losses.shape
    if schedule is None:
        schedule = [(10 * (j + 1), float(j + 1), "point") for j in range(t)]  # after step 0
    store = TrajectoryStore.create(path, n, **kw)
    for j, (step, epoch, kind) in enumerate(schedule):
        c = store.add_column(step, epoch, kind)
        store.write(c, np.arange(n), losses[:, j])
        if complete is None or j in complete:
            store.mark_complete(c)
    return store


@pytest.fixture
def golden_store(tmp_path):
    store = build_store(
        tmp_path / "golden",
        np.log(GOLDEN_PPL),
        GOLDEN_SCHEDULE,
        model_name_or_path="tiny-proxy",
        dataset_fingerprint="fp-golden",
        example_ids=[f"ex{i}" for i in range(len(GOLDEN_PPL))],
    )
    store.set_metadata("source", np.array(["a", "b", "b", "a", "c", "c", "c", "c", "b", "c"]))
    return store


def blob_losses(sizes, dims=4, seed=0, spread=0.01):
    """Well separated Gaussian blobs of the given sizes (rows in blob order)."""
    rng = np.random.default_rng(seed)
    centres = np.arange(len(sizes))[:, None] * 10.0 + np.arange(dims)[None, :] * 0.0
    rows = [centres[b] + spread * rng.standard_normal((s, dims)) for b, s in enumerate(sizes)]
    return np.concatenate(rows).astype(np.float32) + 1.0
