"""``hf-s2l report STORE [--selection DIR] [--out DIR]``: HTML + PNG plots of a trajectory store."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write an HTML report with plots of a trajectory store (and a selection)",
        description=(
            "Write index.html and PNG plots: loss trajectories by cluster, cluster sizes, "
            "group distribution (full set vs selection), LP(1) histogram, cartography data map, "
            "NaN/coverage per column."
        ),
    )
    p.add_argument(
        "store", help="trajectory store directory, or hf://datasets/<owner>/<name> on the Hub"
    )
    p.add_argument("--selection", default=None, help="a saved Selection directory to overlay")
    p.add_argument(
        "--out",
        default=None,
        help="output directory (default: ./<store folder name>-report in the current "
        "directory; nothing is written into the store)",
    )
    p.add_argument(
        "--by-column",
        default=None,
        help="store metadata column for the group plot (default: the selection's, else 'source')",
    )
    p.add_argument("--num-clusters", type=int, default=None, help="k-means clusters to plot")
    p.add_argument("--seed", type=int, default=0, help="seed for k-means and sampling")
    p.add_argument(
        "--target-store",
        default=None,
        help="a target model's store over the same examples: adds the transfer section "
        "(does the proxy stand for the target? see hf-s2l transfer)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty --out folder that is not an earlier report",
    )
    p.set_defaults(func=run)


def default_out_dir(store: str) -> str:
    """``./<store folder name>-report`` (also for ``hf://`` store paths)."""
    name = store.rstrip("/").rsplit("/", 1)[-1] or "store"
    return f"{name}-report"


def run(args: argparse.Namespace) -> int:
    from ..hub.trajectories import open_store
    from ..report import build_report
    from . import check_out_dir, mark_out_dir

    out = str(
        check_out_dir(
            args.out or default_out_dir(args.store), kind="report", overwrite=args.overwrite
        )
    )
    store = open_store(args.store)
    target = open_store(args.target_store) if args.target_store else None
    if target is not None:  # asked for: a transfer section that cannot be made is an error
        from ..transfer_check import align_rows, match_columns

        align_rows(store, target)
        match_columns(store, target)
    report = build_report(
        store,
        selection=args.selection,
        out=out,
        by_column=args.by_column,
        num_clusters=args.num_clusters,
        seed=args.seed,
        target_store=target,
    )
    mark_out_dir(out, "report")
    for name, fig in report.figures.items():
        print(f"  {name:14s} {fig.path}")
    for name, why in report.skipped.items():
        print(f"  {name:14s} skipped: {why}")
    print(f"report: {report.html}")
    transfer = report.summary.get("transfer") or {}
    if "error" in transfer:
        raise ValueError(
            f"--target-store {args.target_store}: no transfer section, {transfer['error']} "
            f"(the rest of the report is in {report.html})"
        )
    return 0
