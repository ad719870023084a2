"""The proxy → select → target loop shared by the demo, the recipes and the benchmark
(hf_s2l/experiments/loop.py), on a real tiny Trainer run and real stores/selections."""

from __future__ import annotations

import numpy as np
import pytest

from hf_s2l.experiments import loop


def test_has_target_follows_the_causal_shift():
    # position 0 is never predicted by a causal LM: its label alone is no target
    assert not loop.has_target([5, -100, -100], shift=True)
    assert loop.has_target([5, -100, -100], shift=False)  # encoder-decoder: no shift
    assert loop.has_target([-100, -100, 7], shift=True)
    assert not loop.has_target([-100, -100], shift=False)
    assert not loop.has_target([], shift=True)
    assert loop.has_target(np.array([-100, 3]), shift=True)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, math_raw, tokenizer):
    """A 24-row tiny proxy run: row 0's only label is at position 0, row 1 has none."""
    from transformers import DataCollatorForSeq2Seq, TrainingArguments

    from hf_s2l import RecordingSchedule, tokenize_sft
    from hf_s2l.experiments.tiny import tiny_model

    def edit(row, i):
        if i == 0:
            row["labels"] = [row["input_ids"][0]] + [-100] * (len(row["input_ids"]) - 1)
        elif i == 1:
            row["labels"] = [-100] * len(row["input_ids"])
        row["source"] = "a" if i % 2 else "b"
        return row

    raw = math_raw.select(range(0, 96, 4))  # 24 rows, every source
    ds = raw.map(
        tokenize_sft,
        fn_kwargs={"tokenizer": tokenizer, "max_length": 512},
        remove_columns=raw.column_names,
    ).map(edit, with_indices=True)
    out = tmp_path_factory.mktemp("loop")
    args = TrainingArguments(
        output_dir=str(out / "run"),
        num_train_epochs=1,
        per_device_train_batch_size=8,
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
    )
    model = tiny_model(family="gpt_neox", vocab_size=len(tokenizer), hidden_size=16, num_layers=1)
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    store, seconds = loop.record_proxy(
        model,
        args,
        ds,
        collator,
        out / "store",
        schedule=RecordingSchedule(num_points=1),
        metadata_columns=("source",),
        log_to_trainer=False,
    )
    return ds, store, seconds, out


def test_has_target_is_the_probes_nan_rule(recorded):
    ds, store, seconds, _ = recorded
    assert seconds > 0
    assert store.num_examples == len(ds) and store.num_columns >= 2
    scored = [loop.has_target(lab, shift=True) for lab in ds["labels"]]
    assert scored[:2] == [False, False] and all(scored[2:])
    for c in store.complete_columns():
        np.testing.assert_array_equal(np.isnan(store.column_values(int(c))), ~np.asarray(scored))
    kept, keep = loop.drop_rows_without_target(ds, shift=True)
    assert keep == scored and len(kept) == len(ds) - 2
    assert kept["input_ids"][0] == ds["input_ids"][2]


def test_select_all_reports_failures_and_saves_the_rest(recorded):
    from hf_s2l import Selection

    ds, store, _, out = recorded
    methods = {
        "random": ("random", {}),
        "by_source": ("random", {"by_column": "source"}),
        # one recorded point after step 0: too few trained columns for S2L (a ValueError)
        "s2l": ("s2l", {"num_clusters": 2}),
    }
    errors = []
    sels, failures = loop.select_all(
        store,
        methods,
        8,
        seed=0,
        save_dir=out / "selections",
        on_error=lambda name, e: errors.append(name),
    )
    assert set(sels) == {"random", "by_source"}
    assert list(failures) == ["s2l"] == errors
    assert "s2l needs at least 2" in failures["s2l"]
    for name, sel in sels.items():
        assert len(sel.indices) == 8
        again = Selection.load(out / "selections" / name)
        np.testing.assert_array_equal(again.indices, sel.indices)
    assert not (out / "selections" / "s2l").exists()


def test_target_dataset_goes_through_selected_dataset(recorded):
    from hf_s2l import SelectedDataset, add_example_ids, select

    ds, store, _, _ = recorded
    assert loop.target_dataset(ds, None) is ds  # the full-data run
    sel = select(store, "random", 6, seed=1)
    sub = loop.target_dataset(ds, sel)
    assert isinstance(sub, SelectedDataset)
    assert sub["input_ids"] == [ds["input_ids"][i] for i in sel.indices]
    # another row order (e.g. the target's own tokenisation): matched by id, not position
    with_ids = add_example_ids(ds)
    ids = np.asarray(with_ids["example_id"])
    store_ids = type(store).open(store.path, mode="r+")
    store_ids.set_example_ids(ids)
    store_ids.close()
    sel = select(type(store).open(store.path), "random", 6, seed=1)
    shuffled = with_ids.select(list(range(len(ds)))[::-1])
    sub = loop.target_dataset(shuffled, sel, id_column="example_id")
    assert sorted(sub["example_id"]) == sorted(ids[sel.indices].tolist())
