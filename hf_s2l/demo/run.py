"""``hf-s2l demo``: the whole pipeline, offline on CPU, on a small real math mixture.

1. Load the embedded data (``hf_s2l/assets/math_demo``: 1,500 rows from GSM8K, MAWPS,
   ASDiv-A and AQuA-RAT; 200 held-out GSM8K test rows).
2. Train a byte-level BPE tokenizer and a tiny GPT-NeoX *proxy* from scratch with
   :class:`~hf_s2l.TrajectoryCallback` (step 0, ``num_points`` evenly spaced points and
   every epoch end) → a :class:`~hf_s2l.TrajectoryStore`.
3. Select ``budget`` of the examples with S2L (stratified by source), LP(1) and random
   (:func:`hf_s2l.select`).
4. Train a larger tiny GPT-NeoX *target* from the same initialisation, for the same number
   of epochs, on each selection (:class:`~hf_s2l.SelectedDataset`) and on all the data.
5. Measure each target's held-out answer-token loss on GSM8K test; write
   ``results.json``, ``results.md`` and an HTML report (:func:`~hf_s2l.build_report`).

Only the public API is used: this is the runnable version of the README.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from transformers.utils import logging

logger = logging.get_logger(__name__)

METHOD_LABELS = {"s2l": "S2L", "lp": "LP(1)", "random": "random", "full": "full data"}


@dataclass
class DemoConfig:
    """Settings of :func:`run_demo`; ``DemoConfig.fast()`` is the CI-sized variant.

    Sizes are chosen so that the default run stays well under 5 minutes on 2 CPU cores
    (measured: 1 min 22 s with 2 torch threads on an idle 2-core machine, 2 min 29 s with
    one thread on a busy one) and ``fast()`` takes about 10 seconds.
    """

    out_dir: str = "hf-s2l-demo"
    budget: float = 0.3
    methods: tuple[str, ...] = ("s2l", "lp", "random")
    seed: int = 0
    max_train_examples: int | None = None  # None = all 1,500 embedded rows
    max_heldout_examples: int | None = None  # None = all 200 held-out rows
    vocab_size: int = 2048
    max_length: int = 256
    # proxy (tiny GPT-NeoX, ~0.25M parameters); 12 points + step 0 is the S2L default
    proxy_hidden_size: int = 48
    proxy_layers: int = 2
    proxy_heads: int = 4
    proxy_epochs: int = 2
    num_points: int = 12
    # target (tiny GPT-NeoX, ~1.1M parameters, ~4.5x the proxy), same number of epochs
    target_hidden_size: int = 128
    target_layers: int = 3
    target_heads: int = 4
    batch_size: int = 16
    learning_rate: float = 3e-3
    probe_batch_size: int = 64
    s2l_num_clusters: int = 10
    num_threads: int | None = None
    data_dir: str | None = None  # default: the package's embedded math_demo data
    progress_bars: bool = True

    @classmethod
    def fast(cls, **overrides: Any) -> DemoConfig:
        """The ``--fast`` variant for CI (about a minute on 2 cores)."""
        cfg = cls(
            max_train_examples=320,
            max_heldout_examples=48,
            vocab_size=1024,
            proxy_hidden_size=32,
            proxy_layers=1,
            proxy_heads=2,
            num_points=6,
            target_hidden_size=48,
            target_layers=2,
            target_heads=4,
            s2l_num_clusters=4,
        )
        for k, v in overrides.items():
            setattr(cfg, k, v)
        return cfg


@dataclass
class MethodResult:
    """One target model's outcome."""

    method: str
    examples: int
    heldout_loss: float
    heldout_perplexity: float
    train_seconds: float
    per_source: dict[str, int] = field(default_factory=dict)


@dataclass
class DemoResult:
    """What :func:`run_demo` produced; ``table`` is the markdown results table."""

    out_dir: Path
    results: list[MethodResult]
    table: str
    report_html: Path
    results_json: Path
    results_md: Path
    store_dir: Path
    proxy_seconds: float
    total_seconds: float
    failures: dict[str, str] = field(default_factory=dict)


def demo_data_dir() -> Path:
    """The embedded demo data folder (``hf_s2l/assets/math_demo``)."""
    return Path(str(resources.files("hf_s2l") / "assets" / "math_demo"))


def _read_jsonl(path: Path, limit: int | None) -> list[dict[str, Any]]:
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
                if limit is not None and len(rows) >= limit:
                    break
    return rows


def _num_params(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def _training_args(cfg: DemoConfig, output_dir: Path, epochs: int) -> Any:
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=0,
        weight_decay=0.0,
        seed=cfg.seed,
        data_seed=cfg.seed,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=not cfg.progress_bars,
        dataloader_num_workers=0,
        train_sampling_strategy="group_by_length",  # less padding: ~1.5x faster on CPU
    )


def _markdown_table(
    results: list[MethodResult],
    n_train: int,
    full_loss: float | None,
    failures: dict[str, str] | None = None,
) -> str:
    lines = [
        "| method | examples used | held-out answer loss (GSM8K test) | vs full data "
        "| target training time | examples per source |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        delta = (
            "" if full_loss is None or r.method == "full" else f"{r.heldout_loss - full_loss:+.4f}"
        )
        lines.append(
            f"| {METHOD_LABELS.get(r.method, r.method)} | {r.examples} ({100 * r.examples / n_train:.0f}%) "
            f"| {r.heldout_loss:.4f} | {delta} | {r.train_seconds:.1f} s "
            f"| {', '.join(f'{k} {v}' for k, v in r.per_source.items())} |"
        )
    for method, err in (failures or {}).items():
        short = err if len(err) <= 120 else err[:117] + "..."
        lines.append(f"| {METHOD_LABELS.get(method, method)} | selection failed: {short} | | | | |")
    return "\n".join(lines)


def run_demo(
    config: DemoConfig | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo pipeline described in this module and return its results.

    ``progress`` receives one line per stage (the CLI prints them); progress bars come
    from the Trainer, the callback's probe passes and the evaluation loops.
    """
    import torch
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq, Trainer
    from transformers import set_seed as hf_set_seed

    import hf_s2l
    from hf_s2l.corpora import tokenize_sft
    from hf_s2l.tiny import tiny_model, train_tokenizer

    from .heldout import answer_token_loss

    cfg = config or DemoConfig()
    say = progress or (lambda msg: logger.info(msg))
    t_start = time.perf_counter()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    unknown = set(cfg.methods) - {"s2l", "lp", "random"} - set(hf_s2l.available_methods())
    if unknown:
        raise ValueError(f"unknown selection method(s) {sorted(unknown)}")

    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("proxy", "selections", "targets", "report", "tokenizer"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)

    # 1. data -------------------------------------------------------------------------
    data_dir = Path(cfg.data_dir) if cfg.data_dir else demo_data_dir()
    train_rows = _read_jsonl(data_dir / "train.jsonl", cfg.max_train_examples)
    heldout_rows = _read_jsonl(data_dir / "heldout_gsm8k.jsonl", cfg.max_heldout_examples)
    raw = Dataset.from_list(train_rows)
    heldout_raw = Dataset.from_list(heldout_rows)
    n = len(raw)
    say(
        f"[1/5] data: {n} training examples ({dict(Counter(raw['source']))}), "
        f"{len(heldout_raw)} held-out GSM8K test examples"
    )

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
    heldout_ds = heldout_raw.map(
        tokenize_sft,
        fn_kwargs=tok_kwargs,
        remove_columns=heldout_raw.column_names,
        desc="tokenize held-out",
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
    say(
        f"[2/5] proxy: tiny GPT-NeoX, {_num_params(proxy) / 1e6:.2f}M parameters, "
        f"{cfg.proxy_epochs} epochs, recording step 0 + {cfg.num_points} points + epoch ends"
    )
    callback = hf_s2l.TrajectoryCallback(
        store_dir,
        schedule=hf_s2l.RecordingSchedule(
            at_train_begin=True, at_epoch_end=True, num_points=cfg.num_points
        ),
        batch_size=cfg.probe_batch_size,
        metadata_columns=("source",),
        log_to_trainer=False,
        overwrite=True,
    )
    t0 = time.perf_counter()
    Trainer(
        model=proxy,
        args=_training_args(cfg, out / "proxy", cfg.proxy_epochs),
        train_dataset=train_ds,
        data_collator=collator,
        callbacks=[callback],
    ).train()
    proxy_seconds = time.perf_counter() - t0
    store = hf_s2l.TrajectoryStore.open(store_dir)
    say(
        f"      trajectories: {store.num_examples} x {store.num_columns} in {store_dir} "
        f"({proxy_seconds:.0f} s)"
    )

    # 3. selections ---------------------------------------------------------------------
    params: dict[str, dict[str, Any]] = {
        "s2l": {"by_column": "source", "num_clusters": cfg.s2l_num_clusters},
        "lp": {},
        "random": {},
    }
    selections = {}
    failures: dict[str, str] = {}
    for method in cfg.methods:
        try:
            sel = hf_s2l.select(store, method, cfg.budget, seed=cfg.seed, **params.get(method, {}))
        except ValueError as e:  # shown in the table and results.json; the others still run
            logger.warning("selection with %s failed: %s", method, e)
            failures[method] = str(e)
            continue
        sel.save(out / "selections" / method)
        selections[method] = sel
    say(
        f"[3/5] selected {cfg.budget:.0%} of the data with "
        + ", ".join(f"{METHOD_LABELS.get(m, m)} ({len(s.indices)})" for m, s in selections.items())
    )

    # 4. targets ------------------------------------------------------------------------
    sources = list(raw["source"])
    runs: list[tuple[str, Any]] = [
        (m, hf_s2l.SelectedDataset(train_ds, s)) for m, s in selections.items()
    ]
    runs.append(("full", train_ds))
    results: list[MethodResult] = []
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
            f"examples ({target_params / 1e6:.2f}M parameters, {cfg.proxy_epochs} epochs)"
        )
        t0 = time.perf_counter()
        Trainer(
            model=target,
            args=_training_args(cfg, out / "targets" / method, cfg.proxy_epochs),
            train_dataset=ds,
            data_collator=collator,
        ).train()
        secs = time.perf_counter() - t0
        ev = answer_token_loss(
            target,
            heldout_ds,
            pad_token_id=tokenizer.pad_token_id,
            desc=f"held-out loss ({method})",
            disable_progress=not cfg.progress_bars,
        )
        idx = selections[method].indices if method in selections else range(n)
        results.append(
            MethodResult(
                method=method,
                examples=len(ds),
                heldout_loss=round(ev["loss"], 5),
                heldout_perplexity=round(ev["perplexity"], 3),
                train_seconds=round(secs, 2),
                per_source=dict(sorted(Counter(sources[j] for j in idx).items())),
            )
        )
        shutil.rmtree(out / "targets" / method, ignore_errors=True)  # no checkpoints kept
    shutil.rmtree(out / "targets", ignore_errors=True)

    # 5. report + results ----------------------------------------------------------------
    report = hf_s2l.build_report(  # s2l first: the selection drawn on the plots
        store,
        dict(sorted(selections.items(), key=lambda kv: kv[0] != "s2l")),
        out=out / "report",
        results=[asdict(r) for r in results],  # held-out loss joined to the comparison table
        by_column="source",
        seed=cfg.seed,
        title="hf-s2l demo: proxy trajectories and the selections compared",
    )
    full = next((r.heldout_loss for r in results if r.method == "full"), None)
    table = _markdown_table(results, n, full, failures)
    total = time.perf_counter() - t_start
    payload = {
        "config": asdict(cfg),
        "data": {
            "train_examples": n,
            "train_sources": dict(sorted(Counter(sources).items())),
            "heldout_examples": len(heldout_raw),
            "heldout": "GSM8K test (held out)",
            "data_dir": str(data_dir),
        },
        "proxy": {
            "parameters": _num_params(proxy),
            "seconds": round(proxy_seconds, 2),
            "store": str(store_dir),
            "columns": store.num_columns,
            "steps": store.steps.tolist(),
        },
        "target": {"parameters": target_params, "epochs": cfg.proxy_epochs},
        "metric": "held-out answer-token loss: mean cross-entropy over the response tokens "
        "(prompt masked) of the held-out GSM8K test rows; lower is better",
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
        f"Proxy: tiny GPT-NeoX ({_num_params(proxy) / 1e6:.2f}M parameters) trained "
        f"{cfg.proxy_epochs} epochs on {n} math examples, {store.num_columns} recording points. "
        f"Target: tiny GPT-NeoX ({target_params / 1e6:.2f}M parameters), same initialisation, "
        f"{cfg.proxy_epochs} epochs on each subset. Budget {cfg.budget:.0%}. "
        f"Held-out: {len(heldout_raw)} GSM8K test examples.\n\n"
        f"{table}\n\n"
        "Lower loss is better. Compare the selection methods with each other (same budget); "
        "full data is the reference that uses every example. At this toy scale the ranking "
        "mostly reflects which sources each method keeps (the held-out set is GSM8K) and can "
        "change with the seed; docs/benchmarks.md has a multi-seed benchmark on the whole "
        "mixture.\n\n"
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
    )
