"""Preparing a pool: its rows tokenised, the proxies (recorded once), the embeddings."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import pools as P
from .cache import proxy_dir
from .config import BenchConfig
from .evaluation import evaluate


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _num_params(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))


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
    ds, has_target = loop.drop_rows_without_target(ds)
    dropped = int(len(has_target) - sum(has_target))
    if dropped:
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
    """The one set of hyper-parameters of every proxy and target run (the demo's too)."""
    from hf_s2l.experiments.loop import cpu_training_args

    return cpu_training_args(
        out,
        epochs=epochs,
        batch_size=cfg.batch_size,
        learning_rate=cfg.learning_rate,
        scheduler=cfg.scheduler,
        warmup_ratio=cfg.warmup_ratio,
        seed=seed,
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
