"""Device check: one command that says what hf-s2l costs and finds on one accelerator.

Three parts, on the math mixture of ``--data`` (default: the committed
``tests/fixtures/data``, 200 rows per source):

1. **Probe throughput** at Pythia-70M and Pythia-410M shapes (``GPTNeoXConfig`` with their
   published dims, random weights; bf16 autocast on a GPU): examples/s of (a) the
   callback's probe pass, (b) a bare batched no-grad forward, (c) one forward per example
   (batch size 1, the official S2L collection) — ``benchmarks/probe_throughput.py``'s code.
2. **In-step overhead**: step time of a Trainer run with the in-step recorder switched on
   and off in alternating blocks (``benchmarks/in_step_overhead.py``'s timer), Pythia-70M
   shape.
3. **Transfer** (``hf_s2l.transfer``): a Pythia-70M-shaped proxy and a Pythia-410M-shaped
   target, both trained from scratch on the same rows with ``TrajectoryCallback(mode=
   "both", id_column="example_id")``; the figures for proxy -> target on the probe stores
   and on the free in-step stores, for a second proxy (another seed) -> the proxy (the
   ceiling) and for proxy -> a row-shuffled copy of the target store (the floor). Both
   models are well over 10x the CPU data-efficiency benchmark's proxy and target.

``--tiny`` runs everything at toy size on CPU in well under a minute (the test suite
does). Writes ``--out`` (JSON, the device named) and prints a table.

    PYTHONPATH=. python benchmarks/device_check.py                    # GPU, <= 8 min
    PYTHONPATH=. python benchmarks/device_check.py --tiny --out /tmp/device_check.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


pt = _load("probe_throughput")
iso = _load("in_step_overhead")

#: The CPU data-efficiency benchmark's proxy and target (benchmarks/_data_efficiency).
CPU_BENCH = {
    "proxy": {"hidden_size": 16, "num_layers": 2, "num_heads": 2},
    "target": {"hidden_size": 64, "num_layers": 2, "num_heads": 4},
    "vocab_size": 1024,
}

FULL = dict(
    models=("pythia-70m", "pythia-410m"),
    per_source=200,
    max_length=256,
    batch_size=32,
    bs1_examples=128,
    repeats=3,
    overhead_model="pythia-70m",
    overhead_blocks=10,
    overhead_block=4,
    proxy="pythia-70m",
    target="pythia-410m",
    epochs=3,
    train_batch=16,
    learning_rate=3e-4,
    k=None,  # S2L's default (100)
)
TINY = dict(
    models=("tiny",),
    per_source=8,
    max_length=256,
    batch_size=8,
    bs1_examples=8,
    repeats=1,
    overhead_model="tiny",
    overhead_blocks=2,
    overhead_block=2,
    proxy={"hidden_size": 16, "num_layers": 1, "num_heads": 2},
    target={"hidden_size": 32, "num_layers": 2, "num_heads": 2},
    epochs=2,
    train_batch=8,
    learning_rate=3e-3,
    k=4,
)


def _params(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        return torch.cuda.get_device_name()
    return f"CPU ({platform.machine()}, {platform.processor() or 'unknown'})"


def make_model(spec: Any, vocab: int, seed: int = 0):
    """A Pythia-shaped model by name, or a tiny GPT-NeoX from a dims dict."""
    from hf_s2l.experiments.tiny import tiny_model

    if isinstance(spec, str) and spec in pt.PYTHIA:
        model = pt.pythia_model(spec)  # seeds 0 itself
        if seed:
            torch.manual_seed(seed)
            model = type(model)(model.config)
        return model
    dims = dict(spec) if isinstance(spec, dict) else {"hidden_size": 16, "num_layers": 1}
    return tiny_model(
        family="gpt_neox",
        vocab_size=vocab,
        hidden_size=dims["hidden_size"],
        num_layers=dims["num_layers"],
        num_heads=dims.get("num_heads", 2),
        max_position_embeddings=512,
        seed=seed,
    )


def cpu_bench_params() -> dict[str, int]:
    from hf_s2l.experiments.tiny import tiny_model

    return {
        role: _params(
            tiny_model(
                family="gpt_neox",
                vocab_size=CPU_BENCH["vocab_size"],
                hidden_size=CPU_BENCH[role]["hidden_size"],
                num_layers=CPU_BENCH[role]["num_layers"],
                num_heads=CPU_BENCH[role]["num_heads"],
            )
        )
        for role in ("proxy", "target")
    }


def load_data(data: Path, cfg: dict):
    """Raw rows with ids, the tokenizer, and the tokenized rows (ids kept)."""
    import hf_s2l
    from hf_s2l import tokenize_sft
    from hf_s2l.experiments.corpora import load_math_mixture
    from hf_s2l.experiments.tiny import train_tokenizer

    raw = load_math_mixture(data / "math_mix", max_per_source=cfg["per_source"])
    raw = hf_s2l.add_example_ids(raw)
    tok = train_tokenizer([r["instruction"] + " " + r["output"] for r in raw], vocab_size=512)
    ds = raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tok, "max_length": cfg["max_length"]},
        remove_columns=["instruction", "output", "source"],
    )
    return tok, ds


def throughput(tok, ds, cfg: dict, device: str, bf16: bool, work: str) -> dict[str, Any]:
    """Part 1: probe_throughput.measure for each model shape."""
    from transformers import DataCollatorForSeq2Seq

    plain = ds.remove_columns(["example_id"])
    collator = DataCollatorForSeq2Seq(tok, padding=True)
    rows = np.random.default_rng(0).permutation(len(plain))[: cfg["bs1_examples"]]
    args = SimpleNamespace(
        device=device, bf16=bf16, batch_size=cfg["batch_size"], repeats=cfg["repeats"]
    )
    out = {}
    for name in cfg["models"]:
        model = make_model(name, len(tok)).to(device).eval()
        m = pt.measure(name, plain, collator, model, rows, args, work)
        out[name] = {
            "params": int(m["params"]),
            "probe_ex_per_s": m["a"],
            "bare_forward_ex_per_s": m["b"],
            "batch_size_1_ex_per_s": m["c"],
            "probe_vs_bare": m["a"] / m["b"],
            "probe_vs_batch_size_1": m["a"] / m["c"],
            "max_rel_diff_probe_vs_bs1": m["rel"],
        }
        del model
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
    return out


def _training_args(out: Path, cfg: dict, device: str, bf16: bool, **kw):
    from transformers import TrainingArguments

    base = dict(
        output_dir=str(out),
        per_device_train_batch_size=cfg["train_batch"],
        learning_rate=cfg["learning_rate"],
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=not device.startswith("cuda"),
        bf16=bf16,
        logging_steps=10**6,
        seed=0,
        dataloader_num_workers=0,
    )
    base.update(kw)
    return TrainingArguments(**base)


def in_step_overhead(tok, ds, cfg: dict, device: str, bf16: bool, work: str) -> dict[str, Any]:
    """Part 2: step time with the in-step recorder on vs off (alternating blocks)."""
    from transformers import DataCollatorForSeq2Seq, Trainer

    from hf_s2l.record.in_step import InStepRecorder

    block, blocks = cfg["overhead_block"], cfg["overhead_blocks"]
    plain = ds.remove_columns(["example_id"])
    model = make_model(cfg["overhead_model"], len(tok))
    recorder = InStepRecorder(Path(work) / "overhead-in-step", materialize_every=1)
    timer = iso.AlternatingTimer(recorder, block)
    trainer = Trainer(
        model=model,
        args=_training_args(
            Path(work) / "overhead", cfg, device, bf16, max_steps=block * (blocks + 1)
        ),
        train_dataset=plain,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100),
        callbacks=[recorder, timer],
    )
    trainer.train()
    on, off = timer.times[True], timer.times[False]
    med_on, med_off = statistics.median(on), statistics.median(off)
    return {
        "model": cfg["overhead_model"] if isinstance(cfg["overhead_model"], str) else "tiny",
        "params": _params(model),
        "steps_with": len(on),
        "steps_without": len(off),
        "median_step_ms_with": med_on * 1e3,
        "median_step_ms_without": med_off * 1e3,
        "overhead_ratio": med_on / med_off,
        "fast_path": bool(recorder.fast_path),
    }


def _train(
    out: Path, spec: Any, tok, ds, cfg: dict, device: str, bf16: bool, seed: int
) -> tuple[Path, int]:
    from transformers import DataCollatorForSeq2Seq, Trainer

    from hf_s2l import TrajectoryCallback

    model = make_model(spec, len(tok), seed=seed)
    Trainer(
        model=model,
        args=_training_args(
            out / "run", cfg, device, bf16, num_train_epochs=cfg["epochs"], seed=seed
        ),
        train_dataset=ds,
        data_collator=DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100),
        callbacks=[
            TrajectoryCallback(out / "store", mode="both", id_column="example_id", num_points=4)
        ],
    ).train()
    params = _params(model)
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return out / "store", params


def _shuffled_copy(src: Path, dst: Path, seed: int = 0) -> Path:
    """The target store with its example ids permuted: same losses, rows unrelated."""
    from hf_s2l.store import TrajectoryStore

    s = TrajectoryStore.open(src)
    ids = np.random.default_rng(seed).permutation(s.example_ids)
    with TrajectoryStore.create(dst, s.num_examples, example_ids=ids, mode=s.mode) as d:
        for c in s.complete_columns():
            info = s.columns[int(c)]
            extra = {
                k: v
                for k, v in info.items()
                if k not in ("global_step", "epoch", "kind", "wall_time", "complete")
            }
            col = d.add_column(info["global_step"], info["epoch"], kind=info["kind"], **extra)
            d.write(col, np.arange(s.num_examples), np.asarray(s.column_values(int(c))))
            d.mark_complete(col)
    return dst


def transfer_figures(tok, ds, cfg: dict, device: str, bf16: bool, work: str) -> dict[str, Any]:
    """Part 3: hf_s2l.transfer for proxy -> target, ceiling and floor."""
    import hf_s2l

    w = Path(work)
    t0 = time.perf_counter()
    proxy, proxy_params = _train(w / "proxy", cfg["proxy"], tok, ds, cfg, device, bf16, seed=0)
    proxy2, _ = _train(w / "proxy2", cfg["proxy"], tok, ds, cfg, device, bf16, seed=1)
    target, target_params = _train(w / "target", cfg["target"], tok, ds, cfg, device, bf16, seed=0)
    train_s = time.perf_counter() - t0
    floor = _shuffled_copy(target, w / "target-shuffled")
    k = cfg["k"]
    pairs = {
        "proxy_to_target": (proxy, target),
        "proxy_to_target_in_step": (proxy / "in_step", target / "in_step"),
        "ceiling_proxy_seed1_to_proxy": (proxy2, proxy),
        "floor_proxy_to_shuffled_target": (proxy, floor),
    }
    out: dict[str, Any] = {
        "proxy": cfg["proxy"] if isinstance(cfg["proxy"], str) else "tiny",
        "target": cfg["target"] if isinstance(cfg["target"], str) else "tiny",
        "proxy_params": proxy_params,
        "target_params": target_params,
        "rows": len(ds),
        "epochs": cfg["epochs"],
        "training_seconds": round(train_s, 1),
    }
    for name, (p, t) in pairs.items():
        r = hf_s2l.transfer(p, t, k=k, seed=0).to_dict()
        out[name] = {
            key: r[key]
            for key in (*importlib.import_module("hf_s2l.transfer_check").NUMERIC_KEYS, "verdict")
        }
    return out


def print_table(res: dict[str, Any]) -> None:
    print(f"\ndevice: {res['device']} ({res['device_type']}, {res['precision']})")
    print(
        "\n| model | params | probe ex/s | bare forward ex/s | bs-1 ex/s | probe/bare | probe/bs-1 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, m in res["throughput"].items():
        print(
            f"| {name} | {m['params'] / 1e6:.2f}M | {m['probe_ex_per_s']:.1f} | "
            f"{m['bare_forward_ex_per_s']:.1f} | {m['batch_size_1_ex_per_s']:.1f} | "
            f"{m['probe_vs_bare']:.2f} | {m['probe_vs_batch_size_1']:.2f} |"
        )
    o = res["in_step_overhead"]
    print(
        f"\nin-step overhead ({o['model']}, {o['params'] / 1e6:.2f}M): median step "
        f"{o['median_step_ms_without']:.2f} ms without, {o['median_step_ms_with']:.2f} ms with "
        f"recording: ratio {o['overhead_ratio']:.3f}"
    )
    t = res["transfer"]
    print(
        f"\ntransfer: proxy {t['proxy']} ({t['proxy_params'] / 1e6:.2f}M) -> target "
        f"{t['target']} ({t['target_params'] / 1e6:.2f}M), {t['rows']} rows, {t['epochs']} epochs "
        f"(CPU benchmark: {res['cpu_benchmark_params']['proxy'] / 1e6:.3f}M -> "
        f"{res['cpu_benchmark_params']['target'] / 1e6:.3f}M)"
    )
    print("| pair | spearman | var. explained | random | LP hardest overlap | k |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, r in t.items():
        if not isinstance(r, dict):
            continue

        def f(v):
            return "-" if v is None else f"{v:.3f}"

        print(
            f"| {name} | {f(r['spearman'])} | {f(r['variance_explained'])} | "
            f"{f(r['variance_explained_random'])} | {f(r['lp_hardest_overlap'])} | {r['k']} |"
        )
    print(f"\n{res['seconds']:.0f}s in all")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", default=str(REPO / "tests" / "fixtures" / "data"))
    p.add_argument("--out", default="device_check.json", help="JSON results file")
    p.add_argument("--tiny", action="store_true", help="toy sizes on CPU (the test suite)")
    p.add_argument("--device", default=None, help="cuda or cpu (default: cuda if available)")
    p.add_argument("--threads", type=int, default=0, help="CPU torch threads (0: default)")
    a = p.parse_args(argv)
    device = a.device or ("cuda" if torch.cuda.is_available() and not a.tiny else "cpu")
    bf16 = device.startswith("cuda")
    cfg = TINY if a.tiny else FULL
    if a.threads:
        torch.set_num_threads(a.threads)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("hf_s2l").setLevel(logging.ERROR)
    os.environ.setdefault("WANDB_DISABLED", "true")
    import transformers

    t0 = time.perf_counter()
    tok, ds = load_data(Path(a.data), cfg)
    res: dict[str, Any] = {
        "device": _device_name(device),
        "device_type": device,
        "precision": "bf16 autocast / bf16 training" if bf16 else "fp32",
        "tiny": bool(a.tiny),
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
        },
        "cpu_benchmark_params": cpu_bench_params(),
        "rows": len(ds),
    }
    with tempfile.TemporaryDirectory() as work:
        res["throughput"] = throughput(tok, ds, cfg, device, bf16, work)
        res["in_step_overhead"] = in_step_overhead(tok, ds, cfg, device, bf16, work)
        res["transfer"] = transfer_figures(tok, ds, cfg, device, bf16, work)
    res["seconds"] = round(time.perf_counter() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    print_table(res)
    print(f"results: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
