"""Running the grid: pools, proxies (recorded once), selections, target runs (cached).

Layout of ``--out``::

    <pool>/tokenizer/                BPE trained on the pool's training rows
    <pool>/proxy/trajectories/       probe store (+ in_step/ store: mode="both")
    <pool>/proxy/proxy.json          proxy size, time, its own held-out losses
    <pool>/proxy_s<seed>/            the same for the second proxy (``proxy_seeds[1:]``):
                                     the ceiling of the transfer figures
    <pool>/embeddings.npy            MiniLM embeddings (LP's clusters)
    <pool>/runs/<method>__<budget>__s<seed>.json / .npz   one target run (resume = skip)
    <pool>/target_in_step/s<seed>/   the full-data target's free in-step store
                                     (``mode="in_step"``): the target of the transfer figures

Every store carries the rows' ``example_id`` (``<pool>-<row>``), so proxy and target stores
align by id (``hf_s2l.transfer``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import pools as P
from .methods import METHODS, methods_for, selection_kwargs


@dataclass
class BenchConfig:
    """Sizes and hyper-parameters of one benchmark configuration (defaults: the full grid)."""

    pools: tuple[str, ...] = ("mix", "gsm8k", "radiology")
    mix_share: float = 0.025  # share of every source of the math mixture
    gsm8k_rows: int = 250
    radiology_rows: int = 300
    eval_rows: int = 100  # rows of GSM8K test and of each out-of-domain set
    gen_rows: int = 40  # held-out reports generated for ROUGE-L
    gen_tokens: int = 32
    budgets: tuple[float, ...] = (0.1, 0.3, 0.5)
    seeds: tuple[int, ...] = (0, 1, 2)
    methods: tuple[str, ...] = tuple(METHODS)
    vocab_size: int = 1024
    max_length: int = 320
    epochs: int = 3  # target, on every subset and on the full data
    proxy_epochs: int = 3
    proxy: dict[str, int] = field(
        default_factory=lambda: {"hidden_size": 16, "num_layers": 2, "num_heads": 2}
    )
    target: dict[str, int] = field(
        default_factory=lambda: {"hidden_size": 64, "num_layers": 2, "num_heads": 4}
    )
    batch_size: int = 8
    learning_rate: float = 3e-3
    scheduler: str = "cosine"
    warmup_ratio: float = 0.03
    s2l_num_clusters: int = 5  # per source (official: 100 for MathInstruct's 262K rows)
    lp_rows_per_cluster: int = 52  # official: 1,000 clusters for 52K Alpaca rows
    probe_batch_size: int = 64
    workers: int = 2
    threads: int = 1  # torch threads per worker
    n_boot: int = 2000
    proxy_seeds: tuple[int, ...] = (0, 1)  # the first selects; the others are the ceiling
    title: str = "v2"  # which generated docs section this configuration writes

    @classmethod
    def smoke(cls) -> BenchConfig:
        """The smallest configuration: every pool, method and evaluation, tiny sizes."""
        return cls(
            mix_share=0.1,  # sized for tests/fixtures/data (200 rows per source)
            gsm8k_rows=60,
            radiology_rows=60,
            eval_rows=16,
            gen_rows=6,
            gen_tokens=8,
            budgets=(0.3,),
            seeds=(0, 1),
            vocab_size=512,
            max_length=256,
            proxy={"hidden_size": 16, "num_layers": 1, "num_heads": 2},
            target={"hidden_size": 32, "num_layers": 1, "num_heads": 2},
            s2l_num_clusters=3,
            lp_rows_per_cluster=20,
            workers=1,
            n_boot=200,
        )

    @classmethod
    def headline(cls) -> BenchConfig:
        """The headline: the math mixture at >= 4,000 training rows, where the target learns
        (see docs/benchmarks.md for the measured losses), the trimmed method set at 30%,
        5 seeds. Sized to finish in <= 90 min on the shared 2-core machine."""
        return cls(
            pools=("mix",),
            mix_share=0.41,  # 4,100 training rows + 456 held out
            epochs=1,  # the target, sized to the shared machine (the proxy: 3, as in v2)
            budgets=(0.3,),
            seeds=(0, 1, 2, 3, 4),
            methods=(
                "random",
                "random_by_source",
                "s2l",
                "s2l_pooled",
                "s2l_in_step",
                "lp",
            ),
            s2l_num_clusters=10,
            title="headline",
        )


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _num_params(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def indices_sha1(idx: np.ndarray) -> str:
    """Fingerprint of a selection (sorted row indices)."""
    return hashlib.sha1(np.sort(np.asarray(idx, dtype=np.int64)).tobytes()).hexdigest()[:16]


def run_key(method: str, budget: float, seed: int) -> str:
    return f"{method}__{budget:g}__s{seed}"


def plan(
    cfg: BenchConfig, pool_names_multi: dict[str, bool], transfer_only: bool = False
) -> list[tuple[str, str, float, int]]:
    """Every target run ``(pool, method, budget, seed)``, full data included.

    With one budget, seed by seed (each seed's full-data run, then its methods). Else the
    full-data runs first (the reference, and the target stores of the transfer figures),
    then budget-major (every pool, method and seed at the smallest budget, then the next...):
    an interrupted grid is a complete grid over fewer budgets, with its full-data reference.
    ``transfer_only``: just the full-data runs of the first two seeds of every pool.
    """
    if transfer_only:
        return [(pool, "full", 1.0, s) for s in cfg.seeds[:2] for pool in cfg.pools]
    if len(cfg.budgets) == 1:  # seed-major: an interrupted run is complete over fewer seeds
        return [
            t
            for s in cfg.seeds
            for pool in cfg.pools
            for t in [(pool, "full", 1.0, s)]
            + [
                (pool, m, cfg.budgets[0], s)
                for m in methods_for(pool_names_multi[pool], cfg.methods)
            ]
        ]
    out = [(pool, "full", 1.0, s) for pool in cfg.pools for s in cfg.seeds]
    for b in sorted(cfg.budgets):
        for pool in cfg.pools:
            names = methods_for(pool_names_multi[pool], cfg.methods)
            for s in cfg.seeds:
                out += [(pool, m, b, s) for m in names]
    return out


def has_store(path: Path) -> bool:
    """A trajectory store with at least one complete column at ``path``."""
    import hf_s2l

    try:
        return len(hf_s2l.TrajectoryStore.open(path).complete_columns()) > 0
    except Exception:
        return False


def run_done(out: Path, task: tuple[str, str, float, int]) -> bool:
    """The run's result is cached (a full-data run: with its in-step target store too)."""
    pool, method, budget, seed = task
    if not (out / pool / "runs" / f"{run_key(method, budget, seed)}.json").exists():
        return False
    return method != "full" or has_store(target_store_dir(out, pool, seed))


def build_pool(cfg: BenchConfig, data: Path, name: str) -> P.Pool:
    if name == "mix":
        return P.math_mix(data, cfg.mix_share, cfg.eval_rows)
    if name == "gsm8k":
        return P.gsm8k_only(data, cfg.gsm8k_rows, cfg.eval_rows)
    if name == "radiology":
        return P.radiology(data, cfg.radiology_rows, cfg.gen_rows)
    raise ValueError(f"unknown pool {name!r}; available: mix, gsm8k, radiology")


@dataclass
class PoolState:
    """A pool tokenised with its own tokenizer (rows without target tokens dropped)."""

    pool: P.Pool
    tokenizer: Any
    train: Any  # datasets.Dataset
    evals: dict[str, Any]
    sources: np.ndarray
    dropped: int
    mean_tokens: float


def _tokenize_eval(rows: list[dict[str, str]], tokenizer: Any, max_length: int, prefix: str | None):
    from hf_s2l import format_prompt

    ids, labels = [], []
    for r in rows:
        prompt = format_prompt(r["instruction"]) + (f" {prefix}" if prefix else "")
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        a = tokenizer(" " + r["output"] + tokenizer.eos_token, add_special_tokens=False)[
            "input_ids"
        ]
        keep = max_length - len(a)  # keep the answer whole, cut the prompt's start if needed
        p = p[-keep:] if keep > 0 else []
        ids.append((p + a)[-max_length:])
        labels.append(([-100] * len(p) + a)[-max_length:])
    return {"input_ids": ids, "labels": labels}


def load_pool(cfg: BenchConfig, data: Path, out: Path, name: str) -> PoolState:
    """Build, tokenise (tokenizer trained once, then reloaded) and filter one pool."""
    from datasets import Dataset
    from transformers import PreTrainedTokenizerFast

    from hf_s2l import tokenize_sft
    from hf_s2l.experiments import loop
    from hf_s2l.experiments.tiny import train_tokenizer

    pool = build_pool(cfg, data, name)
    for i, r in enumerate(pool.train):  # stable ids: the split is fixed (SPLIT_SEED)
        r["example_id"] = f"{name}-{i:05d}"
    tok_dir = out / name / "tokenizer"
    rows_sha = hashlib.sha1(
        json.dumps([[r["instruction"], r["output"]] for r in pool.train]).encode()
    ).hexdigest()
    sha_file = tok_dir / "train_rows.sha1"
    if sha_file.exists() and sha_file.read_text().strip() != rows_sha:
        raise ValueError(
            f"{out}: its cache was made from other training rows of pool {name!r} (another "
            "configuration); give a fresh --out"
        )
    if (tok_dir / "tokenizer.json").exists():
        tokenizer = PreTrainedTokenizerFast.from_pretrained(tok_dir)
    else:
        tokenizer = train_tokenizer(
            (r["instruction"] + " " + r["output"] for r in pool.train),
            vocab_size=cfg.vocab_size,
            save_dir=tok_dir,
            model_max_length=100_000,
        )
    if not sha_file.exists():
        sha_file.write_text(rows_sha + "\n")
    kw = {"tokenizer": tokenizer, "max_length": cfg.max_length}
    ds = Dataset.from_list(pool.train).map(
        tokenize_sft, fn_kwargs=kw, remove_columns=["instruction", "output"]
    )
    has_target = [loop.has_target(lab, shift=True) for lab in ds["labels"]]
    dropped = int(len(has_target) - sum(has_target))
    if dropped:
        ds = ds.select([i for i, h in enumerate(has_target) if h])
        pool.train = [r for r, h in zip(pool.train, has_target) if h]
    evals = {}
    for ev in pool.evals:
        if ev.generate:
            evals[ev.name] = ev.rows
        else:
            evals[ev.name] = _tokenize_eval(ev.rows, tokenizer, cfg.max_length, ev.prefix)
    return PoolState(
        pool=pool,
        tokenizer=tokenizer,
        train=ds,
        evals=evals,
        sources=np.asarray(ds["source"]),
        dropped=dropped,
        mean_tokens=float(np.mean([len(x) for x in ds["input_ids"]])),
    )


def training_args(cfg: BenchConfig, out: Path, seed: int, epochs: int) -> Any:
    """The one set of hyper-parameters of every proxy and target run."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_ratio,  # a float < 1 is a ratio of the total steps
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


def _model(cfg: BenchConfig, st: PoolState, size: dict[str, int], seed: int) -> Any:
    from hf_s2l.experiments.tiny import tiny_model

    return tiny_model(
        family="gpt_neox",
        vocab_size=len(st.tokenizer),
        max_position_embeddings=cfg.max_length,
        seed=seed,
        **size,
    )


def _trainer(model: Any, args: Any, ds: Any, st: PoolState, callbacks: list | None = None) -> Any:
    from transformers import DataCollatorForSeq2Seq, Trainer

    from hf_s2l.experiments.quiet import quiet_trainer

    collator = DataCollatorForSeq2Seq(st.tokenizer, padding=True, label_pad_token_id=-100)
    tr = Trainer(
        model=model, args=args, train_dataset=ds, data_collator=collator, callbacks=callbacks
    )
    return quiet_trainer(tr)


def proxy_dir(out: Path, pool: str, seed: int = 0) -> Path:
    """Folder of the pool's proxy of ``seed`` (seed 0: ``proxy/``, the one that selects)."""
    return out / pool / ("proxy" if seed == 0 else f"proxy_s{seed}")


def target_store_dir(out: Path, pool: str, seed: int) -> Path:
    """The full-data target's in-step store of ``seed``."""
    return out / pool / "target_in_step" / f"s{seed}"


def stamp_ids(path: Path, ds: Any) -> None:
    """Give an in-step store its rows' ``example_id`` and ``source`` when the recorder did
    not (hf-s2l's in-step recorder saves them since the in-step store got ids and metadata;
    older versions saved neither). Its rows are the dataset's rows in order, as the dataset
    fingerprint it stores attests. A no-op on a store that has both."""
    import hf_s2l

    store = hf_s2l.TrajectoryStore.open(path)
    if store.example_ids is not None and "source" in store.metadata_columns:
        return
    if store.num_examples != len(ds):
        raise ValueError(f"{path}: {store.num_examples} rows, dataset {len(ds)}")
    store = hf_s2l.TrajectoryStore.open(path, mode="r+")
    try:
        if store.example_ids is None:
            store.set_example_ids(np.asarray(ds["example_id"]))
        if "source" not in store.metadata_columns:
            store.set_metadata("source", np.asarray(ds["source"]))
    finally:
        store.close()


def ensure_proxy(cfg: BenchConfig, st: PoolState, out: Path, seed: int = 0) -> dict[str, Any]:
    """Train the pool's proxy of ``seed`` once (``mode="both"``: probe + in-step stores);
    reuse after. The seed sets the initialisation and the data order."""
    from transformers import set_seed

    import hf_s2l

    pdir = proxy_dir(out, st.pool.name, seed)
    meta_path = pdir / "proxy.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    shutil.rmtree(pdir, ignore_errors=True)
    set_seed(seed)
    proxy = _model(cfg, st, cfg.proxy, seed=seed)
    n = _num_params(proxy)
    h, layers = cfg.proxy["hidden_size"], cfg.proxy["num_layers"]
    proxy.config._name_or_path = f"tiny-gpt-neox-h{h}-l{layers} (from scratch, {n / 1e6:.3f}M)"
    cb = hf_s2l.TrajectoryCallback(
        pdir / "trajectories",
        schedule=hf_s2l.RecordingSchedule(),  # the default: step 0 + 12 points + epoch ends
        mode="both",
        batch_size=cfg.probe_batch_size,
        metadata_columns=("source",),
        log_to_trainer=False,
        overwrite=True,
    )
    t0, cpu0 = time.perf_counter(), time.process_time()
    _trainer(
        proxy, training_args(cfg, pdir / "run", seed, cfg.proxy_epochs), st.train, st, [cb]
    ).train()
    secs = time.perf_counter() - t0
    stamp_ids(pdir / "trajectories" / "in_step", st.train)
    store = hf_s2l.TrajectoryStore.open(pdir / "trajectories")
    meta = {
        "seed": seed,
        "parameters": n,
        "name": proxy.config._name_or_path,
        "epochs": cfg.proxy_epochs,
        "seconds": round(secs, 1),
        "cpu_seconds": round(time.process_time() - cpu0, 1),
        "columns": [{"step": int(s), "kind": k} for s, k in zip(store.steps.tolist(), store.kinds)],
        "in_step_columns": hf_s2l.TrajectoryStore.open(
            pdir / "trajectories" / "in_step"
        ).num_columns,
        "eval": {k: round(v, 5) for k, v in evaluate(cfg, st, proxy, per_example=False).items()},
    }
    shutil.rmtree(pdir / "run", ignore_errors=True)
    meta_path.with_suffix(".tmp").write_text(json.dumps(meta, indent=2))
    os.replace(meta_path.with_suffix(".tmp"), meta_path)  # written last: marks done
    _log(f"{st.pool.name}: proxy s{seed} {n / 1e6:.3f}M trained + recorded in {secs:.0f} s")
    return meta


def ensure_embeddings(st: PoolState, out: Path) -> np.ndarray:
    """MiniLM embeddings of 'Instruction: … Response: …' (the official clustering.py text)."""
    path = out / st.pool.name / "embeddings.npy"
    if path.exists():
        return np.load(path)
    from hf_s2l.selection.embeddings import embed_texts

    texts = [
        f"Instruction: {r['instruction'].strip()} Response: {r['output'].strip()}"
        for r in st.pool.train
    ]
    emb = embed_texts(texts)
    np.save(path.with_suffix(".tmp.npy"), emb)
    os.replace(path.with_suffix(".tmp.npy"), path)  # atomic: other workers wait for it
    return emb


def select_rows(
    cfg: BenchConfig, st: PoolState, out: Path, method: str, budget: float, seed: int
) -> tuple[np.ndarray, dict[str, Any], Any]:
    """The rows ``method`` picks (via the :mod:`.methods` table), selection info and the
    :class:`~hf_s2l.Selection`."""
    import hf_s2l

    pdir = out / st.pool.name / "proxy" / "trajectories"
    probe = hf_s2l.TrajectoryStore.open(pdir)
    opt = METHODS[method]
    kind, reg, kw = selection_kwargs(
        method,
        seed=seed,
        sources=st.sources,
        embeddings=ensure_embeddings(st, out) if opt.embeddings else None,
        s2l_k=cfg.s2l_num_clusters,
        lp_k=max(2, int(round(len(st.sources) / cfg.lp_rows_per_cluster))),
    )
    store = probe if kind == "probe" else hf_s2l.TrajectoryStore.open(pdir / "in_step")
    sel = hf_s2l.select(store, reg, budget, **kw)
    info = {
        "store": kind,
        "columns_used": sel.provenance.get("columns_used"),
        "params": sel.params,
    }
    return np.asarray(sel.indices), info, sel


def evaluate(cfg: BenchConfig, st: PoolState, model: Any, per_example: bool = True) -> dict:
    """Every evaluation of the pool: ``{name: metric}`` or, with ``per_example``,
    ``{name: (metric, num, den)}`` (per-example numerators/denominators)."""
    from hf_s2l.experiments.heldout import answer_token_loss

    out: dict[str, Any] = {}
    for ev in st.pool.evals:
        if ev.generate:
            scores = rouge_l_of_generations(cfg, st, model, st.evals[ev.name])
            num, den = scores, np.ones_like(scores)
            value = float(scores.mean())
        else:
            r = answer_token_loss(
                model,
                st.evals[ev.name],
                pad_token_id=st.tokenizer.pad_token_id,
                disable_progress=True,
                per_example=True,
            )
            num, den, value = r["example_loss_sum"], r["example_tokens"], float(r["loss"])
        out[ev.name] = (value, num, den) if per_example else value
    return out


def rouge_l_of_generations(cfg: BenchConfig, st: PoolState, model: Any, rows: list) -> np.ndarray:
    """Per-example ROUGE-L F1 (rouge_score, Porter stemmer) of greedy generations."""
    import torch
    from rouge_score import rouge_scorer

    from hf_s2l import format_prompt

    tok = st.tokenizer
    keep = cfg.max_length - cfg.gen_tokens
    prompts = [
        tok(format_prompt(r["instruction"]), add_special_tokens=False)["input_ids"][-keep:]
        for r in rows
    ]
    preds: list[str] = []
    was = model.training
    model.eval()
    try:
        for start in range(0, len(prompts), 32):
            batch = prompts[start : start + 32]
            width = max(len(p) for p in batch)
            ids = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
            att = torch.zeros((len(batch), width), dtype=torch.long)
            for j, p in enumerate(batch):  # left padding
                ids[j, width - len(p) :] = torch.as_tensor(p)
                att[j, width - len(p) :] = 1
            with torch.no_grad():
                gen = model.generate(
                    input_ids=ids,
                    attention_mask=att,
                    max_new_tokens=cfg.gen_tokens,
                    do_sample=False,
                    pad_token_id=tok.pad_token_id,
                    eos_token_id=tok.eos_token_id,
                )
            preds += [t.strip() for t in tok.batch_decode(gen[:, width:], skip_special_tokens=True)]
    finally:
        model.train(was)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return np.array(
        [scorer.score(r["output"], p)["rougeL"].fmeasure for r, p in zip(rows, preds)],
        dtype=np.float64,
    )


def run_one(
    cfg: BenchConfig, st: PoolState, out: Path, method: str, budget: float, seed: int
) -> dict[str, Any]:
    """Select, train the target 3 epochs, evaluate; write the run's .json/.npz; return it."""
    from transformers import set_seed

    from hf_s2l.experiments import loop

    rdir = out / st.pool.name / "runs"
    rdir.mkdir(parents=True, exist_ok=True)
    key = run_key(method, budget, seed)
    t0, cpu0 = time.perf_counter(), time.process_time()
    if method == "full":
        idx, info, sel = np.arange(len(st.train)), {}, None
    else:
        idx, info, sel = select_rows(cfg, st, out, method, budget, seed)
    t_sel = time.perf_counter() - t0
    # the proxy's rows in its order (same pool build; ids are checked where the store has them)
    ds = loop.target_dataset(st.train, sel, verify=False)
    set_seed(seed)
    target = _model(cfg, st, cfg.target, seed=1000 + seed)
    callbacks = []
    if method == "full":  # the free in-step losses: the target of the transfer figures
        import hf_s2l

        callbacks.append(
            hf_s2l.TrajectoryCallback(
                target_store_dir(out, st.pool.name, seed),
                mode="in_step",
                metadata_columns=("source",),
                log_to_trainer=False,
                overwrite=True,
            )
        )
    t1 = time.perf_counter()
    tmp = rdir / f".tmp_{key}_{os.getpid()}"
    _trainer(target, training_args(cfg, tmp, seed, cfg.epochs), ds, st, callbacks).train()
    shutil.rmtree(tmp, ignore_errors=True)
    if method == "full":
        stamp_ids(target_store_dir(out, st.pool.name, seed), ds)
    t_train = time.perf_counter() - t1
    t2 = time.perf_counter()
    ev = evaluate(cfg, st, target)
    t_eval = time.perf_counter() - t2
    rec = {
        "pool": st.pool.name,
        "method": method,
        "budget": budget,
        "seed": seed,
        "examples": int(len(idx)),
        "per_source": dict(sorted(Counter(st.sources[idx].tolist()).items())),
        "indices_sha1": indices_sha1(idx),
        "metrics": {k: round(v[0], 6) for k, v in ev.items()},
        "target_parameters": _num_params(target),
        "select_seconds": round(t_sel, 2),
        "train_seconds": round(t_train, 2),
        "eval_seconds": round(t_eval, 2),
        "seconds": round(time.perf_counter() - t0, 2),
        "cpu_seconds": round(time.process_time() - cpu0, 2),  # this process, all threads
        "selection": info,
    }
    arrays = {f"{k}__num": v[1] for k, v in ev.items()} | {f"{k}__den": v[2] for k, v in ev.items()}
    np.savez(rdir / f"{key}.tmp.npz", **arrays)
    os.replace(rdir / f"{key}.tmp.npz", rdir / f"{key}.npz")
    (rdir / f"{key}.tmp.json").write_text(json.dumps(rec, indent=1, default=str))
    os.replace(rdir / f"{key}.tmp.json", rdir / f"{key}.json")  # written last: marks done
    return rec


# ------------------------------------------------------------------------- the grid
_STATE: dict[str, Any] = {}


def _init_worker(cfg: BenchConfig, data: str, out: str) -> None:
    import datasets
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    torch.set_num_threads(cfg.threads)
    _STATE.update(cfg=cfg, data=Path(data), out=Path(out), pools={})


def _pool_state(name: str) -> PoolState:
    pools = _STATE["pools"]
    if name not in pools:
        pools[name] = load_pool(_STATE["cfg"], _STATE["data"], _STATE["out"], name)
    return pools[name]


def _any_task(task: tuple) -> dict[str, Any]:
    """One task of the grid's stream: ``("proxy", pool, seed)``, ``("embeddings", pool, 0)``
    or ``("run", pool, method, budget, seed)``."""
    kind, rest = task[0], task[1:]
    if kind == "run":
        return _run_task(rest)
    name, seed = rest
    st = _pool_state(name)
    if kind == "embeddings":
        ensure_embeddings(st, _STATE["out"])
        return {"task": kind, "pool": name}
    meta = ensure_proxy(_STATE["cfg"], st, _STATE["out"], seed)
    return {"task": kind, "pool": name, "seed": seed, "proxy": meta}


def _wait_ready(pool: str, method: str, timeout: float = 4 * 3600) -> None:
    """Block until the selecting proxy (and the embeddings, if ``method`` needs them) of
    ``pool`` are on disk (another worker prepares them)."""
    out, cfg = _STATE["out"], _STATE["cfg"]
    need = [proxy_dir(out, pool, cfg.proxy_seeds[0]) / "proxy.json"]
    if METHODS[method].embeddings:
        need.append(out / pool / "embeddings.npy")
    t0 = time.monotonic()
    while not all(p.exists() for p in need):
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{pool}: waited {timeout:.0f} s for {need}")
        time.sleep(5)


def stale_runs(cfg: BenchConfig, data: Path, out: Path, tasks: list) -> list[tuple]:
    """Cached runs whose selection the installed hf-s2l no longer reproduces (same seed,
    different rows: e.g. the library's defaults changed). They are run again."""
    stale = []
    for t in tasks:
        pool, method, budget, seed = t
        path = out / pool / "runs" / f"{run_key(method, budget, seed)}.json"
        if method == "full" or not path.exists():
            continue
        rec = json.loads(path.read_text())
        idx, *_ = select_rows(cfg, _pool_state(pool), out, method, budget, seed)
        if rec.get("indices_sha1") != indices_sha1(idx):
            stale.append(t)
    return stale


def _run_task(task: tuple[str, str, float, int]) -> dict[str, Any]:
    pool, method, budget, seed = task
    done = _STATE["out"] / pool / "runs" / f"{run_key(method, budget, seed)}.json"
    if run_done(_STATE["out"], task):  # finished meanwhile by another invocation
        return json.loads(done.read_text())
    try:
        if method != "full":
            _wait_ready(pool, method)
        return run_one(_STATE["cfg"], _pool_state(pool), _STATE["out"], method, budget, seed)
    except Exception as e:  # recorded, not fatal: a rerun retries it
        return {"pool": pool, "method": method, "budget": budget, "seed": seed, "error": repr(e)}


def pool_info(cfg: BenchConfig, data: Path, out: Path, name: str) -> dict[str, Any]:
    if _STATE.get("out") == out and _STATE.get("cfg") is cfg:
        st = _pool_state(name)
    else:
        st = load_pool(cfg, data, out, name)
    return {
        "title": st.pool.title,
        "multi_source": st.pool.multi_source,
        "train_rows": len(st.train),
        "dropped_no_target": st.dropped,
        "sources": dict(sorted(Counter(st.sources.tolist()).items())),
        "mean_tokens": round(st.mean_tokens, 1),
        "evals": {
            ev.name: {
                "title": ev.title,
                "rows": len(ev.rows),
                "lower_is_better": ev.lower_is_better,
                "prefix": ev.prefix,
                "generate": ev.generate,
            }
            for ev in st.pool.evals
        },
    }


def run_grid(
    cfg: BenchConfig, data: Path, out: Path, transfer_only: bool = False
) -> dict[str, Any]:
    """Prepare every pool (proxies, embeddings) then run every missing target run.

    ``transfer_only``: the proxies and the first two seeds' full-data targets only (the
    stores of the transfer figures), no selection."""
    import multiprocessing as mp

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    _init_worker(cfg, str(data), str(out))
    infos = {name: pool_info(cfg, data, out, name) for name in cfg.pools}
    todo_all = plan(cfg, {k: v["multi_source"] for k, v in infos.items()}, transfer_only)
    if not transfer_only and any(
        (out / name / "proxy" / "proxy.json").exists() for name in cfg.pools
    ):
        for name in cfg.pools:
            if (out / name / "proxy" / "proxy.json").exists():
                ensure_embeddings(_pool_state(name), out)
        stale = stale_runs(cfg, data, out, todo_all)
        for t in stale:
            _log(f"selection changed since cached: {t}; running it again")
            (out / t[0] / "runs" / f"{run_key(*t[1:])}.json").unlink()
    todo = [t for t in todo_all if not run_done(out, t)]
    # one stream of tasks: proxies, embeddings, then the runs (full data first: they need
    # neither); a selection run waits in its worker for its pool's proxy/embeddings
    prep: list[tuple] = [("proxy", name, s) for name in cfg.pools for s in cfg.proxy_seeds]
    if not transfer_only and any(METHODS[m].embeddings for m in cfg.methods):
        prep += [("embeddings", name, 0) for name in cfg.pools]
    tasks = prep + [("run", *t) for t in todo]
    _log(f"{len(todo_all)} target runs planned, {len(todo)} to run, {cfg.workers} worker(s)")
    failures: list[dict[str, Any]] = []
    proxies: dict[str, Any] = {}
    done = 0

    def handle(r: dict[str, Any]) -> None:
        nonlocal done
        if r.get("task") == "proxy":
            if r["seed"] == cfg.proxy_seeds[0]:
                proxies[r["pool"]] = r["proxy"]
        elif r.get("task") != "embeddings":
            done += 1
            _report(r, done, len(todo), failures)

    if cfg.workers > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(cfg.workers, _init_worker, (cfg, str(data), str(out))) as pool:
            for r in pool.imap_unordered(_any_task, tasks):
                handle(r)
    else:
        for t in tasks:
            handle(_any_task(t))
    wall = time.perf_counter() - t0
    with open(out / "invocations.jsonl", "a") as f:
        f.write(
            json.dumps(
                {
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - wall)),
                    "wall_seconds": round(wall, 1),
                    "runs": len(todo),
                    "load_start": round(load0, 2),
                    "load_end": round(os.getloadavg()[0], 2),
                    "workers": cfg.workers,
                    "transfer_only": transfer_only,
                }
            )
            + "\n"
        )
    return collect(cfg, out, infos, proxies, failures)


def _report(r: dict[str, Any], i: int, n: int, failures: list) -> None:
    tag = f"[{i}/{n}] {r['pool']:9s} {r['method']:18s} {r['budget']:4.0%} seed {r['seed']}"
    if "error" in r:
        failures.append(r)
        _log(f"{tag}: FAILED {r['error'][:300]}")
    else:
        m = ", ".join(f"{k} {v:.4f}" for k, v in r["metrics"].items())
        _log(f"{tag}: n={r['examples']:5d} {m} ({r['seconds']:.0f} s)")


def collect(
    cfg: BenchConfig,
    out: Path,
    infos: dict[str, Any],
    proxies: dict[str, Any],
    failures: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything cached under ``out`` for this configuration, as one JSON-able dict."""
    import platform

    for name in infos:
        meta = out / name / "proxy" / "proxy.json"
        if name not in proxies and meta.exists():
            proxies[name] = json.loads(meta.read_text())
    runs, missing = [], []
    for t in plan(cfg, {k: v["multi_source"] for k, v in infos.items()}):
        p = out / t[0] / "runs" / f"{run_key(*t[1:])}.json"
        if p.exists():
            runs.append(json.loads(p.read_text()))
        else:
            missing.append(t)
    # a budget is reported over the seeds that are complete for every pool and method (with
    # their full-data run); a budget without any complete seed is left out
    partial, seeds_by_budget = reported_seeds(cfg, missing)
    runs = [
        r
        for r in runs
        if r["seed"] in seeds_by_budget.get(r["budget"], [])
        or (r["method"] == "full" and r["seed"] in set().union(*seeds_by_budget.values()))
    ]
    inv = []
    if (out / "invocations.jsonl").exists():
        inv = [json.loads(x) for x in (out / "invocations.jsonl").read_text().splitlines() if x]
    res = {
        "version": 2,
        "config": asdict(cfg),
        "pools": infos,
        "proxies": proxies,
        "second_proxies": {
            f"{name}/s{sd}": json.loads((proxy_dir(out, name, sd) / "proxy.json").read_text())
            for name in infos
            for sd in cfg.proxy_seeds[1:]
            if (proxy_dir(out, name, sd) / "proxy.json").exists()
        },
        "runs": runs,
        "missing_runs": [list(t) for t in missing],
        "partial_budgets": partial,
        "reported_seeds": {f"{b:g}": v for b, v in seeds_by_budget.items()},
        "failures": failures or [],
        "invocations": inv,
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }
    (out / "results.json").write_text(json.dumps(res, indent=1, default=str))
    return res


def reported_seeds(
    cfg: BenchConfig, missing: list[tuple[str, str, float, int]]
) -> tuple[list[float], dict[float, list[int]]]:
    """``(budgets left out, {budget: seeds reported})``: a seed is reported at a budget when
    none of its runs there, nor its full-data run, is ``missing``."""
    gone_full = {t[3] for t in missing if t[1] == "full"}
    out: dict[float, list[int]] = {}
    for b in sorted(cfg.budgets):
        gone = {t[3] for t in missing if t[1] != "full" and t[2] == b} | gone_full
        seeds = [s for s in cfg.seeds if s not in gone]
        if seeds:
            out[b] = seeds
    return [b for b in sorted(cfg.budgets) if b not in out], out


def load_arrays(
    out: Path, pool: str, method: str, budget: float, seed: int
) -> dict[str, np.ndarray]:
    with np.load(out / pool / "runs" / f"{run_key(method, budget, seed)}.npz") as z:
        return {k: z[k] for k in z.files}
