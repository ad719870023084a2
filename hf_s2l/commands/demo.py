"""``hf-s2l demo [--out DIR] [--fast]``: the whole pipeline offline, on CPU, in minutes."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole pipeline offline on a small real math mixture (CPU, minutes)",
        description=(
            "Hold out 10% of every source of 1,200 of the 1,500 embedded math examples, train a tiny proxy "
            "3 epochs with TrajectoryCallback on the rest, select 30% with S2L (by source), "
            "random by source, random and LP(1), train a larger tiny target 3 epochs on each "
            "selection and on all data, and compare their losses on the held-out split. "
            "Writes results.json, results.md and an HTML report to --out."
        ),
    )
    p.add_argument("--out", default=None, help="output directory (default: ./hf-s2l-demo)")
    p.add_argument(
        "--fast",
        action="store_true",
        help="a smaller run for CI (about a minute on an idle machine)",
    )
    p.add_argument("--budget", type=float, default=0.3, help="fraction to select (default 0.3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default 1)")
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="hide progress bars (hidden anyway when stderr is not a terminal)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..experiments.demo import DemoConfig, run_demo

    cfg = DemoConfig.fast() if args.fast else DemoConfig()
    if args.out:
        cfg.out_dir = args.out
    cfg.budget = args.budget
    cfg.seed = args.seed
    if args.threads:
        cfg.num_threads = args.threads
    # bars redrawn in a log file or pipe leave cursor-movement lines ("\x1b[A"): terminal only
    cfg.progress_bars = not args.no_progress and sys.stderr.isatty()
    result = run_demo(cfg, progress=print)
    print()
    print(result.table)
    print()
    print(result.summary)
    print(f"Lower is better. Total time {result.total_seconds:.0f} s.")
    print(f"results: {result.results_md}  {result.results_json}")
    print(f"report:  {result.report_html}")
    return 0
