"""Data-efficiency benchmark: does selecting with a tiny proxy's loss trajectories help a target?

On a whole local copy of the math mixture (GSM8K train, MAWPS, ASDiv-A, AQuA-RAT; ~11K rows):

1. a byte-level BPE tokenizer and a tiny GPT-NeoX *proxy* are trained from scratch; the
   proxy trains ``--epochs`` epochs with ``hf_s2l.TrajectoryCallback`` (step 0, 12 evenly
   spaced points, every epoch end);
2. ``hf_s2l.select`` picks 10%, 30% and 50% of the rows with random, S2L (stratified by
   source), LP(1), least confidence and middle perplexity, for seeds 0, 1, 2;
3. a larger tiny GPT-NeoX *target* (>= 4x the proxy's parameters), initialised with the
   run's seed, trains the same number of epochs on every subset (``hf_s2l.SelectedDataset``)
   and on the full data;
4. every target is scored by its answer-token loss (mean cross-entropy over the response
   tokens, prompt masked): GSM8K test (held out; response = the worked solution, as in
   training) and NumGLUE, SimulEq, DeepMind Mathematics (question -> "The answer is X.").

Results go to ``--out`` (``runs.jsonl`` one line per target run, so an interrupted run
resumes; ``results.json``; ``data_efficiency.png``) and, with ``--write-docs``, into the
"Data efficiency" section of ``docs/benchmarks.md`` (table: mean ± std over seeds).

Usage::

    python benchmarks/data_efficiency.py --data DATA --write-docs   # full (CPU)
    python benchmarks/data_efficiency.py --smoke                    # CI-sized

DATA is a folder laid out like ``tests/fixtures/data`` (``math_mix/`` with the full GSM8K,
MAWPS, ASDiv-A and AQuA-RAT files, ``math_eval/``; sources in that folder's README);
``--smoke`` defaults to the committed slices in ``tests/fixtures/data``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
EVAL_SETS = ("gsm8k", "numglue", "simuleq", "deepmind")
METHODS = ("random", "s2l", "lp", "least_confidence", "middle_perplexity")
LABELS = {
    "random": "Random",
    "s2l": "S2L (by source)",
    "lp": "LP(1)",
    "least_confidence": "Least confidence",
    "middle_perplexity": "Middle perplexity",
    "full": "Full data",
}
DOCS_START = "<!-- data-efficiency:start -->"
DOCS_END = "<!-- data-efficiency:end -->"


@dataclass
class BenchConfig:
    """Sizes of one benchmark configuration (defaults: the full CPU run)."""

    fraction: float = 1.0  # random share of the mixture used (1.0 = all ~11K rows), see docs
    max_per_source: int | None = None  # smoke only: first rows of each source
    eval_rows: int = 200
    budgets: tuple[float, ...] = (0.1, 0.3, 0.5)
    seeds: tuple[int, ...] = (0, 1, 2)
    methods: tuple[str, ...] = METHODS
    vocab_size: int = 2048
    max_length: int = 256
    epochs: int = 1
    proxy_epochs: int = 2  # LP(1) needs two epoch ends
    num_points: int = 12
    proxy: dict[str, int] = field(
        default_factory=lambda: {"hidden_size": 32, "num_layers": 2, "num_heads": 2}
    )
    target: dict[str, int] = field(
        default_factory=lambda: {"hidden_size": 96, "num_layers": 3, "num_heads": 4}
    )
    batch_size: int = 16
    proxy_lr: float = 3e-3
    target_lr: float = 3e-3
    s2l_num_clusters: int = 20  # per source; the paper's 100 is for 262K rows
    threads: int = 2

    @classmethod
    def smoke(cls) -> BenchConfig:
        return cls(
            fraction=1.0,
            max_per_source=40,
            eval_rows=24,
            budgets=(0.3,),
            seeds=(0,),
            vocab_size=1024,
            num_points=4,
            proxy={"hidden_size": 32, "num_layers": 1, "num_heads": 2},
            target={"hidden_size": 64, "num_layers": 2, "num_heads": 4},
            epochs=1,
            batch_size=16,
            s2l_num_clusters=4,
        )


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _eval_sets(data: Path, rows: int, seed: int = 1234) -> dict[str, list[dict[str, str]]]:
    """``{name: [{"instruction", "output"}]}``: ``rows`` random rows of each evaluation set."""
    from hf_s2l.corpora import load_math_eval
    from hf_s2l.corpora.math import _gsm8k_rows

    rng = np.random.default_rng(seed)
    out: dict[str, list[dict[str, str]]] = {}
    for name in EVAL_SETS:
        if name == "gsm8k":
            # formatted exactly like the training rows (worked solution, "The answer is N.")
            full = _gsm8k_rows(data / "math_mix" / "gsm8k" / "test.jsonl")
            full = [{"instruction": r["instruction"], "output": r["output"]} for r in full]
        else:
            ds = load_math_eval(data, name)
            full = [
                {"instruction": q, "output": f"The answer is {a}."}
                for q, a in zip(ds["question"], ds["answer"])
            ]
        pick = np.sort(rng.choice(len(full), size=min(rows, len(full)), replace=False))
        out[name] = [full[int(i)] for i in pick]
    return out


def _num_params(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _args(cfg: BenchConfig, out: Path, lr: float, seed: int) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(out),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=lr,
        lr_scheduler_type="linear",
        warmup_steps=0,
        weight_decay=0.0,
        seed=seed,
        data_seed=seed,
        train_sampling_strategy="group_by_length",
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )


def run(cfg: BenchConfig, data: Path, out: Path) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq, Trainer, set_seed
    from transformers.utils import logging as hf_logging

    import hf_s2l
    from hf_s2l.corpora import load_math_mixture, tokenize_sft
    from hf_s2l.demo.heldout import answer_token_loss
    from hf_s2l.tiny import tiny_model, train_tokenizer

    hf_logging.set_verbosity_error()
    torch.set_num_threads(cfg.threads)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()

    raw = load_math_mixture(data / "math_mix", max_per_source=cfg.max_per_source)
    total_rows = len(raw)
    if cfg.fraction < 1.0:
        keep = np.random.default_rng(0).choice(
            total_rows, int(round(cfg.fraction * total_rows)), replace=False
        )
        raw = raw.select(np.sort(keep))
    sources = list(raw["source"])
    evals_raw = _eval_sets(data, cfg.eval_rows)
    _log(
        f"mixture: {len(raw)} rows {dict(Counter(sources))}; eval rows: "
        f"{ {k: len(v) for k, v in evals_raw.items()} }"
    )

    tok_dir = out / "tokenizer"
    tokenizer = train_tokenizer(
        (r["instruction"] + " " + r["output"] for r in raw),
        vocab_size=cfg.vocab_size,
        save_dir=tok_dir,
        model_max_length=100_000,
    )
    kw = {"tokenizer": tokenizer, "max_length": cfg.max_length}
    train_ds = raw.map(tokenize_sft, fn_kwargs=kw, remove_columns=["instruction", "output"])
    evals = {
        k: Dataset.from_list(v).map(
            tokenize_sft, fn_kwargs=kw, remove_columns=["instruction", "output"]
        )
        for k, v in evals_raw.items()
    }
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    mean_len = float(np.mean([len(x) for x in train_ds["input_ids"]]))

    # ---- proxy + trajectories (once; reused when the store is complete)
    store_dir = out / "proxy" / "trajectories"
    proxy_meta_path = out / "proxy" / "proxy.json"
    if proxy_meta_path.exists():
        proxy_meta = json.loads(proxy_meta_path.read_text())
        _log(f"reusing proxy trajectories in {store_dir}")
    else:
        shutil.rmtree(out / "proxy", ignore_errors=True)
        set_seed(0)
        proxy = tiny_model(
            family="gpt_neox",
            vocab_size=len(tokenizer),
            max_position_embeddings=cfg.max_length,
            seed=0,
            **cfg.proxy,
        )
        _log(f"proxy: {_num_params(proxy) / 1e6:.3f}M parameters, {cfg.proxy_epochs} epochs")
        cb = hf_s2l.TrajectoryCallback(
            store_dir,
            schedule=hf_s2l.RecordingSchedule(
                at_train_begin=True, at_epoch_end=True, num_points=cfg.num_points
            ),
            batch_size=64,
            metadata_columns=("source",),
            log_to_trainer=False,
        )
        t0 = time.perf_counter()
        proxy_epochs = cfg.proxy_epochs
        args = _args(cfg, out / "proxy" / "run", cfg.proxy_lr, 0)
        args.num_train_epochs = proxy_epochs
        Trainer(
            model=proxy, args=args, train_dataset=train_ds, data_collator=collator, callbacks=[cb]
        ).train()
        proxy_meta = {
            "parameters": _num_params(proxy),
            "epochs": proxy_epochs,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        proxy_meta["heldout"] = {
            k: round(
                answer_token_loss(
                    proxy, ds, pad_token_id=tokenizer.pad_token_id, disable_progress=True
                )["loss"],
                4,
            )
            for k, ds in evals.items()
        }
        proxy_meta_path.write_text(json.dumps(proxy_meta, indent=2))
        shutil.rmtree(out / "proxy" / "run", ignore_errors=True)
        _log(f"proxy done in {proxy_meta['seconds']} s; held-out {proxy_meta['heldout']}")
    store = hf_s2l.TrajectoryStore.open(store_dir)

    # ---- target runs (resumable)
    runs_path = out / "runs.jsonl"
    done: dict[tuple[str, float, int], dict[str, Any]] = {}
    if runs_path.exists():
        for line in runs_path.read_text().splitlines():
            r = json.loads(line)
            done[(r["method"], r["budget"], r["seed"])] = r
    # seed-major order: an interrupted run still has every method for the first seeds
    plan = [(m, b, s) for s in cfg.seeds for b in (*cfg.budgets, 1.0) for m in cfg.methods]
    plan = [(m if b < 1.0 else "full", b, s) for m, b, s in plan]
    plan = list(dict.fromkeys(plan))
    target_params = None
    failures: list[dict[str, Any]] = []
    for i, (method, budget, seed) in enumerate(plan, 1):
        if (method, budget, seed) in done:
            continue
        t0 = time.perf_counter()
        if method == "full":
            ds, sel_info = train_ds, {}
        else:
            params: dict[str, Any] = (
                {"by_column": "source", "num_clusters": cfg.s2l_num_clusters}
                if method == "s2l"
                else {}
            )
            try:
                sel = hf_s2l.select(store, method, budget, seed=seed, **params)
            except Exception as e:  # recorded, not fatal: a rerun fills the gap once fixed
                _log(f"[{i}/{len(plan)}] {method} {budget:.0%} seed {seed}: selection FAILED: {e}")
                failures.append({"method": method, "budget": budget, "seed": seed, "error": str(e)})
                continue
            ds = hf_s2l.SelectedDataset(train_ds, sel)
            sel_info = {"per_source": dict(Counter(sources[j] for j in sel.indices))}
        t_sel = time.perf_counter() - t0
        set_seed(seed)
        target = tiny_model(
            family="gpt_neox",
            vocab_size=len(tokenizer),
            max_position_embeddings=cfg.max_length,
            seed=1000 + seed,
            **cfg.target,
        )
        target_params = _num_params(target)
        t1 = time.perf_counter()
        Trainer(
            model=target,
            args=_args(cfg, out / "tmp_run", cfg.target_lr, seed),
            train_dataset=ds,
            data_collator=collator,
        ).train()
        t_train = time.perf_counter() - t1
        losses = {
            k: answer_token_loss(
                target, eds, pad_token_id=tokenizer.pad_token_id, disable_progress=True
            )["loss"]
            for k, eds in evals.items()
        }
        rec = {
            "method": method,
            "budget": budget,
            "seed": seed,
            "examples": len(ds),
            "loss": {k: round(v, 5) for k, v in losses.items()},
            "select_seconds": round(t_sel, 2),
            "train_seconds": round(t_train, 1),
            "seconds": round(time.perf_counter() - t0, 1),
            **sel_info,
        }
        with open(runs_path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        done[(method, budget, seed)] = rec
        shutil.rmtree(out / "tmp_run", ignore_errors=True)
        _log(
            f"[{i}/{len(plan)}] {method:18s} {budget:4.0%} seed {seed}: n={len(ds):5d} "
            f"gsm8k {losses['gsm8k']:.4f} ({rec['seconds']:.0f} s)"
        )

    if target_params is None:  # every run resumed from runs.jsonl: count once
        target_params = _num_params(
            tiny_model(
                family="gpt_neox",
                vocab_size=len(tokenizer),
                max_position_embeddings=cfg.max_length,
                **cfg.target,
            )
        )
    results = {
        "config": asdict(cfg),
        "failures": failures,
        "data": {
            "mixture_rows": total_rows,
            "train_rows": len(raw),
            "sources": dict(sorted(Counter(sources).items())),
            "mean_tokens": round(mean_len, 1),
            "eval_rows": {k: len(v) for k, v in evals.items()},
        },
        "proxy": proxy_meta,
        "target": {"parameters": target_params, "epochs": cfg.epochs},
        "runs": [done[k] for k in plan if k in done],
        "seconds": round(time.perf_counter() - t_all, 1),
        "machine": {
            "cpu_count": os.cpu_count(),
            "torch_threads": cfg.threads,
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return results


def summarize(results: dict[str, Any]) -> dict[tuple[str, float], dict[str, tuple[float, float]]]:
    """``{(method, budget): {eval_set: (mean, std over seeds)}}`` (population std, ddof=0)."""
    groups: dict[tuple[str, float], list[dict[str, float]]] = {}
    for r in results["runs"]:
        groups.setdefault((r["method"], r["budget"]), []).append(r["loss"])
    out = {}
    for key, losses in groups.items():
        out[key] = {
            k: (float(np.mean([x[k] for x in losses])), float(np.std([x[k] for x in losses])))
            for k in EVAL_SETS
        }
        out[key]["n"] = (len(losses), 0.0)
    return out


def markdown_table(results: dict[str, Any]) -> str:
    summ = summarize(results)
    budgets = sorted({b for (_, b) in summ if b < 1.0})
    methods = [m for m in (*METHODS, "full") if any(k[0] == m for k in summ)]
    lines = [
        "| budget | method | GSM8K test (held out) | NumGLUE | SimulEq | DeepMind | mean of 4 "
        "| GSM8K rows in subset |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    full_share = results["data"]["sources"].get("gsm8k", 0) / max(results["data"]["train_rows"], 1)
    shares: dict[tuple[str, float], list[float]] = {}
    for r in results["runs"]:
        share = r["per_source"].get("gsm8k", 0) / r["examples"] if "per_source" in r else full_share
        shares.setdefault((r["method"], r["budget"]), []).append(share)
    for b in [*budgets, 1.0]:
        rows = [(m, summ[(m, b)]) for m in methods if (m, b) in summ]
        if not rows:
            continue
        best = min(r[1]["gsm8k"][0] for r in rows)
        for m, s in rows:
            mean4 = np.mean([s[k][0] for k in EVAL_SETS])
            cells = []
            for k in EVAL_SETS:
                txt = f"{s[k][0]:.4f} ± {s[k][1]:.4f}"
                if k == "gsm8k" and s[k][0] == best and len(rows) > 1:
                    txt = f"**{txt}**"
                cells.append(txt)
            share = float(np.mean(shares.get((m, b), [float("nan")])))
            lines.append(
                f"| {b:.0%} | {LABELS.get(m, m)} | "
                + " | ".join(cells)
                + f" | {mean4:.4f} | {share:.0%} |"
            )
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    from matplotlib.figure import Figure

    summ = summarize(results)
    fig = Figure(figsize=(11, 4.2), dpi=110, layout="constrained")
    axes = fig.subplots(1, 2)
    colors = {
        "random": "#7f7f7f",
        "s2l": "#D55E00",
        "lp": "#0072B2",
        "least_confidence": "#009E73",
        "middle_perplexity": "#CC79A7",
    }
    for ax, (key, title) in zip(
        axes,
        [
            ("gsm8k", "GSM8K test (held out)"),
            ("mean4", "mean of GSM8K, NumGLUE, SimulEq, DeepMind"),
        ],
    ):
        for m in METHODS:
            pts = sorted((b, s) for (mm, b), s in summ.items() if mm == m and b < 1.0)
            if not pts:
                continue
            xs = [100 * b for b, _ in pts]
            if key == "mean4":
                ys = [np.mean([s[k][0] for k in EVAL_SETS]) for _, s in pts]
                es = None
            else:
                ys = [s[key][0] for _, s in pts]
                es = [s[key][1] for _, s in pts]
            ax.errorbar(
                xs, ys, yerr=es, marker="o", capsize=3, color=colors.get(m), label=LABELS[m]
            )
        if ("full", 1.0) in summ:
            s = summ[("full", 1.0)]
            y = np.mean([s[k][0] for k in EVAL_SETS]) if key == "mean4" else s[key][0]
            ax.axhline(y, color="black", ls="--", lw=1, label="Full data")
            if key != "mean4":
                ax.axhspan(y - s[key][1], y + s[key][1], color="black", alpha=0.08)
        ax.set_xlabel("fraction of the training data (%)")
        ax.set_ylabel("answer-token loss (lower is better)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.savefig(path)


def docs_section(results: dict[str, Any], command: str, plot_rel: str, wall: float) -> str:
    cfg, data, proxy, target = (
        results["config"],
        results["data"],
        results["proxy"],
        results["target"],
    )
    ratio = target["parameters"] / proxy["parameters"]
    runs = results["runs"]
    n_runs = len(runs)
    train_min = sum(r["train_seconds"] for r in runs) / 60
    ms_per_ex = (
        1000
        * sum(r["train_seconds"] for r in runs)
        / max(sum(r["examples"] * cfg["epochs"] for r in runs), 1)
    )
    est_4m_h = ms_per_ex * sum(r["examples"] * cfg["epochs"] for r in runs) / 3.6e6
    est_4m_h *= 4e6 / target["parameters"]
    scope_txt = (
        "the whole mixture and every method, budget and seed"
        if data["train_rows"] >= data.get("mixture_rows", data["train_rows"])
        else "every method, budget and seed (on a sample of the mixture)"
    )
    failed = sorted({f["method"] for f in results.get("failures", [])})
    failed_txt = (
        f" **Not measured**: {', '.join(LABELS.get(m, m) for m in failed)} (selection failed: "
        f"{results['failures'][0]['error'][:160]}...)."
        if failed
        else ""
    )
    if data["train_rows"] < data.get("mixture_rows", data["train_rows"]):
        sample_txt = (
            f"a random {cfg['fraction']:.0%} sample ({data['train_rows']:,} of "
            f"{data['mixture_rows']:,} rows, seed 0) of the math mixture"
        )
    else:
        sample_txt = f"the math mixture, {data['train_rows']:,} rows"
    summ = summarize(results)
    budgets = sorted({b for (_, b) in summ if b < 1.0})
    wins4, s2l_vs = [], []
    for b in budgets:
        mean4 = {m: np.mean([s[k][0] for k in EVAL_SETS]) for (m, bb), s in summ.items() if bb == b}
        if mean4:
            m_best = min(mean4, key=mean4.get)
            wins4.append(f"{b:.0%}: {LABELS[m_best]}")
        if ("s2l", b) in summ and ("random", b) in summ:
            d1 = summ[("s2l", b)]["gsm8k"][0] - summ[("random", b)]["gsm8k"][0]
            s2l_vs.append(f"{b:.0%}: {d1:+.3f} / {mean4['s2l'] - mean4['random']:+.3f}")
    beats = []
    if ("full", 1.0) in summ:
        full_g = summ[("full", 1.0)]["gsm8k"][0]
        beats = [
            f"{LABELS[m]} at {b:.0%}"
            for (m, b), v in sorted(summ.items(), key=lambda kv: (kv[0][1], kv[0][0]))
            if b < 1.0 and v["gsm8k"][0] < full_g
        ]
    beats_full_txt = f" (better than full data on GSM8K: {', '.join(beats)})" if beats else ""
    wins = []
    for b in budgets:
        ranked = sorted((s["gsm8k"][0], m) for (m, bb), s in summ.items() if bb == b)
        if ranked:
            wins.append(f"{b:.0%}: {LABELS[ranked[0][1]]}")
    return f"""{DOCS_START}
## Data efficiency

Does selecting the target's training data with a tiny proxy's loss trajectories beat random
selection at the same budget? `benchmarks/data_efficiency.py`, measured on CPU
({results["machine"]["torch_threads"]} torch threads on a {results["machine"]["cpu_count"]}-core machine shared with other jobs):

```bash
{command}
```

Runtime: {wall / 60:.0f} min (proxy with its recording + all target runs with their
evaluation; the script resumes from `runs.jsonl`, so this is summed over invocations).
Setup (all from scratch, offline):

- **Training data**: {sample_txt} ({", ".join(f"{k} {v:,}" for k, v in data["sources"].items())}),
  Alpaca prompt with the prompt masked, max {cfg["max_length"]} tokens (byte-level BPE,
  vocabulary {cfg["vocab_size"]}, mean {data["mean_tokens"]} tokens per example).
- **Proxy**: GPT-NeoX, {proxy["parameters"] / 1e6:.2f}M parameters, {proxy["epochs"]} epochs with
  `TrajectoryCallback` (step 0 + {cfg["num_points"]} evenly spaced points + epoch ends);
  {proxy["seconds"]:.0f} s.
- **Selection** (`hf_s2l.select`): random; S2L stratified by source (K = {cfg["s2l_num_clusters"]}
  k-means clusters per source, 20 iterations; the paper's K = 100 is for 262K rows); LP(1) (lowest first); least confidence; middle
  perplexity. Budgets {", ".join(f"{b:.0%}" for b in cfg["budgets"])}; seeds
  {", ".join(map(str, cfg["seeds"]))} (the seed drives the selection's randomness and the target's
  initialisation and data order).
- **Target**: GPT-NeoX, {target["parameters"] / 1e6:.2f}M parameters ({ratio:.1f}x the proxy),
  trained {target["epochs"]} epoch(s) on each subset and on the full data (same hyper-parameters,
  learning rate {cfg["target_lr"]}, batch {cfg["batch_size"]}).
- **Metric**: answer-token loss (mean cross-entropy over the response tokens, prompt masked; lower
  is better) on {data["eval_rows"]["gsm8k"]} random rows of each of: GSM8K test (held out,
  response = worked solution as in training), NumGLUE, SimulEq, DeepMind Mathematics
  (response = "The answer is X."). Mean ± std over the seeds.

{markdown_table(results)}

![held-out loss vs fraction of data]({plot_rel})

**Best on held-out GSM8K per budget**: {"; ".join(wins)}. **Best mean over the four sets**:
{"; ".join(wins4)}. **S2L vs random** (loss difference, negative = S2L better; GSM8K / mean of
4): {"; ".join(s2l_vs)}.{failed_txt}

How to read it: the last column is the share of the subset drawn from GSM8K train, the source of
the held-out GSM8K test set (67% of the mixture). S2L stratified by source gives every source
an equal share of the budget, as the official code does for MathInstruct, so it keeps far fewer
GSM8K rows than random, which costs it on GSM8K; its out-of-domain columns (NumGLUE, SimulEq,
DeepMind) are the fairer comparison with random. LP(1), least confidence and middle perplexity
keep mostly GSM8K rows (LP(1) and least confidence the long, hard ones), which helps
GSM8K{beats_full_txt} and mostly hurts the out-of-domain sets. At this scale (a sub-million-parameter model trained from scratch for
{target["epochs"]} epoch(s)) the ranking mostly follows that source mix; these numbers are not a
reproduction of the paper's Pythia-70M → Pythia-410M/Phi-2 results, only an honest record of
what the pipeline gives end to end on real data.

**Sizes vs the issue's plan.** The plan asked for a ≈1M-parameter proxy and a ≥4x target. On
this shared 2-core CPU the {n_runs} target runs took {train_min:.0f} min of training for a
{target["parameters"] / 1e6:.2f}M target ({ms_per_ex:.1f} ms per example-pass); with cost
roughly proportional to parameters, the same grid with a 4M target would take about
{est_4m_h:.1f} h, so the pair was scaled down ({proxy["parameters"] / 1e6:.2f}M /
{target["parameters"] / 1e6:.2f}M) keeping the ≥4x ratio, {scope_txt}. Raw per-run results
(examples, losses, seconds, per-source counts) are in `runs.jsonl` of the output directory.
{DOCS_END}
"""


def write_docs(section: str, docs: Path) -> None:
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if DOCS_START in text and DOCS_END in text:
        text = re.sub(
            re.escape(DOCS_START) + ".*?" + re.escape(DOCS_END) + "\n?",
            lambda _: section,
            text,
            flags=re.S,
        )
    else:
        text = text.rstrip("\n") + "\n\n" + section
    docs.write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="S2L / LP data-efficiency benchmark on the math mixture"
    )
    p.add_argument(
        "--data",
        default=None,
        help="data folder laid out like tests/fixtures/data (required, except with --smoke, "
        "which defaults to the committed tests/fixtures/data)",
    )
    p.add_argument(
        "--out", default=None, help="output directory (default: bench-data-efficiency[-smoke])"
    )
    p.add_argument("--smoke", action="store_true", help="a tiny configuration for CI")
    p.add_argument(
        "--write-docs", action="store_true", help="update docs/benchmarks.md and the plot"
    )
    p.add_argument("--docs", default=str(REPO / "docs" / "benchmarks.md"))
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.data is None:
        if not args.smoke:
            p.error("--data DIR is required (a folder laid out like tests/fixtures/data)")
        args.data = str(REPO / "tests" / "fixtures" / "data")

    cfg = BenchConfig.smoke() if args.smoke else BenchConfig()
    if args.threads:
        cfg.threads = args.threads
    out = Path(
        args.out or ("bench-data-efficiency-smoke" if args.smoke else "bench-data-efficiency")
    )
    t0 = time.perf_counter()
    results = run(cfg, Path(args.data), out)
    wall = time.perf_counter() - t0
    plot(results, out / "data_efficiency.png")
    print(markdown_table(results))
    print(f"wall time {wall:.0f} s; results in {out}")
    if args.write_docs:
        docs = Path(args.docs)
        docs.parent.mkdir(parents=True, exist_ok=True)
        png = docs.parent / "data_efficiency.png"
        shutil.copyfile(out / "data_efficiency.png", png)
        cmd = "python benchmarks/data_efficiency.py --data DATA --write-docs" + (
            " --smoke" if args.smoke else ""
        )
        compute = results["proxy"]["seconds"] + sum(r["seconds"] for r in results["runs"])
        write_docs(docs_section(results, cmd, png.name, compute), docs)
        print(f"updated {docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
