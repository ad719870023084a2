"""``hf-s2l push SELECTION_DIR --dataset D --repo-id ID``: publish the selected rows + card.

The token comes from ``HF_TOKEN`` or ``hf auth login`` (there is no ``--token`` flag, so it
never lands in shell history or in the card's recorded command).
"""

from __future__ import annotations

import argparse

from ..store.commandline import hf_s2l_command


def add_dataset_args(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``push`` and ``export``."""
    p.add_argument("selection", help="selection directory written by `hf-s2l select`")
    p.add_argument(
        "--dataset",
        required=True,
        help="the RAW training set: a save_to_disk dir, a json/jsonl/csv/parquet file or a Hub name",
    )
    p.add_argument("--dataset-config", default=None, help="Hub dataset config name")
    p.add_argument("--split", default="train", help="split to load and publish (default: train)")
    p.add_argument(
        "--id-column",
        default=None,
        help="map the selection through this stable id column (reordered/filtered datasets)",
    )
    p.add_argument(
        "--store",
        default=None,
        help="trajectory store the selection was made from (directory or hf://datasets/...)",
    )
    p.add_argument("--ordered", action="store_true", help="keep the selection's curriculum order")
    p.add_argument(
        "--group-column",
        action="append",
        default=[],
        help="column of the dataset to count per value before/after selection (repeatable)",
    )
    p.add_argument(
        "--trust-unverified",
        action="store_true",
        help="use a selection whose selection.json lost its files_sha256 digests (nothing "
        "then shows whether its indices or ids were edited)",
    )


def build_selected(args: argparse.Namespace):  # -> SelectedDataset
    """Load the dataset and the selection named by ``args`` and align them."""
    from ..data import SelectedDataset, load_any_dataset
    from ..hub.trajectories import open_store
    from ..selection import Selection

    trust = bool(getattr(args, "trust_unverified", False))
    selection = Selection.load(args.selection, trust_unverified=trust)
    raw = load_any_dataset(args.dataset, split=args.split, config=args.dataset_config)
    store = open_store(args.store) if args.store else None
    selected = SelectedDataset(
        raw, selection, id_column=args.id_column, ordered=args.ordered, store=store
    )
    counts = {c: selected.group_counts(c, source=raw) for c in args.group_column}
    return selected, counts


def command_line(name: str, args: argparse.Namespace, extra: list[str]) -> str:
    """The canonical ``hf-s2l`` command reproducing ``args`` (recorded in the card)."""
    options = [
        ("--dataset", args.dataset),
        ("--dataset-config", args.dataset_config or None),
        ("--split", args.split if args.split != "train" else None),
        ("--id-column", args.id_column or None),
        ("--store", args.store or None),
        ("--ordered", bool(args.ordered)),
        ("--group-column", list(args.group_column)),
        ("--trust-unverified", bool(getattr(args, "trust_unverified", False))),
    ]
    return hf_s2l_command(name, [args.selection], options, extra=extra)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "push", help="push the selected raw rows and a provenance dataset card to the Hub"
    )
    add_dataset_args(p)
    p.add_argument("--repo-id", required=True, help="Hub dataset repo, e.g. user/gsm8k-s2l-30")
    vis = p.add_mutually_exclusive_group()
    vis.add_argument(
        "--private",
        dest="private",
        action="store_true",
        default=True,
        help="create the repo private (default)",
    )
    vis.add_argument(
        "--public", dest="private", action="store_false", help="create the repo public"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    selected, counts = build_selected(args)
    cmd = command_line(
        "push", args, ["--repo-id", args.repo_id, "--private" if args.private else "--public"]
    )
    info = selected.push_to_hub(
        args.repo_id,
        private=args.private,
        split=args.split,
        command=cmd,
        source_dataset=args.dataset,
        group_counts=counts or None,
    )
    print(f"pushed {len(selected)} rows ({selected.alignment.method} alignment) to {args.repo_id}")  # noqa: T201
    url = getattr(info, "commit_url", None)
    if url:
        print(url)  # noqa: T201
    return 0
