"""Record from a tiny GPT-NeoX sharded with torch's ``fully_shard`` (FSDP2), 2 CPU ranks, gloo.

The Trainer does not enable FSDP on the CPU, so the recorders are driven here exactly as the
Trainer drives them (real ``TrainingArguments`` — which also start the gloo process group
under torchrun —, ``TrainerState``, the events with ``model`` and ``train_dataloader``).

Usage: torchrun --nproc_per_node 2 fsdp_record.py DATA_DIR TOKENIZER_DIR WORK_DIR MODE
MODE ``probe``: one probe column (step 0) with batch size 7 (48 rows -> 7 batches: 4 on
rank 0, 3 on rank 1) into WORK_DIR/traj. MODE ``in_step``: one epoch of training forwards
and backwards (DistributedSampler, micro-batch 4, no optimizer step, so the weights stay
those of the unsharded reference) recorded by an ``InStepRecorder`` into WORK_DIR/in_step.
Each rank writes WORK_DIR/forwards_RANK.json: its number of model forward calls and the
logits' vocabulary size it saw.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)

try:  # FSDP2 is public from torch 2.6; torch 2.4/2.5 (the floor) have it as _composable
    from torch.distributed.fsdp import FSDPModule, fully_shard  # noqa: E402
except ImportError:
    from torch.distributed._composable.fsdp import FSDPModule, fully_shard  # noqa: E402
from torch.utils.data import DataLoader, DistributedSampler  # noqa: E402
from transformers import (  # noqa: E402
    DataCollatorForSeq2Seq,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from hf_s2l import TrajectoryCallback  # noqa: E402
from hf_s2l.experiments.tiny import tiny_model  # noqa: E402
from hf_s2l.record.in_step import InStepRecorder  # noqa: E402
from tests._train_script import load_data, load_tokenizer  # noqa: E402


def main() -> None:
    data_dir, tok_dir, work, mode = sys.argv[1:5]
    work_dir = Path(work)
    args = TrainingArguments(
        output_dir=str(work_dir / "run"),
        use_cpu=True,
        ddp_backend="gloo",
        report_to=[],
        disable_tqdm=True,
        per_device_train_batch_size=4,
    )
    rank, world = args.process_index, args.world_size
    assert world == 2 and torch.distributed.is_initialized(), "run with torchrun, 2 processes"
    ds = load_data(data_dir)
    tok = load_tokenizer(tok_dir)
    collator = DataCollatorForSeq2Seq(tok, padding=True)
    # the same model as the test's unsharded reference (make_causal_lm(seed=0))
    model = tiny_model(family="gpt_neox", vocab_size=len(tok), hidden_size=32, num_layers=2, seed=0)
    for layer in model.gpt_neox.layers:
        fully_shard(layer)
    fully_shard(model)
    assert isinstance(model, FSDPModule)
    assert all(type(p).__name__ == "DTensor" for p in model.parameters())

    seen = {"forwards": 0, "vocab": []}

    def count(module, inputs, output):
        seen["forwards"] += 1
        seen["vocab"].append(int(output.logits.shape[-1]))

    model.register_forward_hook(count)
    state = TrainerState()
    state.max_steps, state.global_step, state.epoch = 6, 0, 0.0
    control = TrainerControl()
    if mode == "probe":
        loader = DataLoader(ds, batch_size=4, collate_fn=collator)
        cb = TrajectoryCallback(
            work_dir / "traj",
            num_points=None,
            at_epoch_end=False,
            batch_size=7,
            write_every=2,
        )
        cb.on_train_begin(args, state, control, model=model, train_dataloader=loader)
    elif mode == "in_step":
        sampler = DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=False)
        loader = DataLoader(ds, batch_size=4, sampler=sampler, collate_fn=collator)
        rec = InStepRecorder(work_dir / "in_step")
        rec.on_train_begin(args, state, control, model=model, train_dataloader=loader)
        model.train()
        for batch in loader:
            out = model(**batch)
            out.loss.backward()  # FSDP2 reduce-scatters the gradients (gloo)
            model.zero_grad(set_to_none=True)
            state.global_step += 1
            rec.on_step_end(args, state, control)
        state.epoch = 1.0
        rec.on_epoch_end(args, state, control)
        rec.on_train_end(args, state, control)
        if rec.error:
            raise SystemExit(f"in-step recorder failed: {rec.error}")
    else:
        raise SystemExit(f"unknown mode {mode}")
    (work_dir / f"forwards_{rank}.json").write_text(json.dumps(seen))
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
