"""End to end: a tiny proxy and a tiny target recorded in-step on the same rows (ids), then
``hf_s2l.transfer`` on the two real stores, the target covering a random sample."""

from __future__ import annotations

import math

import numpy as np


def _tokenize(example, tokenizer):
    p = tokenizer("Q: " + example["instruction"], add_special_tokens=False)["input_ids"][:24]
    p = p + tokenizer("\nA:", add_special_tokens=False)["input_ids"]
    r = tokenizer(" " + example["output"] + tokenizer.eos_token, add_special_tokens=False)
    ids = (p + r["input_ids"])[:64]
    labels = ([-100] * len(p) + r["input_ids"])[:64]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def _record(out, dataset, tokenizer, hidden, epochs, seed):
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from hf_s2l import TrajectoryCallback
    from hf_s2l.experiments.tiny import tiny_model

    args = TrainingArguments(
        output_dir=str(out / "run"),
        per_device_train_batch_size=8,
        num_train_epochs=epochs,
        learning_rate=5e-3,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        use_cpu=True,
        seed=seed,
        logging_steps=50,
    )
    model = tiny_model(
        family="gpt_neox", vocab_size=len(tokenizer), hidden_size=hidden, num_layers=2, seed=seed
    )
    Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
        callbacks=[TrajectoryCallback(out / "store", mode="in_step", id_column="example_id")],
    ).train()
    return out / "store"


def test_in_step_proxy_and_target_end_to_end(tmp_path, math_raw, tokenizer):
    import hf_s2l
    from hf_s2l.store import TrajectoryStore

    raw = math_raw.select(range(48))
    raw = raw.add_column("example_id", [f"row-{i}" for i in range(len(raw))])
    ds = raw.map(
        _tokenize, fn_kwargs={"tokenizer": tokenizer}, remove_columns=raw.column_names[:-1]
    )
    ds = ds.remove_columns([c for c in ds.column_names if c == "source"])
    proxy = _record(tmp_path / "proxy", ds, tokenizer, hidden=16, epochs=3, seed=0)
    sample = np.sort(np.random.default_rng(0).choice(len(ds), 24, replace=False))
    target = _record(tmp_path / "target", ds.select(sample), tokenizer, hidden=64, epochs=2, seed=1)

    ps, ts = TrajectoryStore.open(proxy), TrajectoryStore.open(target)
    assert ps.mode == ts.mode == "in_step"
    assert len(ps.complete_columns()) == 3 and len(ts.complete_columns()) == 2

    r = hf_s2l.transfer(proxy, target, k=4)
    assert (r.n_proxy, r.n_target, r.n_aligned) == (48, 24, 24)
    assert r.alignment == "ids"
    # each of the target's 2 epoch columns met the proxy epoch nearest in progress
    assert [p["target_column"] for p in r.spearman_pairs] == [0, 1]
    assert [p["proxy_column"] for p in r.spearman_pairs] == [0, 2]
    assert r.lp_hardest_overlap is None  # in-step stores have no before-training column
    assert all(math.isfinite(v) for v in (r.spearman, r.variance_explained))
    # the same texts are hard for both models (length, rare tokens): ranks agree
    assert r.spearman > 0.3
    assert r.variance_explained > r.variance_explained_random
