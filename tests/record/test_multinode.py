"""Two nodes that share no disk, simulated on this host with torchrun --nnodes 2 (gloo, CPU).

Each "node" is its own torchrun agent (``--node_rank 0|1``, one process each, started
concurrently) with its OWN run and store folders. The global main process (node 0) alone
writes the store, receiving node 1's rows over the process group: node 1's folder never
holds a store. With ``save_on_each_node`` each node's local main writes its own copy.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from hf_s2l import TrajectoryStore
from hf_s2l.compat import stack_limit
from hf_s2l.store import is_store

pytestmark = pytest.mark.slow

STEPS = [0, 2, 4, 6, 8]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def setup(tmp_path_factory, record_full, tokenizer_dir):
    """The saved dataset and the single-process reference store (uninterrupted run)."""
    from tests.record import conftest as helpers

    root = tmp_path_factory.mktemp("multinode")
    data = root / "data"
    record_full.save_to_disk(str(data))
    script = helpers.HERE / "multinode_train.py"
    helpers.run_subprocess(
        [sys.executable, script, data, tokenizer_dir, root / "ref_run", root / "ref_traj", "train"],
        helpers.subprocess_env(),
        root,
    )
    return {"data": data, "tok": tokenizer_dir, "script": script, "ref": root / "ref_traj"}


def _two_nodes(setup, work, mode, *extra, expect_fail=False, timeout=300):
    """Start node 0 and node 1 concurrently; return their (rc, stderr)."""
    from tests.record import conftest as helpers

    port = _free_port()
    procs = []
    for node in (0, 1):
        d = work / f"node{node}"
        d.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "2",
            "--node_rank",
            str(node),
            "--nproc_per_node",
            "1",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(port),
            setup["script"],
            setup["data"],
            setup["tok"],
            d / "run",
            d / "traj",
            mode,
            *extra,
        ]
        procs.append(
            subprocess.Popen(
                [str(c) for c in cmd],
                env=helpers.subprocess_env(),
                cwd=d,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        )
    results = []
    deadline = time.monotonic() + timeout
    for i, p in enumerate(procs):
        try:
            # once a node has failed, the other gets a short grace period, then is killed
            # (a node that lost its peer: what a cluster scheduler does)
            left = deadline - time.monotonic()
            if expect_fail and i == 1:
                left = min(left, 60)
            out, err = p.communicate(timeout=max(left, 1))
        except subprocess.TimeoutExpired:
            out, err = helpers.stop(p)
            if not expect_fail:
                for q in procs:
                    if q.poll() is None:
                        helpers.stop(q)
                raise AssertionError(f"node {i} timed out:\n{err[-6000:]}") from None
        results.append((p.returncode, err))
    if not expect_fail:
        failed = [(i, rc, err) for i, (rc, err) in enumerate(results) if rc != 0]
        assert not failed, "\n".join(
            f"node {i} exited {rc}:\n{err[-4000:]}" for i, rc, err in failed
        )
    return results


def _copy_missing(src, dst) -> list[str]:
    """Copy the files of checkpoint ``src`` that ``dst`` lacks (what a user copies by hand)."""
    copied = []
    for f in sorted(src.iterdir()):
        if not (dst / f.name).exists():
            shutil.copy2(f, dst / f.name)
            copied.append(f.name)
    return copied


def _assert_equal_to_reference(store: TrajectoryStore, ref: TrajectoryStore) -> None:
    assert store.steps.tolist() == ref.steps.tolist() == STEPS
    assert store.kinds == ref.kinds
    np.testing.assert_allclose(store.epochs, ref.epochs)
    assert store.complete_columns().tolist() == list(range(len(STEPS)))
    assert not np.isnan(store.losses).any()
    got, want = np.asarray(store.losses), np.asarray(ref.losses)
    if stack_limit("ddp_token_average"):  # the Trainer itself trains otherwise: step 0 only
        got, want = got[:, :1], want[:, :1]
    assert np.abs(got - want).max() <= 1e-6
    assert store.num_tokens.tolist() == ref.num_tokens.tolist()
    assert store.example_ids.tolist() == ref.example_ids.tolist()
    assert store.metadata("source").tolist() == ref.metadata("source").tolist()
    assert store.dataset_fingerprint == ref.dataset_fingerprint


def test_two_nodes_one_store_on_node0_equal_to_single_process(setup, tmp_path):
    _two_nodes(setup, tmp_path, "train")
    ref = TrajectoryStore.open(setup["ref"])
    store = TrajectoryStore.open(tmp_path / "node0" / "traj")
    _assert_equal_to_reference(store, ref)
    assert store.meta["extra"]["recorder"]["training_args"]["world_size"] == 2
    # node 1 never touched a store folder
    assert not (tmp_path / "node1" / "traj").exists()
    assert (tmp_path / "node1" / "run" / "writers_1.json").read_text() == "[0]"


def test_two_nodes_killed_then_resumed(setup, tmp_path):
    """Both nodes die mid-column (node 0 writing); node 1 got checkpoint-3 copied from node 0
    (without save_on_each_node the Trainer saves the weights on node 0 only); resume."""
    if why := stack_limit("ddp_cpu_resume"):
        pytest.skip(why)
    results = _two_nodes(setup, tmp_path, "kill", expect_fail=True)
    assert all(rc != 0 for rc, _ in results)
    node0, node1 = tmp_path / "node0", tmp_path / "node1"
    assert sorted(p.name for p in (node0 / "run").glob("checkpoint-*")) == ["checkpoint-3"]
    killed = TrajectoryStore.open(node0 / "traj")
    assert killed.steps.tolist() == [0, 2, 4, 6]
    assert [c["complete"] for c in killed.columns] == [True, True, True, False]
    assert not (node1 / "traj").exists()
    assert "model.safetensors" in _copy_missing(
        node0 / "run" / "checkpoint-3", node1 / "run" / "checkpoint-3"
    )

    _two_nodes(setup, tmp_path, "resume")
    store = TrajectoryStore.open(node0 / "traj")
    _assert_equal_to_reference(store, TrajectoryStore.open(setup["ref"]))
    assert store.meta["extra"]["recorder"]["resumed_from_step"] == 3
    assert not (node1 / "traj").exists()


def test_save_on_each_node_copy_per_node_survives_kill_and_resume(setup, tmp_path):
    """save_on_each_node: each node's local main writes its own full copy of the store, and
    each node resumes its copy from its own disk.

    transformers 5.24's ``save_pretrained`` writes the weights on global rank 0 only, even
    with ``save_on_each_node`` (``should_save_on_this_rank``), so node 1's checkpoint gets
    the weight files copied from node 0 (the rest, optimizer and Trainer state, is its own).
    """
    if why := stack_limit("ddp_cpu_resume"):
        pytest.skip(why)
    _two_nodes(setup, tmp_path, "kill", "each_node", expect_fail=True)
    for node in ("node0", "node1"):
        assert sorted(p.name for p in (tmp_path / node / "run").glob("checkpoint-*")) == [
            "checkpoint-3"
        ]
        assert is_store(tmp_path / node / "traj")
        killed = TrajectoryStore.open(tmp_path / node / "traj")
        assert [c["complete"] for c in killed.columns][:3] == [True, True, True]
    ckpt = "run/checkpoint-3"
    _copy_missing(tmp_path / "node0" / ckpt, tmp_path / "node1" / ckpt)
    _two_nodes(setup, tmp_path, "resume", "each_node")
    ref = TrajectoryStore.open(setup["ref"])
    for node in ("node0", "node1"):
        store = TrajectoryStore.open(tmp_path / node / "traj")
        _assert_equal_to_reference(store, ref)
        assert store.meta["extra"]["recorder"]["resumed_from_step"] == 3
    assert (tmp_path / "node1" / "run" / "writers_1.json").read_text() == "[0, 1]"
