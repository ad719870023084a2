"""SelectedDataset: alignment across tokenizers, id mapping, curriculum, weights, errors."""

from __future__ import annotations

import logging

import datasets
import numpy as np
import pytest

from hf_s2l import AlignmentError, SelectedDataset, add_example_ids
from hf_s2l.data import content_fingerprint, curriculum_trainer, inverse_frequency_weights
from hf_s2l.selection import Selection

from .helpers import make_selection, make_store, raw_dataset, tokenize_fn, train_tokenizer

SELECTED = [1, 4, 5, 9, 13, 20, 21, 33, 40, 47, 52, 58]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    datasets.disable_progress_bars()
    tmp = tmp_path_factory.mktemp("sel")
    raw = add_example_ids(raw_dataset(60))
    texts = [q + " " + a for q, a in zip(raw["question"], raw["answer"])]
    tok_proxy = train_tokenizer(texts, "wordlevel", tmp / "tok_proxy")
    tok_target = train_tokenizer(texts, "bpe", tmp / "tok_target")
    proxy_train = raw.map(
        tokenize_fn(tok_proxy), batched=True, remove_columns=["question", "answer", "source"]
    )
    store = make_store(tmp / "store", proxy_train)
    sel = make_selection(store, SELECTED)
    return {
        "raw": raw,
        "tok_proxy": tok_proxy,
        "tok_target": tok_target,
        "proxy_train": proxy_train,
        "store": store,
        "sel": sel,
        "tmp": tmp,
    }


def _expected_target_ids(setup, rows):
    tok = setup["tok_target"]
    raw = setup["raw"]
    return [
        tok(raw[int(i)]["question"] + " " + raw[int(i)]["answer"], truncation=True, max_length=512)[
            "input_ids"
        ]
        for i in rows
    ]


def test_two_tokenizers_positional(setup):
    raw, sel = setup["raw"], setup["sel"]
    target = raw.map(tokenize_fn(setup["tok_target"]), batched=True)
    # different vocabularies -> different lengths
    lp = [len(x) for x in setup["proxy_train"]["input_ids"]]
    lt = [len(x) for x in target["input_ids"]]
    assert lp != lt
    assert target._fingerprint != sel.dataset_fingerprint

    sd = SelectedDataset(target, sel)
    assert isinstance(sd, datasets.Dataset)
    assert sd.alignment.method == "example_ids"
    assert len(sd) == len(SELECTED)
    assert list(sd["question"]) == [raw[i]["question"] for i in SELECTED]
    assert [list(x) for x in sd["input_ids"]] == _expected_target_ids(setup, SELECTED)
    assert list(sd["example_id"]) == [raw[i]["example_id"] for i in SELECTED]
    np.testing.assert_array_equal(sd.source_indices, SELECTED)
    # behaves like a datasets.Dataset
    assert "input_ids" in sd.column_names
    assert sd[0]["question"] == raw[SELECTED[0]]["question"]
    assert len(sd.to_pandas()) == len(SELECTED)
    assert sd.with_format("numpy")[0]["input_ids"].dtype.kind == "i"
    assert len(sd.map(lambda r: {"n": len(r["input_ids"])})["n"]) == len(SELECTED)
    # the proxy's own dataset aligns by fingerprint
    own = SelectedDataset(setup["proxy_train"], sel)
    assert own.alignment.method == "fingerprint"
    assert list(own["example_id"]) == list(sd["example_id"])


def test_shuffled_and_filtered_target_via_id_column(setup):
    raw, sel = setup["raw"], setup["sel"]
    shuffled = raw.shuffle(seed=3).map(tokenize_fn(setup["tok_target"]), batched=True)
    sd = SelectedDataset(shuffled, sel, id_column="example_id")
    assert sd.alignment.method == "id_column"
    assert list(sd["question"]) == [raw[i]["question"] for i in SELECTED]
    assert [list(x) for x in sd["input_ids"]] == _expected_target_ids(setup, SELECTED)

    keep = set(SELECTED) | {0, 2, 3}
    filtered = raw.filter(lambda r, i: i in keep, with_indices=True).shuffle(seed=1)
    filtered = filtered.map(tokenize_fn(setup["tok_target"]), batched=True)
    sd = SelectedDataset(filtered, sel, id_column="example_id")
    assert len(sd) == len(SELECTED)
    assert list(sd["question"]) == [raw[i]["question"] for i in SELECTED]

    # positional alignment refuses both
    with pytest.raises(AlignmentError, match="another order"):
        SelectedDataset(shuffled, sel)
    with pytest.raises(AlignmentError, match="rows but the selection"):
        SelectedDataset(filtered, sel)


def test_missing_ids_listed(setup):
    raw, sel = setup["raw"], setup["sel"]
    dropped = {SELECTED[0], SELECTED[3]}
    target = raw.filter(lambda r, i: i not in dropped, with_indices=True)
    with pytest.raises(AlignmentError) as e:
        SelectedDataset(target, sel, id_column="example_id")
    msg = str(e.value)
    assert "2 of 12 selected example ids are missing" in msg
    assert raw[SELECTED[0]]["example_id"] in msg


def test_bad_inputs(setup, tmp_path, caplog):
    raw, sel = setup["raw"], setup["sel"]
    # id column missing
    with pytest.raises(AlignmentError, match="no id column 'uid'"):
        SelectedDataset(raw, sel, id_column="uid")
    # duplicate ids in the target
    dup = raw.remove_columns("example_id").add_column(
        "example_id", [f"id{i % 50}" for i in range(len(raw))]
    )
    with pytest.raises(AlignmentError, match="duplicated"):
        SelectedDataset(dup, sel, id_column="example_id")
    # selection from another store
    other_proxy = raw.select(range(60)).map(lambda r: {"x": 1})
    other = make_store(tmp_path / "other", other_proxy)
    with pytest.raises(AlignmentError, match="another trajectory store"):
        SelectedDataset(raw, sel, store=other)
    # selection from another dataset (other size)
    with pytest.raises(AlignmentError, match="60 rows"):
        SelectedDataset(raw.select(range(30)), sel)
    # fingerprint differs and no ids to check
    no_ids = Selection(
        indices=sel.indices,
        method="random",
        num_examples=60,
        dataset_fingerprint=sel.dataset_fingerprint,
    )
    plain = raw.remove_columns("example_id")
    with pytest.raises(AlignmentError, match="add_example_ids"):
        SelectedDataset(plain, no_ids)
    with pytest.raises(AlignmentError, match="carries no example ids"):
        SelectedDataset(raw, no_ids, id_column="example_id")
    # verify=False: accepted with a warning, refused for publishing
    caplog.set_level(logging.WARNING)
    with caplog.at_level(logging.WARNING, logger="hf_s2l"):
        sd = SelectedDataset(plain, no_ids, verify=False)
    assert sd.alignment.method == "unverified"
    with pytest.raises(AlignmentError, match="refusing to publish"):
        sd.export(tmp_path / "out")
    # indices out of range
    oob = Selection(indices=[3, 70], method="random")
    with pytest.raises(AlignmentError, match="out of range"):
        SelectedDataset(plain, oob, verify=False)
    with pytest.raises(ValueError, match="out of range"):
        Selection(indices=[3, 70], method="random", num_examples=60)
    # ordered without an order; weights without weights
    with pytest.raises(ValueError, match="no order"):
        SelectedDataset(raw, sel, ordered=True)
    with pytest.raises(ValueError, match="no weights"):
        SelectedDataset(raw, sel, weight_column="w")
    with pytest.raises(TypeError, match="one split"):
        SelectedDataset(datasets.DatasetDict({"train": raw}), sel)


def test_ordered_and_weights(setup):
    raw, store = setup["raw"], setup["store"]
    order = np.array(SELECTED[::-1])
    w = np.linspace(1, 2, len(SELECTED)).astype(np.float32)
    sel = make_selection(store, SELECTED, order=order, weights=w)
    sd = SelectedDataset(raw, sel, ordered=True, weight_column="weight")
    assert list(sd["question"]) == [raw[int(i)]["question"] for i in order]
    np.testing.assert_allclose(sd["weight"], w[::-1])
    # shuffled target: id mapping keeps order and weights attached to the right rows
    sd2 = SelectedDataset(
        raw.shuffle(seed=0), sel, id_column="example_id", ordered=True, weight_column="weight"
    )
    assert list(sd2["question"]) == list(sd["question"])
    np.testing.assert_allclose(sd2["weight"], w[::-1])
    iw = inverse_frequency_weights(["a", "a", "b", "c"])
    np.testing.assert_allclose(iw.mean(), 1.0, rtol=1e-6)
    assert iw[2] == pytest.approx(2 * iw[0])


def test_add_example_ids_and_content_fingerprint(setup):
    raw = raw_dataset(10, with_source=False)
    a = add_example_ids(raw)
    b = add_example_ids(datasets.Dataset.from_pandas(raw.to_pandas()))
    assert a["example_id"] == b["example_id"]
    assert all(len(x) == 16 for x in a["example_id"])
    # survives tokenization-like maps and reordering
    m = a.map(lambda r: {"n": len(r["question"])}, remove_columns=["question"]).shuffle(seed=0)
    assert sorted(m["example_id"]) == sorted(a["example_id"])
    # duplicates get suffixes
    d = add_example_ids(datasets.concatenate_datasets([raw, raw.select([0])]))
    assert d["example_id"][-1] == d["example_id"][0] + "#1"
    assert len(set(d["example_id"])) == len(d)
    idx = add_example_ids(raw, "rid", method="index")
    assert idx["rid"] == list(range(10))
    with pytest.raises(ValueError, match="already has"):
        add_example_ids(a)
    assert content_fingerprint(raw) == content_fingerprint(b.remove_columns("example_id"))
    assert content_fingerprint(raw) != content_fingerprint(raw.select(range(9)))


def test_save_to_disk_writes_card(setup, tmp_path):
    sd = SelectedDataset(setup["raw"], setup["sel"])
    sd.save_to_disk(tmp_path / "saved")
    back = datasets.load_from_disk(str(tmp_path / "saved"))
    assert back["question"] == list(sd["question"])
    text = (tmp_path / "saved" / "README.md").read_text()
    assert "hf_s2l:" in text and "store_fingerprint" in text


def test_trainer_trains_on_selected_dataset(setup, tmp_path):
    import torch
    from transformers import (
        DataCollatorForLanguageModeling,
        GPTNeoXConfig,
        GPTNeoXForCausalLM,
        Trainer,
        TrainingArguments,
    )

    torch.manual_seed(0)
    tok = setup["tok_target"]
    target = setup["raw"].map(tokenize_fn(tok, max_length=32), batched=True)
    order = np.array(SELECTED[::-1])
    sel = make_selection(setup["store"], SELECTED, order=order)
    sd = SelectedDataset(target, sel, ordered=True)
    cfg = GPTNeoXConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    model = GPTNeoXForCausalLM(cfg)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=4,
        max_steps=3,
        learning_rate=1e-3,
        report_to="none",
        use_cpu=True,
        save_strategy="no",
        logging_steps=1,
        disable_tqdm=True,
    )
    collator = DataCollatorForLanguageModeling(tok, mlm=False)
    trainer_cls = curriculum_trainer()
    trainer = trainer_cls(model=model, args=args, train_dataset=sd, data_collator=collator)
    # the curriculum trainer presents rows in the selection's order
    first = next(iter(trainer.get_train_dataloader()))
    expected = list(sd[0]["input_ids"])
    assert first["input_ids"][0][: len(expected)].tolist() == expected
    sampler = trainer._get_train_sampler()
    assert isinstance(sampler, torch.utils.data.SequentialSampler)
    out = trainer.train()
    assert out.global_step == 3
    assert np.isfinite(out.training_loss)
    # plain Trainer works too (random sampler), with raw text columns removed automatically
    trainer2 = Trainer(model=model, args=args, train_dataset=sd, data_collator=collator)
    assert trainer2.train().global_step == 3
    # transformers >= 5: the documented argument keeps the curriculum order as well
    if hasattr(args, "train_sampling_strategy"):
        args.train_sampling_strategy = "sequential"
        trainer3 = Trainer(model=model, args=args, train_dataset=sd, data_collator=collator)
        assert isinstance(trainer3._get_train_sampler(), torch.utils.data.SequentialSampler)
