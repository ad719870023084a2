"""Constructed stores for the transfer check: real TrajectoryStore files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hf_s2l.store import TrajectoryStore


def latent_curves(n: int = 300, groups: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Per-example (start loss, learning speed): a few groups of examples that learn alike."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, groups, n)
    start = 2.0 + g * 0.5 + rng.normal(0, 0.05, n)
    speed = 0.5 + (g % 3) * 1.0 + rng.normal(0, 0.05, n)
    return start, speed


def write_store(
    path: Path,
    start: np.ndarray,
    speed: np.ndarray,
    steps: list[int],
    *,
    ids=None,
    noise: float = 0.0,
    transform=lambda x: x,
    fingerprint: str | None = "fp-pool",
    seed: int = 1,
    initial: bool = True,
    epoch_ends: bool = False,
) -> Path:
    """A store whose row ``i`` is ``transform(start_i * exp(-speed_i * progress)) + noise``.

    One column per step in ``steps`` (progress = step / max(steps)), plus a train_begin
    column at step 0 when ``initial``. With ``epoch_ends`` every column is an epoch end.
    """
    rng = np.random.default_rng(seed)
    n = len(start)
    total = max(steps)
    with TrajectoryStore.create(path, n, dataset_fingerprint=fingerprint, example_ids=ids) as store:
        cols = ([0] if initial else []) + list(steps)
        for j, s in enumerate(cols):
            kind = (
                "train_begin" if (initial and j == 0) else ("epoch_end" if epoch_ends else "point")
            )
            c = store.add_column(global_step=s, epoch=float(j), kind=kind)
            vals = transform(start * np.exp(-speed * s / total)) + rng.normal(0, noise, n)
            store.write(c, np.arange(n), vals.astype(np.float32))
            store.mark_complete(c)
    return path


@pytest.fixture
def related_pair(tmp_path):
    """Target = monotone transform of the proxy + small noise, other steps and columns."""
    start, speed = latent_curves()
    ids = np.arange(len(start)) * 7 + 3
    proxy = write_store(tmp_path / "proxy", start, speed, [10, 20, 30, 40, 50, 60], ids=ids)
    target = write_store(
        tmp_path / "target",
        start,
        speed,
        [100, 250, 400],
        ids=ids,
        noise=0.02,
        transform=lambda x: 0.5 * np.log1p(x) + 0.1,
        seed=2,
    )
    return proxy, target
