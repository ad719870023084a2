"""Overhead of in-step recording on the training step (tiny GPT-NeoX, CPU, math mixture).

One ``Trainer`` run with an :class:`~hf_s2l.record.in_step.InStepRecorder`; a timing callback
measures every optimizer step (``on_step_begin`` -> ``on_step_end``: data, forward, backward,
optimizer, the recorder's hook and its ``on_step_end``) and switches recording on and off in
alternating blocks of ``--block`` steps (``pause()`` removes the forward hook). The first
block is warm-up. Prints median / mean step time with and without recording and their ratio.

    python benchmarks/in_step_overhead.py --data DATA/math_mix [--examples 2000 --blocks 60 --block 4]

DATA is a folder laid out like ``tests/fixtures/data`` with the full math mixture.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

REPO = Path(__file__).resolve().parents[1]


def _timed(fn, acc: list[float]):
    """``fn`` that adds its own run time to ``acc[0]``."""

    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[0] += time.perf_counter() - t

    return wrapper


class AlternatingTimer(TrainerCallback):
    """Times every step; recording on in even blocks, off in odd ones."""

    def __init__(self, recorder, block: int) -> None:
        self.recorder = recorder
        self.block = block
        self.times: dict[bool, list[float]] = {True: [], False: []}
        self._t0 = 0.0
        self._on = True

    def on_step_begin(self, args, state, control, **kwargs):
        b = state.global_step // self.block
        self._on = b % 2 == 0
        if self._on:
            self.recorder.resume()
        else:
            self.recorder.pause()
        self._t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        # The recorder's own on_step_end runs before this callback (registered first).
        dt = time.perf_counter() - self._t0
        if state.global_step > self.block:  # first block: warm-up
            self.times[self._on].append(dt)


def _dynamo_counts() -> dict:
    """Graph breaks (with their reasons) and compiled graphs dynamo counted during the run."""
    from torch._dynamo.utils import counters

    breaks = counters["graph_break"]
    return {
        "graph_breaks": sum(breaks.values()),
        "reasons": [f"{n} x {r.splitlines()[0][:150]}" for r, n in breaks.most_common(8)],
        "unique_graphs": counters["stats"].get("unique_graphs", 0),
        "recompiles": sum(counters["recompiles"].values()) if "recompiles" in counters else 0,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="a math_mix/ folder (see tests/fixtures/data)")
    p.add_argument("--examples", type=int, default=2000)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--vocab", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--blocks", type=int, default=60, help="blocks after warm-up (even)")
    p.add_argument("--block", type=int, default=4, help="steps per block")
    p.add_argument("--slow-path", action="store_true", help="recompute from the logits")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    p.add_argument(
        "--compile",
        action="store_true",
        help="TrainingArguments(torch_compile=True); also prints dynamo's graph breaks",
    )
    a = p.parse_args()

    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from hf_s2l import tokenize_sft
    from hf_s2l.experiments.corpora import load_math_mixture
    from hf_s2l.experiments.tiny import tiny_model, train_tokenizer
    from hf_s2l.record.in_step import InStepRecorder

    if a.threads:
        torch.set_num_threads(a.threads)
    raw = load_math_mixture(a.data, max_per_source=a.examples // 4)
    tok = train_tokenizer([r["instruction"] + " " + r["output"] for r in raw], vocab_size=a.vocab)
    ds = raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tok, "max_length": a.max_length},
        remove_columns=raw.column_names,
    )
    model = tiny_model(
        family="gpt_neox", vocab_size=len(tok), hidden_size=a.hidden, num_layers=a.layers
    )
    steps = a.block * (a.blocks + 1)
    with tempfile.TemporaryDirectory() as tmp:
        recorder = InStepRecorder(
            Path(tmp) / "in_step", materialize_every=1, fast_path=not a.slow_path
        )
        own = [0.0]  # seconds spent inside the recorder's hook and step-end work
        if not a.compile:  # dynamo would trace the timer into the graph (a graph break)
            recorder._hook = _timed(recorder._hook, own)
        recorder.on_step_end = _timed(recorder.on_step_end, own)
        timer = AlternatingTimer(recorder, a.block)
        args = TrainingArguments(
            output_dir=os.path.join(tmp, "trainer"),
            per_device_train_batch_size=a.batch,
            gradient_accumulation_steps=a.grad_accum,
            max_steps=steps,
            learning_rate=1e-3,
            logging_steps=10**6,
            save_strategy="no",
            report_to=[],
            use_cpu=True,
            disable_tqdm=True,
            seed=0,
            torch_compile=a.compile,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=ds,
            data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100),
            callbacks=[recorder, timer],
        )
        if a.compile:
            from torch._dynamo.utils import counters

            counters.clear()
        t0 = time.perf_counter()
        trainer.train()
        total = time.perf_counter() - t0
        dyn = _dynamo_counts() if a.compile else None
    on, off = timer.times[True], timer.times[False]
    med_on, med_off = statistics.median(on), statistics.median(off)
    mean_on, mean_off = statistics.fmean(on), statistics.fmean(off)
    print(
        f"data: {len(ds)} examples (max_length {a.max_length}), GPT-NeoX hidden {a.hidden} x "
        f"{a.layers} layers, vocab {len(tok)}, batch {a.batch} x grad_accum {a.grad_accum}, "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"steps timed: {len(on)} with recording, {len(off)} without ({total:.1f}s run)")
    print(f"recorder: fast path={recorder.fast_path} items={recorder.stats['items']}")
    print(f"median step  without: {med_off * 1e3:8.2f} ms   with: {med_on * 1e3:8.2f} ms")
    print(f"mean step    without: {mean_off * 1e3:8.2f} ms   with: {mean_on * 1e3:8.2f} ms")
    print(f"overhead ratio (median with / without): {med_on / med_off:.4f}")
    print(f"overhead ratio (mean with / without):   {mean_on / mean_off:.4f}")
    if dyn is not None:
        print(
            f"torch_compile: {dyn['graph_breaks']} graph breaks, {dyn['unique_graphs']} graphs "
            f"compiled in the run"
        )
        for reason in dyn["reasons"]:
            print(f"  break: {reason}")
    per_step = own[0] / max(1, recorder.stats["forwards"] // a.grad_accum)
    print(
        f"recorder's own time per recorded step: {per_step * 1e3:.3f} ms "
        f"= {per_step / med_off:.2%} of the median step without recording"
    )


if __name__ == "__main__":
    main()
