"""``hf-s2l export SELECTION_DIR --dataset D --out DIR --format parquet|jsonl``."""

from __future__ import annotations

import argparse

from .push import add_dataset_args, build_selected, command_line


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="write the selected raw rows as parquet/jsonl with a provenance card"
    )
    add_dataset_args(p)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty --out folder that is not an earlier export",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from . import check_out_dir, mark_out_dir

    check_out_dir(args.out, kind="export", overwrite=args.overwrite)
    selected, counts = build_selected(args)
    cmd = command_line("export", args, ["--out", args.out, "--format", args.format])
    out = selected.export(
        args.out,
        format=args.format,
        split=args.split,
        command=cmd,
        source_dataset=args.dataset,
        group_counts=counts or None,
    )  # written whole or not at all (hub/export_folder.py)
    mark_out_dir(args.out, "export")  # last: the marker only ever sits beside a complete export
    print(  # noqa: T201
        f"exported {len(selected)} rows ({selected.alignment.method} alignment) to "
        f"{out}/data/{args.split}.{args.format}"
    )
    return 0
