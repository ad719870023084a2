"""Shared fixtures for data/hub tests: real GSM8K rows, tiny tokenizers trained on the spot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GSM8K = Path(__file__).resolve().parents[1] / "fixtures/data/math_mix/gsm8k/train.jsonl"


def gsm8k_rows(n: int = 60) -> list[dict]:
    """The first ``n`` rows of the committed GSM8K train slice (200 rows)."""
    with open(GSM8K) as f:
        rows = [json.loads(line) for _, line in zip(range(n), f)]
    if len(rows) < n:
        raise ValueError(f"{GSM8K} has only {len(rows)} rows; asked for {n}")
    return rows


def raw_dataset(n: int = 60, with_source: bool = True):
    import datasets

    rows = gsm8k_rows(n)
    data = {"question": [r["question"] for r in rows], "answer": [r["answer"] for r in rows]}
    if with_source:
        data["source"] = ["gsm8k" if i % 3 else "aqua" for i in range(len(rows))]
    return datasets.Dataset.from_dict(data)


def train_tokenizer(texts: list[str], kind: str, directory: Path):
    """Train a tiny WordLevel or BPE tokenizer, save it and load it back as a fast tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<unk>", "<eos>"]
    if kind == "wordlevel":
        tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
        trainer = trainers.WordLevelTrainer(vocab_size=2000, special_tokens=special)
    else:
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=special)
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", eos_token="<eos>"
    )
    fast.save_pretrained(directory)
    return PreTrainedTokenizerFast.from_pretrained(directory)


def tokenize_fn(tokenizer, max_length: int = 512):
    def fn(batch):
        texts = [q + " " + a for q, a in zip(batch["question"], batch["answer"])]
        enc = tokenizer(texts, truncation=True, max_length=max_length)
        enc["labels"] = [list(x) for x in enc["input_ids"]]
        return enc

    return fn


def make_store(path: Path, proxy_train, *, with_ids: bool = True):
    """A small complete trajectory store 'recorded' on ``proxy_train`` (random losses)."""
    from hf_s2l.store import TrajectoryStore

    n = len(proxy_train)
    ids = (
        proxy_train["example_id"] if with_ids and "example_id" in proxy_train.column_names else None
    )
    store = TrajectoryStore.create(
        path,
        n,
        dataset_fingerprint=proxy_train._fingerprint,
        model_name_or_path="tiny-proxy",
        example_ids=list(ids) if ids is not None else None,
        extra={"recorder": {"schedule": {"train_begin": True, "num_points": 2}}},
    )
    rng = np.random.default_rng(0)
    for step in (0, 5, 10):
        c = store.add_column(global_step=step, epoch=step / 10, kind="point")
        store.write(c, np.arange(n), rng.random(n).astype(np.float32))
        store.mark_complete(c)
    return store


def make_selection(store, indices, **kw):
    from hf_s2l.selection import Selection

    idx = np.sort(np.asarray(indices, dtype=np.int64))
    ids = store.example_ids
    return Selection(
        indices=idx,
        method=kw.pop("method", "s2l"),
        params=kw.pop("params", {"num_clusters": 3}),
        seed=kw.pop("seed", 7),
        num_examples=store.num_examples,
        store_fingerprint=store.fingerprint,
        dataset_fingerprint=store.dataset_fingerprint,
        example_ids=None if ids is None else ids[idx],
        provenance=kw.pop(
            "provenance",
            {
                "store": str(store.path),
                "model": "tiny-proxy",
                "command": "hf-s2l select STORE --method s2l --budget 12 --out SEL",
            },
        ),
        **kw,
    )
