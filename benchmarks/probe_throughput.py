"""Probe-pass throughput: TrajectoryCallback vs a bare batched forward vs batch size 1.

On the math mixture (``--data``), tokenized Alpaca-style (prompt masked), a tiny GPT-NeoX on CPU,
one run measures examples/s of

(a) the callback's probe pass: ``TrajectoryCallback.on_train_begin`` recording the step-0
    column (length-sorted batches, the collator, per-example loss, store writes, RNG/mode
    guards, summary logging) — everything the callback does at a recording point;
(b) a bare no-grad batched forward over the same length-sorted batches with the same batch
    size and collator (no loss, no writes): the limit for (a);
(c) one ``model(input_ids=x[None], attention_mask=m[None], labels=y[None]).loss`` per
    example, as the official S2L code collects trajectories.

Repetitions are interleaved (a, b, c, a, b, c, ...) with the order rotated each round, so
background load hits all three alike; the median rate is reported. (c) runs on the first
``--bs1-examples`` rows of a shuffled copy (its rate does not depend on N). The script also
checks that (a)'s losses equal (c)'s on those rows.

Usage::

    PYTHONPATH=. python benchmarks/probe_throughput.py --data DATA

DATA is a folder laid out like ``tests/fixtures/data`` with the full math mixture
(``tests/fixtures/data`` itself has 200 rows per source).
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def build(args):
    from transformers import DataCollatorForSeq2Seq

    from hf_s2l.corpora import load_math_mixture, tokenize_sft
    from hf_s2l.tiny import tiny_model, train_tokenizer

    raw = load_math_mixture(Path(args.data) / "math_mix", max_per_source=args.per_source)
    tok = train_tokenizer(
        [r["instruction"] + " " + r["output"] for r in raw], vocab_size=args.vocab_size
    )
    ds = raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tok, "max_length": args.max_length},
        remove_columns=raw.column_names,
    )
    model = tiny_model(
        family="gpt_neox",
        vocab_size=len(tok),
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        max_position_embeddings=max(512, args.max_length),
    )
    model.eval()
    return ds, DataCollatorForSeq2Seq(tok, padding=True), model


def run_callback(ds, collator, model, batch_size, workdir):
    """(a): what TrajectoryCallback does at one recording point (step-0 column)."""
    from torch.utils.data import DataLoader
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from hf_s2l import TrajectoryCallback, TrajectoryStore

    out = Path(tempfile.mkdtemp(dir=workdir))
    args = TrainingArguments(
        output_dir=str(out / "run"), use_cpu=True, report_to=[], disable_tqdm=True
    )
    state = TrainerState()
    state.max_steps, state.global_step, state.epoch = 1, 0, 0.0
    cb = TrajectoryCallback(out / "traj", batch_size=batch_size, num_points=None)
    loader = DataLoader(ds, batch_size=8, collate_fn=collator)
    t0 = time.perf_counter()
    cb.on_train_begin(args, state, TrainerControl(), model=model, train_dataloader=loader)
    dt = time.perf_counter() - t0
    return dt, np.array(TrajectoryStore.open(out / "traj").losses[:, 0])


def run_bare(ds, collator, model, batch_size):
    """(b): bare batched no-grad forward over the same length-sorted batches."""
    from hf_s2l.record.probe import fetch, length_sorted_order, shard_batches

    batches = shard_batches(length_sorted_order(ds), batch_size)
    t0 = time.perf_counter()
    with torch.no_grad():
        for idx in batches:
            b = collator(fetch(ds, idx))
            model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], use_cache=False)
    return time.perf_counter() - t0


def run_bs1(ds, model, rows):
    """(c): one forward per example with its own loss (official S2L collection)."""
    out = np.empty(len(rows))
    t0 = time.perf_counter()
    with torch.no_grad():
        for k, i in enumerate(rows):
            ex = ds[int(i)]
            x = torch.tensor(ex["input_ids"])[None]
            m = torch.tensor(ex["attention_mask"])[None]
            y = torch.tensor(ex["labels"])[None]
            out[k] = model(input_ids=x, attention_mask=m, labels=y, use_cache=False).loss.item()
    return time.perf_counter() - t0, out


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--data", required=True, help="data folder laid out like tests/fixtures/data (math_mix/)"
    )
    p.add_argument("--per-source", type=int, default=256, help="rows per source (4 sources)")
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--vocab-size", type=int, default=512)
    p.add_argument("--hidden-size", type=int, default=32)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--bs1-examples", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    import transformers
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("hf_s2l").setLevel(logging.ERROR)  # no-Trainer / NaN-row notices
    ds, collator, model = build(args)
    n = len(ds)
    rows = np.random.default_rng(0).permutation(n)[: min(args.bs1_examples, n)]
    print(
        f"N={n} examples (math mixture, max_length {args.max_length}, "
        f"mean {np.mean([len(x) for x in ds['input_ids']]):.0f} tokens), GPT-NeoX hidden "
        f"{args.hidden_size} x {args.num_layers} layers, vocab {args.vocab_size}, probe batch "
        f"{args.batch_size}, {args.threads} thread(s), torch {torch.__version__}, transformers "
        f"{transformers.__version__}, {platform.machine()} {platform.python_version()}"
    )
    # warm-up (allocator, lazy init)
    run_bare(ds.select(range(min(64, n))), collator, model, args.batch_size)
    rates = {"a": [], "b": [], "c": []}
    check = None
    with tempfile.TemporaryDirectory() as work:
        order = ["a", "b", "c"]
        for r in range(args.repeats):
            for name in order[r % 3 :] + order[: r % 3]:
                if name == "a":
                    dt, losses = run_callback(ds, collator, model, args.batch_size, work)
                    rates["a"].append(n / dt)
                    check = losses
                elif name == "b":
                    rates["b"].append(n / run_bare(ds, collator, model, args.batch_size))
                else:
                    dt, bs1 = run_bs1(ds, model, rows)
                    rates["c"].append(len(rows) / dt)
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} ex/s" for k, v in rates.items()))
    med = {k: statistics.median(v) for k, v in rates.items()}
    ok = np.isfinite(bs1)
    assert np.array_equal(np.isfinite(check[rows]), ok), "NaN rows differ between (a) and (c)"
    rel = np.max(np.abs(check[rows][ok] - bs1[ok]) / np.abs(bs1[ok]))
    print(f"(a) TrajectoryCallback probe pass : {med['a']:8.1f} examples/s")
    print(f"(b) bare batched no-grad forward  : {med['b']:8.1f} examples/s")
    print(f"(c) batch size 1 (official S2L)    : {med['c']:8.1f} examples/s")
    print(f"(a)/(b) = {med['a'] / med['b']:.2f}  (target >= 0.9)")
    print(f"(a)/(c) = {med['a'] / med['c']:.2f}  (target >= 5)")
    print(f"max rel. diff of (a) vs (c) losses on {ok.sum()} rows with targets: {rel:.1e}")


if __name__ == "__main__":
    main()
