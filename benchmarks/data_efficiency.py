"""Data-efficiency benchmark v2: does selecting with a small proxy's loss trajectories help a
target, on the official S2L protocol, with paired statistics?

Three pools (``_data_efficiency/pools.py``): the math mixture (4 sources), GSM8K train only
(single source) and radiology findings -> impression. For each pool:

1. a byte-level BPE tokenizer and a tiny GPT-NeoX *proxy* are trained from scratch; the proxy
   trains 3 epochs with ``hf_s2l.TrajectoryCallback`` (default schedule: step 0, 12 points,
   epoch ends; ``mode="both"`` so the free in-step losses are recorded too);
2. every method of ``_data_efficiency/methods.py`` selects 10%, 30%, 50% for seeds 0, 1, 2;
3. a >= 4x larger *target* trains 3 epochs (cosine, 3% warm-up, same hyper-parameters) on
   every subset and on the full data;
4. every target is scored on the pool's held-out 10% and its other evaluations; each run is
   cached (``<out>/<pool>/runs/``), so an interrupted run resumes.

``--write-docs`` regenerates the marked section of ``docs/benchmarks.md`` and its plots
(only its own section: v2, the transfer figures, or the headline).

``--headline``: the math mixture at >= 4,000 training rows, where the target learns; the
trimmed method set (plus S2L and random with proportional source quotas) at 10% and 30%,
5 seeds, the target at the protocol's 3 epochs (its own section). ``--transfer-only``: just the stores
of the proxy -> target transfer figures (two proxies, the first seed's full-data target with
its free in-step store) and their section. Every configuration records both and reports
``hf_s2l.transfer`` for every pool (``_data_efficiency/transfer.py``).

Usage::

    python benchmarks/data_efficiency.py --data DATA --write-docs   # the full grid
    python benchmarks/data_efficiency.py --data DATA --smoke        # smallest, CI
    python benchmarks/data_efficiency.py --data DATA --headline --write-docs
    python benchmarks/data_efficiency.py --data DATA --transfer-only --write-docs

``DATA`` is a folder laid out like ``tests/fixtures/data`` (``math_mix/``, ``math_eval/``,
``radiology_iu/``) holding the full public files.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _data_efficiency.cache import collect  # noqa: E402
from _data_efficiency.config import BenchConfig  # noqa: E402
from _data_efficiency.docs_headline import headline_section, transfer_section  # noqa: E402
from _data_efficiency.docs_v2 import (  # noqa: E402
    DOCS_END,
    DOCS_START,
    HEADLINE_END,
    HEADLINE_START,
    TRANSFER_END,
    TRANSFER_START,
    docs_section,
    write_docs,
)
from _data_efficiency.figures import plot  # noqa: E402
from _data_efficiency.grid import pool_info, run_grid  # noqa: E402
from _data_efficiency.methods import LABELS, METHODS  # noqa: E402
from _data_efficiency.stats import bootstrap_interval, seed_interval, verdict  # noqa: E402
from _data_efficiency.summary import summarize  # noqa: E402
from _data_efficiency.tables import transfer_table, value_table  # noqa: E402
from _data_efficiency.transfer import all_transfer  # noqa: E402

__all__ = [
    "DOCS_END",
    "DOCS_START",
    "LABELS",
    "METHODS",
    "BenchConfig",
    "bootstrap_interval",
    "main",
    "seed_interval",
    "verdict",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="S2L / LP data-efficiency benchmark v2")
    p.add_argument(
        "--data",
        required=True,
        help="folder with math_mix/, math_eval/ and radiology_iu/ (see docs/benchmarks.md)",
    )
    p.add_argument("--out", default=None, help="output (cache) directory")
    p.add_argument("--smoke", action="store_true", help="the smallest configuration (CI)")
    p.add_argument(
        "--headline",
        action="store_true",
        help="the headline: math mixture at >= 4,000 rows, trimmed methods at 10%% and 30%%, "
        "5 seeds, target 3 epochs",
    )
    p.add_argument(
        "--transfer-only",
        action="store_true",
        help="only the stores of the transfer figures: proxies + the first seed's full-data "
        "target (no selection); with --write-docs, only the transfer section is written",
    )
    p.add_argument("--pools", default=None, help="comma-separated subset of mix,gsm8k,radiology")
    p.add_argument("--methods", default=None, help="comma-separated subset of the methods")
    p.add_argument("--budgets", default=None, help="comma-separated fractions, e.g. 0.1,0.3")
    p.add_argument("--seeds", default=None, help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=None, help="target epochs (override)")
    p.add_argument("--workers", type=int, default=None, help="parallel target runs")
    p.add_argument("--threads", type=int, default=None, help="torch threads per worker")
    p.add_argument(
        "--report-only", action="store_true", help="no training: summarise what is cached"
    )
    p.add_argument("--write-docs", action="store_true", help="regenerate the docs section")
    p.add_argument("--docs", default=str(REPO / "docs" / "benchmarks.md"))
    args = p.parse_args(argv)

    if args.smoke and args.headline:
        p.error("--smoke and --headline are two configurations; give one")
    cfg = (
        BenchConfig.smoke()
        if args.smoke
        else (BenchConfig.headline() if args.headline else BenchConfig())
    )
    if args.pools:
        cfg.pools = tuple(x.strip() for x in args.pools.split(",") if x.strip())
    if args.methods:
        cfg.methods = tuple(x.strip() for x in args.methods.split(",") if x.strip())
        unknown = set(cfg.methods) - set(METHODS)
        if unknown:
            p.error(f"--methods: unknown {sorted(unknown)}; available: {', '.join(METHODS)}")
    if args.budgets:
        cfg.budgets = tuple(float(x) for x in args.budgets.split(","))
    if args.seeds:
        cfg.seeds = tuple(int(x) for x in args.seeds.split(","))
    if args.epochs:
        cfg.epochs = args.epochs
    if args.workers:
        cfg.workers = args.workers
    if args.threads:
        cfg.threads = args.threads
    data = Path(args.data)
    if not (data / "math_mix").is_dir():
        p.error(f"--data {data}: no math_mix/ folder there (expected the shared data folder)")
    default_out = {"v2": "bench-data-efficiency", "headline": "bench-data-efficiency-headline"}
    out = Path(
        args.out
        or ("bench-data-efficiency-smoke" if args.smoke else default_out.get(cfg.title, "bench"))
    )
    t0 = time.perf_counter()
    if args.report_only:
        infos = {name: pool_info(cfg, data, out, name) for name in cfg.pools}
        res = collect(cfg, out, infos, {})
    else:
        res = run_grid(cfg, data, out, transfer_only=args.transfer_only)
    figs = all_transfer(res, out)
    for pool, f in figs.items():
        print(f"\ntransfer, {pool}:\n{transfer_table(f)}")
    docs = Path(args.docs)
    flags = (" --smoke" if args.smoke else "") + (" --headline" if args.headline else "")
    flags += f" --epochs {args.epochs}" if args.epochs else ""
    cmd = f"python benchmarks/data_efficiency.py --data DATA{flags}"
    if args.transfer_only:
        print(f"\nwall time {time.perf_counter() - t0:.0f} s; results in {out}")
        if args.write_docs:
            section = transfer_section(res, figs, f"{cmd} --transfer-only --write-docs")
            write_docs(section, docs, TRANSFER_START, TRANSFER_END)
            print(f"updated {docs}")
        return 1 if res["failures"] else 0
    summ = summarize(res, out)
    (out / "summary.json").write_text(
        json.dumps(
            {"comparisons": summ["comparisons"], "transfer": figs},
            indent=1,
            default=str,
        )
    )
    for pool, ev in summ["values"]:
        print(f"\n{pool} / {ev}:\n{value_table(res, summ, pool, ev)}")
    print(f"\nwall time {time.perf_counter() - t0:.0f} s; results in {out}")
    if args.write_docs:
        docs.parent.mkdir(parents=True, exist_ok=True)
        pngs = {}
        prefix = "data_efficiency_headline" if cfg.title == "headline" else "data_efficiency"
        for pool, ev in summ["values"]:
            if not summ["values"][(pool, ev)]:
                continue
            name = f"{prefix}_{pool}_{ev}.png"
            plot(res, summ, pool, ev, docs.parent / name)
            pngs[(pool, ev)] = name
        if cfg.title == "headline":
            section = headline_section(res, summ, figs, f"{cmd} --write-docs", pngs)
            write_docs(section, docs, HEADLINE_START, HEADLINE_END)
        else:
            write_docs(docs_section(res, summ, f"{cmd} --write-docs", pngs), docs)
            if figs:
                section = transfer_section(res, figs, f"{cmd} --transfer-only --write-docs")
                write_docs(section, docs, TRANSFER_START, TRANSFER_END)
        print(f"updated {docs}")
    return 1 if res["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
