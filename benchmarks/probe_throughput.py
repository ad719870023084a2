"""Probe-pass throughput: TrajectoryCallback vs a bare batched forward vs batch size 1.

On the math mixture (``--data``), tokenized Alpaca-style (prompt masked), one run measures,
for each model of ``--models`` in turn on the same data, examples/s of

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

Models (randomly initialised, built from configs; no hub access needed):

* ``tiny``: GPT-NeoX with ``--hidden-size`` x ``--num-layers``, vocab = the BPE tokenizer's;
* ``pythia-70m`` / ``pythia-410m``: ``GPTNeoXConfig`` with exactly the published
  EleutherAI/pythia-70m(-deduped) / pythia-410m configs (70,426,624 / 405,334,016
  parameters; vocab 50,304, rotary on 25% of the head dims, parallel residual). Token ids
  come from the small BPE tokenizer trained on the data (all < 50,304), so sequence lengths
  differ from the real GPT-NeoX tokenizer's; the compute per token is the real model's.

``--device cuda --bf16`` runs the three variants on a GPU under bf16 autocast (the
callback gets ``TrainingArguments(bf16=True)``).

Usage::

    PYTHONPATH=. python benchmarks/probe_throughput.py --data DATA
    PYTHONPATH=. python benchmarks/probe_throughput.py --data DATA \
        --models tiny,pythia-70m --per-source 32 --bs1-examples 64

DATA is a folder laid out like ``tests/fixtures/data`` with the full math mixture
(``tests/fixtures/data`` itself has 200 rows per source).
"""

from __future__ import annotations

import argparse
import contextlib
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


# The published configs of EleutherAI/pythia-70m(-deduped) and pythia-410m(-deduped).
PYTHIA = {
    "pythia-70m": dict(hidden_size=512, num_hidden_layers=6, num_attention_heads=8),
    "pythia-410m": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16),
}


def pythia_model(name: str):
    """A randomly initialised GPT-NeoX with the exact config of ``name`` (see PYTHIA)."""
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    size = PYTHIA[name]
    config = GPTNeoXConfig(
        vocab_size=50304,
        intermediate_size=4 * size["hidden_size"],
        hidden_act="gelu",
        rotary_pct=0.25,
        rotary_emb_base=10000,
        max_position_embeddings=2048,
        initializer_range=0.02,
        layer_norm_eps=1e-5,
        use_parallel_residual=True,
        tie_word_embeddings=False,
        bos_token_id=0,
        eos_token_id=0,
        attention_dropout=0.0,
        hidden_dropout=0.0,
        **size,
    )
    torch.manual_seed(0)
    return GPTNeoXForCausalLM(config)


def build_model(name: str, args, vocab_size: int):
    from hf_s2l.experiments.tiny import tiny_model

    if name in PYTHIA:
        model = pythia_model(name)
    elif name == "tiny":
        model = tiny_model(
            family="gpt_neox",
            vocab_size=vocab_size,
            hidden_size=args.hidden_size,
            num_layers=args.num_layers,
            max_position_embeddings=max(512, args.max_length),
        )
    else:
        raise SystemExit(f"unknown model {name!r}: choose from tiny, {', '.join(PYTHIA)}")
    model.to(args.device).eval()
    return model


def build_data(args):
    from transformers import DataCollatorForSeq2Seq

    from hf_s2l import tokenize_sft
    from hf_s2l.experiments.corpora import load_math_mixture
    from hf_s2l.experiments.tiny import train_tokenizer

    raw = load_math_mixture(Path(args.data) / "math_mix", max_per_source=args.per_source)
    tok = train_tokenizer(
        [r["instruction"] + " " + r["output"] for r in raw], vocab_size=args.vocab_size
    )
    ds = raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tok, "max_length": args.max_length},
        remove_columns=raw.column_names,
    )
    return ds, DataCollatorForSeq2Seq(tok, padding=True), len(tok)


def autocast(device: str, bf16: bool):
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


def sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def run_callback(ds, collator, model, batch_size, workdir, device="cpu", bf16=False):
    """(a): what TrajectoryCallback does at one recording point (step-0 column)."""
    from torch.utils.data import DataLoader
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from hf_s2l import TrajectoryCallback, TrajectoryStore

    out = Path(tempfile.mkdtemp(dir=workdir))
    args = TrainingArguments(
        output_dir=str(out / "run"),
        use_cpu=torch.device(device).type == "cpu",
        bf16=bf16,
        report_to=[],
        disable_tqdm=True,
    )
    state = TrainerState()
    state.max_steps, state.global_step, state.epoch = 1, 0, 0.0
    cb = TrajectoryCallback(out / "traj", batch_size=batch_size, num_points=None)
    loader = DataLoader(ds, batch_size=8, collate_fn=collator)
    sync(device)
    t0 = time.perf_counter()
    cb.on_train_begin(args, state, TrainerControl(), model=model, train_dataloader=loader)
    sync(device)
    dt = time.perf_counter() - t0
    return dt, np.array(TrajectoryStore.open(out / "traj").losses[:, 0])


def run_bare(ds, collator, model, batch_size, device="cpu", bf16=False):
    """(b): bare batched no-grad forward over the same length-sorted batches."""
    from hf_s2l.record.probe import fetch, length_sorted_order, shard_batches

    batches = shard_batches(length_sorted_order(ds), batch_size)
    sync(device)
    t0 = time.perf_counter()
    with torch.no_grad(), autocast(device, bf16):
        for idx in batches:
            b = collator(fetch(ds, idx))
            model(
                input_ids=b["input_ids"].to(device),
                attention_mask=b["attention_mask"].to(device),
                use_cache=False,
            )
    sync(device)
    return time.perf_counter() - t0


def run_bs1(ds, model, rows, device="cpu", bf16=False):
    """(c): one forward per example with its own loss (official S2L collection)."""
    out = np.empty(len(rows))
    sync(device)
    t0 = time.perf_counter()
    with torch.no_grad(), autocast(device, bf16):
        for k, i in enumerate(rows):
            ex = ds[int(i)]
            x = torch.tensor(ex["input_ids"], device=device)[None]
            m = torch.tensor(ex["attention_mask"], device=device)[None]
            y = torch.tensor(ex["labels"], device=device)[None]
            out[k] = model(input_ids=x, attention_mask=m, labels=y, use_cache=False).loss.item()
    return time.perf_counter() - t0, out


def measure(name, ds, collator, model, rows, args, work):
    """Interleaved repetitions of (a), (b), (c) for one model; medians and the loss check."""
    n = len(ds)
    dev, bf16 = args.device, args.bf16
    run_bare(ds.select(range(min(64, n))), collator, model, args.batch_size, dev, bf16)  # warm-up
    rates = {"a": [], "b": [], "c": []}
    check = bs1 = None
    order = ["a", "b", "c"]
    for r in range(args.repeats):
        for key in order[r % 3 :] + order[: r % 3]:
            if key == "a":
                dt, check = run_callback(ds, collator, model, args.batch_size, work, dev, bf16)
                rates["a"].append(n / dt)
            elif key == "b":
                rates["b"].append(n / run_bare(ds, collator, model, args.batch_size, dev, bf16))
            else:
                dt, bs1 = run_bs1(ds, model, rows, dev, bf16)
                rates["c"].append(len(rows) / dt)
        print(
            f"[{name}] round {r + 1}: "
            + ", ".join(f"{k} {v[-1]:.1f} ex/s" for k, v in rates.items()),
            flush=True,
        )
    med = {k: statistics.median(v) for k, v in rates.items()}
    ok = np.isfinite(bs1)
    assert np.array_equal(np.isfinite(check[rows]), ok), "NaN rows differ between (a) and (c)"
    med["rel"] = float(np.max(np.abs(check[rows][ok] - bs1[ok]) / np.abs(bs1[ok])))
    med["params"] = sum(p.numel() for p in model.parameters())
    return med


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--data", required=True, help="data folder laid out like tests/fixtures/data (math_mix/)"
    )
    p.add_argument("--models", default="tiny", help="comma list: tiny, pythia-70m, pythia-410m")
    p.add_argument("--per-source", type=int, default=256, help="rows per source (4 sources)")
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--vocab-size", type=int, default=512, help="of the BPE tokenizer")
    p.add_argument("--hidden-size", type=int, default=32, help="tiny model")
    p.add_argument("--num-layers", type=int, default=2, help="tiny model")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--bs1-examples", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for all three variants")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    import transformers
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("hf_s2l").setLevel(logging.ERROR)  # no-Trainer / NaN-row notices
    ds, collator, vocab = build_data(args)
    n = len(ds)
    rows = np.random.default_rng(0).permutation(n)[: min(args.bs1_examples, n)]
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.machine()
    print(
        f"N={n} examples (math mixture, max_length {args.max_length}, "
        f"mean {np.mean([len(x) for x in ds['input_ids']]):.0f} tokens), BPE vocab {vocab}, "
        f"probe batch {args.batch_size}, (c) on {len(rows)} rows, {args.threads} thread(s), "
        f"{args.device} ({device}), {'bf16 autocast' if args.bf16 else 'fp32'}, torch "
        f"{torch.__version__}, transformers {transformers.__version__}, "
        f"Python {platform.python_version()}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as work:
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            model = build_model(name, args, vocab)
            results[name] = measure(name, ds, collator, model, rows, args, work)
            del model
    print()
    print(
        "| model | params | (a) probe ex/s | (b) bare ex/s | (c) bs-1 ex/s | (a)/(b) | (a)/(c) | max rel. diff (a) vs (c) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, m in results.items():
        print(
            f"| {name} | {m['params'] / 1e6:.2f}M | {m['a']:.1f} | {m['b']:.1f} | {m['c']:.1f} | "
            f"{m['a'] / m['b']:.2f} | {m['a'] / m['c']:.2f} | {m['rel']:.1e} |"
        )


if __name__ == "__main__":
    main()
