"""``hf-s2l demo``: the whole pipeline, offline on CPU, on a small real math mixture.

The protocol of the data-efficiency benchmark (``docs/benchmarks.md``) at demo size:

1. Load the embedded data (``hf_s2l/assets/math_demo``: 1,500 rows from GSM8K, MAWPS,
   ASDiv-A and AQuA-RAT; 200 GSM8K test rows) and hold out a fixed 10% of every source
   (never trained on): the headline metric is the loss on that held-out split.
2. Train a byte-level BPE tokenizer and a tiny GPT-NeoX *proxy* from scratch for 3 epochs
   with :class:`~hf_s2l.TrajectoryCallback` and the default recording schedule (step 0, 12
   points after training starts, epoch ends) → a :class:`~hf_s2l.TrajectoryStore`.
3. Select ``budget`` of the examples with S2L (by source), random by source (the same
   per-source counts: the control for the source mix), random and LP(1) ranked over the
   whole set (:func:`hf_s2l.select`).
4. Train a larger tiny GPT-NeoX *target* from the same initialisation, 3 epochs (cosine
   schedule, 3% warm-up, same hyper-parameters), on each selection
   (:class:`~hf_s2l.SelectedDataset`) and on all the data.
5. Measure each target's answer-token loss on the held-out split (and on GSM8K test);
   write ``results.json``, ``results.md`` and an HTML report (:func:`~hf_s2l.build_report`).

Only the public API is used: this is the runnable version of the README.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from transformers.utils import logging

from ...report.outcomes import comparison_table
from ..loop import (
    answer_token_loss,
    cpu_training_args,
    drop_rows_without_target,
    record_proxy,
    select_all,
    target_dataset,
    train_model,
)
from .config import DEMO_METHODS, METHOD_LABELS, DemoConfig, DemoResult, TargetResult
from .data import _read_jsonl, demo_data_dir, split_heldout
from .summary import summary_sentence

logger = logging.get_logger(__name__)


def _num_params(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _training_args(cfg: DemoConfig, output_dir: Path, epochs: int) -> Any:
    return cpu_training_args(
        output_dir,
        epochs=epochs,
        batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        scheduler=cfg.lr_scheduler_type,
        warmup_ratio=cfg.warmup_ratio,
        seed=cfg.seed,
        progress_bars=cfg.progress_bars,
    )


def run_demo(
    config: DemoConfig | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo pipeline described in this module and return its results.

    ``progress`` receives one line per stage (the CLI prints them), the first naming the
    output folder; progress bars come from the Trainer (its raw log dicts are not printed),
    the callback's probe passes and the evaluation loops.
    """
    import torch
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq
    from transformers import set_seed as hf_set_seed

    import hf_s2l

    from ...data.sft import tokenize_sft
    from ..tiny import tiny_model, train_tokenizer

    cfg = config or DemoConfig()
    say = progress or (lambda msg: logger.info(msg))
    t_start = time.perf_counter()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    unknown = set(cfg.methods) - set(DEMO_METHODS)
    if unknown:
        raise ValueError(
            f"unknown demo method(s) {sorted(unknown)}; available: {', '.join(DEMO_METHODS)}"
        )

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say(f"hf-s2l demo: writing everything to {out.resolve()}")
    for sub in ("proxy", "selections", "targets", "report", "tokenizer"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)

    # 1. data -------------------------------------------------------------------------
    data_dir = Path(cfg.data_dir) if cfg.data_dir else demo_data_dir()
    all_rows = _read_jsonl(data_dir / "train.jsonl", cfg.max_train_examples)
    train_rows, split_rows = split_heldout(all_rows, cfg.heldout_fraction)
    test_rows = _read_jsonl(data_dir / "heldout_gsm8k.jsonl", cfg.max_heldout_examples)
    raw = Dataset.from_list(train_rows)

    tokenizer = train_tokenizer(
        (r["instruction"] + " " + r["output"] for r in train_rows),
        vocab_size=cfg.vocab_size,
        save_dir=out / "tokenizer",
        model_max_length=100_000,  # tokenize_sft truncates to max_length itself
    )
    tok_kwargs = {"tokenizer": tokenizer, "max_length": cfg.max_length}
    train_ds = raw.map(
        tokenize_sft,
        fn_kwargs=tok_kwargs,
        remove_columns=["instruction", "output"],
        desc="tokenize train",
    )
    # a row whose prompt fills max_length has no answer token: no loss, no gradient
    train_ds, keep = drop_rows_without_target(train_ds, shift=True)
    dropped = len(keep) - sum(keep)
    n = len(train_ds)
    say(
        f"[1/5] data: {n} training examples "
        f"({', '.join(f'{k} {v}' for k, v in Counter(train_ds['source']).items())}"
        + (f"; {dropped} whose prompt fills {cfg.max_length} tokens left out" if dropped else "")
        + f"); held out: {len(split_rows)} ({cfg.heldout_fraction:.0%} of every source, the "
        f"headline metric) + {len(test_rows)} GSM8K test examples"
    )
    evals = {}
    for name, rows in (("heldout", split_rows), ("gsm8k_test", test_rows)):
        ds = Dataset.from_list(
            [{"instruction": r["instruction"], "output": r["output"]} for r in rows]
        )
        evals[name] = ds.map(
            tokenize_sft,
            fn_kwargs=tok_kwargs,
            remove_columns=ds.column_names,
            desc=f"tokenize {name}",
        )
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)

    # 2. proxy + trajectories ----------------------------------------------------------
    store_dir = out / "proxy" / "trajectories"
    hf_set_seed(cfg.seed)
    proxy = tiny_model(
        family="gpt_neox",
        vocab_size=len(tokenizer),
        hidden_size=cfg.proxy_hidden_size,
        num_layers=cfg.proxy_layers,
        num_heads=cfg.proxy_heads,
        max_position_embeddings=cfg.max_length,
        seed=cfg.seed,
    )
    proxy_params = _num_params(proxy)
    # a from-scratch model has no Hub name: give the store (and the report) a descriptive one
    proxy.config._name_or_path = (
        f"tiny GPT-NeoX proxy (hf_s2l.experiments.tiny, from scratch, {proxy_params / 1e6:.2f}M "
        f"parameters, hidden {cfg.proxy_hidden_size}, {cfg.proxy_layers} layers)"
    )
    say(
        f"[2/5] proxy: tiny GPT-NeoX, {proxy_params / 1e6:.2f}M parameters, "
        f"{cfg.proxy_epochs} epochs, recording step 0 + {cfg.num_points} points"
    )
    store, proxy_seconds = record_proxy(
        proxy,
        _training_args(cfg, out / "proxy", cfg.proxy_epochs),
        train_ds,
        collator,
        store_dir,
        schedule=hf_s2l.RecordingSchedule(num_points=cfg.num_points),
        batch_size=cfg.probe_batch_size,
        metadata_columns=("source",),
        log_to_trainer=False,
        overwrite=True,
    )
    say(
        f"      trajectories: {store.num_examples} x {store.num_columns} in {store_dir} "
        f"({proxy_seconds:.0f} s)"
    )

    # 3. selections ---------------------------------------------------------------------
    methods = {}
    for method in cfg.methods:
        name, kw = DEMO_METHODS[method]
        if name == "s2l":
            kw = {**kw, "num_clusters": cfg.s2l_num_clusters}
        methods[method] = (name, kw)
    # a failing method is shown in the table and results.json; the others still run
    selections, failures = select_all(
        store, methods, cfg.budget, seed=cfg.seed, save_dir=out / "selections"
    )
    say(
        f"[3/5] selected {cfg.budget:.0%} of the data with "
        + ", ".join(f"{METHOD_LABELS.get(m, m)} ({len(s.indices)})" for m, s in selections.items())
    )

    # 4. targets ------------------------------------------------------------------------
    sources = list(train_ds["source"])
    runs: list[tuple[str, Any]] = [(m, target_dataset(train_ds, s)) for m, s in selections.items()]
    runs.append(("full", target_dataset(train_ds, None)))
    results: list[TargetResult] = []
    target_params = 0
    for i, (method, ds) in enumerate(runs, 1):
        hf_set_seed(cfg.seed)
        target = tiny_model(
            family="gpt_neox",
            vocab_size=len(tokenizer),
            hidden_size=cfg.target_hidden_size,
            num_layers=cfg.target_layers,
            num_heads=cfg.target_heads,
            max_position_embeddings=cfg.max_length,
            seed=cfg.seed + 1,
        )
        target_params = _num_params(target)
        say(
            f"[4/5] target {i}/{len(runs)}: {METHOD_LABELS.get(method, method)} on {len(ds)} "
            f"examples ({target_params / 1e6:.2f}M parameters, {cfg.target_epochs} epochs)"
        )
        secs = train_model(
            target, _training_args(cfg, out / "targets" / method, cfg.target_epochs), ds, collator
        )
        ev = {
            name: answer_token_loss(
                target,
                eds,
                pad_token_id=tokenizer.pad_token_id,
                desc=f"{name} loss ({method})",
                disable_progress=not cfg.progress_bars,
            )
            for name, eds in evals.items()
        }
        idx = selections[method].indices if method in selections else range(n)
        results.append(
            TargetResult(
                method=method,
                examples=len(ds),
                heldout_loss=round(ev["heldout"]["loss"], 5),
                heldout_perplexity=round(ev["heldout"]["perplexity"], 3),
                gsm8k_test_loss=round(ev["gsm8k_test"]["loss"], 5),
                train_seconds=round(secs, 2),
                per_source=dict(sorted(Counter(sources[j] for j in idx).items())),
            )
        )
        shutil.rmtree(out / "targets" / method, ignore_errors=True)  # no checkpoints kept
    shutil.rmtree(out / "targets", ignore_errors=True)

    # 5. report + results ----------------------------------------------------------------
    label = METHOD_LABELS.get
    report = hf_s2l.build_report(  # s2l first: the selection drawn on the plots
        store,
        {label(m, m): s for m, s in sorted(selections.items(), key=lambda kv: kv[0] != "s2l")},
        out=out / "report",
        # the outcomes joined to the comparison table by label; failed selections shown too
        results=[{**asdict(r), "method": label(r.method, r.method)} for r in results]
        + [{"method": label(m, m), "error": f"selection failed: {e}"} for m, e in failures.items()],
        by_column="source",
        seed=cfg.seed,
        title="hf-s2l demo: proxy trajectories and the selections compared",
    )
    # results.md carries the report's own comparison table (one function builds both)
    table = comparison_table(report.summary["comparison"], n).to_markdown()
    summary = summary_sentence(results, cfg.budget, n, target_params, cfg.seed)
    total = time.perf_counter() - t_start
    payload = {
        "config": asdict(cfg),
        "data": {
            "train_examples": n,
            "train_examples_without_answer_tokens_left_out": dropped,
            "train_sources": dict(sorted(Counter(sources).items())),
            "heldout_examples": len(split_rows),
            "heldout": f"a fixed {cfg.heldout_fraction:.0%} of every source of the demo data "
            "(never trained on)",
            "gsm8k_test_examples": len(test_rows),
            "data_dir": str(data_dir),
        },
        "proxy": {
            "parameters": proxy_params,
            "model_name_or_path": store.model_name_or_path,
            "epochs": cfg.proxy_epochs,
            "seconds": round(proxy_seconds, 2),
            "store": str(store_dir),
            "columns": store.num_columns,
            "steps": store.steps.tolist(),
        },
        "target": {"parameters": target_params, "epochs": cfg.target_epochs},
        "metric": "held-out answer-token loss: mean cross-entropy over the response tokens "
        "(prompt masked) of the held-out split of the pool; lower is better",
        "summary": summary,
        "results": [asdict(r) for r in results],
        "failures": failures,
        "report": str(report.html),
        "total_seconds": round(total, 2),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "hf_s2l_version": hf_s2l.__version__,
    }
    results_json = out / "results.json"
    results_json.write_text(json.dumps(payload, indent=2))
    results_md = out / "results.md"
    results_md.write_text(
        "# hf-s2l demo results\n\n"
        f"Proxy: tiny GPT-NeoX ({proxy_params / 1e6:.2f}M parameters) trained "
        f"{cfg.proxy_epochs} epochs on {n} math examples, {store.num_columns} recording points. "
        f"Target: tiny GPT-NeoX ({target_params / 1e6:.2f}M parameters), same initialisation, "
        f"{cfg.target_epochs} epochs (cosine, 3% warm-up) on each subset. Budget "
        f"{cfg.budget:.0%}. Held out: {len(split_rows)} rows ({cfg.heldout_fraction:.0%} of "
        f"every source) and {len(test_rows)} GSM8K test rows.\n\n"
        f"{table}\n\n"
        "*Random by source* keeps the same number of examples per source as S2L (by source): "
        "comparing S2L with it shows the clustering's effect apart from the source mix.\n\n"
        f"{summary}\n\n"
        f"Total time {total:.0f} s (torch threads: {torch.get_num_threads()}). "
        f"Report: {report.html}\n"
    )
    say(f"[5/5] report: {report.html}")
    return DemoResult(
        out_dir=out,
        results=results,
        table=table,
        report_html=report.html,
        results_json=results_json,
        results_md=results_md,
        store_dir=store_dir,
        proxy_seconds=round(proxy_seconds, 2),
        total_seconds=round(total, 2),
        failures=failures,
        summary=summary,
    )
