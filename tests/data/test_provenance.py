"""``data.provenance`` builds the typed card provenance of a SelectedDataset: aliases of hand-made
selections, the fallback selection command, counts from three sources; and the push/export
command recorded in the card is the one the old builder wrote, character for character."""

from __future__ import annotations

import argparse

import datasets
import numpy as np
import pytest

from hf_s2l import SelectedDataset, add_example_ids
from hf_s2l.commands.push import command_line
from hf_s2l.data import selection_provenance
from hf_s2l.hub.provenance import GroupCount, SelectionProvenance

from .helpers import make_selection, make_store


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prov") / "my store"  # a space: the command quotes it
    n = 12
    raw = add_example_ids(
        datasets.Dataset.from_dict(
            {
                "text": [f"row {i}" for i in range(n)],
                "src": ["a" if i % 3 else "b" for i in range(n)],
            }
        )
    )
    proxy = raw.map(lambda r: {"input_ids": [1, 2]}, remove_columns=["text", "src"])
    store = make_store(tmp, proxy)
    w = type(store).open(store.path, "r+")
    w.set_metadata("src", np.array(raw["src"]))
    return raw, type(store).open(store.path)


def test_hand_made_provenance_aliases_and_the_fallback_command(parts):
    raw, store = parts
    sel = make_selection(
        store,
        [0, 3, 4, 9],
        stats={"clusters": [{"cluster": 0, "size": 8, "selected": 3}, {"size": 4, "selected": 1}]},
        provenance={"store": str(store.path), "model": {"name": "m-1"}, "command": None},
    )
    sd = SelectedDataset(raw, sel, store=store, id_column="example_id")
    prov = selection_provenance(sd, command="hf-s2l export x --token hf_abcdefghijkl")
    assert isinstance(prov, SelectionProvenance)
    assert prov.proxy_model == "m-1"
    # the old f-string left the method unquoted: same characters for an identifier
    assert prov.reproduce.selection_command == (
        f"hf-s2l select '{store.path}' --method s2l --budget 4 --seed 7 --out SELECTION_DIR"
    )
    assert prov.reproduce.command == "hf-s2l export x"  # token redacted
    assert prov.counts["src"] == {"a": GroupCount(8, 1), "b": GroupCount(4, 3)}  # store metadata
    assert prov.counts["clusters"] == {"0": GroupCount(8, 3), "1": GroupCount(4, 1)}  # stats
    assert prov.recording_schedule.schedule == {"train_begin": True, "num_points": 2}
    assert prov.alignment.method == "id_column" and prov.fraction == round(4 / 12, 6)
    over = selection_provenance(sd, group_counts={"src": {"a": {"before": 1, "after": 0}}})
    assert over.counts["src"] == {"a": GroupCount(1, 0)}  # passed-in counts replace the store's
    assert list(over.counts) == ["src", "clusters"]


PINNED = [
    (
        dict(
            selection="my sel/ü",
            dataset="data.jsonl",
            dataset_config="main",
            split="test",
            id_column="id col",
            store="st ore",
            ordered=True,
            group_column=["a", "b c"],
        ),
        "hf-s2l push 'my sel/ü' --dataset data.jsonl --dataset-config main --split test "
        "--id-column 'id col' --store 'st ore' --ordered --group-column a --group-column 'b c' "
        "--repo-id 'u/r x' --private",
    ),
    (
        dict(
            selection="it's",
            dataset="$(x)",
            dataset_config="",
            split="train",
            id_column="",
            store="",
            ordered=False,
            group_column=["g"],
        ),
        "hf-s2l push 'it'\"'\"'s' --dataset '$(x)' --group-column g --repo-id 'u/r x' --private",
    ),
]


@pytest.mark.parametrize("kw,expected", PINNED)
def test_push_command_line_is_the_old_string(kw, expected):
    """Pinned output of the pre-issue-21 ``commands/push.py`` builder."""
    args = argparse.Namespace(**kw)
    assert command_line("push", args, ["--repo-id", "u/r x", "--private"]) == expected
