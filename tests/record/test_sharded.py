"""Recording from a model sharded with ``fully_shard`` (FSDP2) on 2 CPU ranks (gloo, torchrun).

Under FSDP every forward is a collective: a rank that calls the model once more than the
others waits forever. The probe pass runs in lock-step rounds (a padding batch where a rank
has run out), so with 7 probe batches over 2 ranks both ranks call the model 4 times; before
this the run hung (the subprocess timeout below catches that).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from transformers import DataCollatorForSeq2Seq

from hf_s2l import TrajectoryStore
from hf_s2l.compat import stack_limit


def _run(tmp_path, record_ds, tokenizer_dir, helpers, mode: str) -> None:
    if why := stack_limit("fsdp2_cpu"):
        pytest.skip(why)
    data = tmp_path / "data"
    record_ds.save_to_disk(str(data))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        helpers.HERE / "fsdp_record.py",
        data,
        tokenizer_dir,
        tmp_path,
        mode,
    ]
    helpers.run_subprocess(cmd, helpers.subprocess_env(), tmp_path, timeout=240)


def _forwards(tmp_path) -> list[dict]:
    return [json.loads((tmp_path / f"forwards_{r}.json").read_text()) for r in (0, 1)]


@pytest.mark.slow
def test_probe_on_fully_sharded_model_equals_unsharded(
    tmp_path, record_ds, tokenizer, tokenizer_dir, make_causal_lm, helpers
):
    assert len(record_ds) == 48  # batch size 7 -> 7 batches: 4 on rank 0, 3 on rank 1
    _run(tmp_path, record_ds, tokenizer_dir, helpers, "probe")
    seen = _forwards(tmp_path)
    # lock-step: rank 1 ran one padding batch; +1 on each rank: the first pass's self-check
    # forward (issue 25), run on every rank so the collectives stay in step
    assert [s["forwards"] for s in seen] == [5, 5]
    assert {v for s in seen for v in s["vocab"]} == {len(tokenizer)}  # full logits
    store = TrajectoryStore.open(tmp_path / "traj")
    assert store.complete_columns().tolist() == [0]
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True)
    expected = helpers.independent_losses(make_causal_lm(seed=0), record_ds, collator)
    helpers.assert_losses_close(store.losses[:, 0], expected, rtol=1e-5)
    assert (np.asarray(store.num_tokens) >= 0).all()


@pytest.mark.slow
def test_in_step_on_fully_sharded_model_equals_unsharded(
    tmp_path, record_ds, tokenizer, tokenizer_dir, make_causal_lm, helpers
):
    _run(tmp_path, record_ds, tokenizer_dir, helpers, "in_step")
    seen = _forwards(tmp_path)
    assert [s["forwards"] for s in seen] == [6, 6]
    assert {v for s in seen for v in s["vocab"]} == {len(tokenizer)}
    store = TrajectoryStore.open(tmp_path / "in_step")
    assert store.mode == "in_step"
    assert store.complete_columns().tolist() == [0]
    # no optimizer step: every training forward ran the initial weights (dropout 0)
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True)
    expected = helpers.independent_losses(make_causal_lm(seed=0), record_ds, collator)
    helpers.assert_losses_close(store.losses[:, 0], expected, rtol=1e-5)
    steps = np.asarray(store.cell_steps[:, 0])
    assert steps.min() >= 0 and steps.max() == 5  # 6 forwards per rank, steps 0..5


def test_lockstep_batches_equal_counts_and_every_row_once():
    from hf_s2l.record.probe import lockstep_batches

    order = np.arange(48)[::-1].copy()
    for world in (1, 2, 3, 5, 8, 64):
        plans = [lockstep_batches(order, 7, r, world) for r in range(world)]
        assert len({len(p) for p in plans}) == 1  # the same number of forwards everywhere
        assert len(plans[0]) == -(-7 // world)
        real = np.concatenate([b for p in plans for b, ok in p if ok])
        assert sorted(real.tolist()) == list(range(48))
        for p in plans:  # padding only in the last round, with the last (shortest) batch
            assert all(ok for _, ok in p[:-1])
            if not p[-1][1]:
                assert p[-1][0].tolist() == order[42:].tolist()
