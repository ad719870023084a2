"""``hf_s2l_command`` builds the same characters as the three old builders."""

from __future__ import annotations

import argparse
import json
import shlex

import pytest

from hf_s2l.commands.push import command_line as push_command_line
from hf_s2l.selection.provenance import cli_command
from hf_s2l.store.commandline import hf_s2l_command

SELECT_CASES = [
    ("runs/store", "s2l", 0.3, 0, None, True, {}, "OUT_DIR", None),
    ("my store/ü", "lp", 100, 42, "source", True, {"k": 8, "x": "a b"}, "out dir", None),
    ("it's;$(rm)", "random", 5, 1, "grp col", False, {"w": [1, 2], "n": None}, "O", "emb 1.npy"),
    ("/p", "s2l", 1e-3, 7, "", False, {"q": {"a": "b'c"}}, "OUT_DIR", ""),
]


def _new_select(store, method, budget, seed, by_column, stratify, params, out, emb):
    opts = [("--method", method), ("--budget", repr(budget)), ("--seed", seed), ("--out", out)]
    if by_column:
        opts += [("--by-column", by_column), ("--no-stratify", not stratify)]
    opts += [("--embeddings", emb or None)]
    opts += [
        ("--param", f"{k}={v if isinstance(v, str) else json.dumps(v)}") for k, v in params.items()
    ]
    return hf_s2l_command("select", [store], opts)


@pytest.mark.parametrize("case", SELECT_CASES)
def test_select_command_is_identical(case):
    old = cli_command(*case[:7], out=case[7], embeddings_file=case[8])
    assert _new_select(*case) == old
    assert shlex.split(old)[:3] == ["hf-s2l", "select", case[0]]


@pytest.mark.parametrize(
    "store,method,budget,seed",
    [("runs/store", "s2l", 0.3, 0), ("my store/ü x", "lp", 100, 42), ("it's;$(x)", "random", 5, 1)],
)
def test_card_fallback_is_identical(store, method, budget, seed):
    old = (
        f"hf-s2l select {shlex.quote(str(store))} --method {method} "
        f"--budget {budget} --seed {seed} --out SELECTION_DIR"
    )  # data/card.py's fallback (method names are identifiers: unquoted there)
    new = hf_s2l_command(
        "select",
        [store],
        {"--method": method, "--budget": budget, "--seed": seed, "--out": "SELECTION_DIR"},
    )
    assert new == old


PUSH_CASES = [
    dict(
        selection="sel",
        dataset="gsm8k",
        dataset_config=None,
        split="train",
        id_column=None,
        store=None,
        ordered=False,
        group_column=[],
    ),
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
]


@pytest.mark.parametrize("kw", PUSH_CASES)
@pytest.mark.parametrize("name,extra", [("push", ["--repo-id", "u/r x"]), ("export", [])])
def test_push_command_is_identical(kw, name, extra):
    args = argparse.Namespace(**kw)
    old = push_command_line(name, args, extra)
    new = hf_s2l_command(
        name,
        [args.selection],
        [
            ("--dataset", args.dataset),
            ("--dataset-config", args.dataset_config or None),
            ("--split", args.split if args.split != "train" else None),
            ("--id-column", args.id_column or None),
            ("--store", args.store or None),
            ("--ordered", bool(args.ordered)),
            ("--group-column", list(args.group_column)),
        ],
        extra=extra,
    )
    assert new == old


def test_pinned():
    assert hf_s2l_command("select", ["a b"], {"--x": True, "--y": None, "--z": [1, 2]}) == (
        "hf-s2l select 'a b' --x --z 1 --z 2"
    )
