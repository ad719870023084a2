"""Selection speed on synthetic stores shaped like real ones (one run, prints a markdown table).

    python benchmarks/selection_speed.py [--rows 262144] [--big-rows 10000000]
        [--big-methods s2l,random,lp,middle_perplexity] [--skip-mid] [--workdir DIR] [--keep]

1. every registered method at N = ``--rows`` x 12 columns (default 262,144: MathInstruct
   size), budget 30%;
2. each of ``--big-methods`` at N = ``--big-rows`` x 12 read from an on-disk store (memmap),
   each in its own subprocess that reports its own peak RSS (``VmHWM``: anonymous memory
   and the mapped file pages it kept resident). The big store is deleted at the end unless ``--keep``.
Targets: S2L 262k <= 5 s; S2L 10M <= 5 min with peak RSS <= 2 GB (issue 4); S2L, random,
LP and middle perplexity at 100M x 12 (4.8 GB on disk) <= 10 min, peak RSS <= 2 GB each
(issue 14).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SCHEDULE_12 = [(0, 0.0, "train_begin")] + [
    (100 * j, 3.0 * j / 11, "epoch_end" if j in (4, 8, 11) else "point") for j in range(1, 12)
]


def make_store(path: Path, n: int, seed: int = 0, chunk: int = 1 << 21):
    """A store of n rows whose trajectories decay from ~2.5 with per-example rates + noise."""
    from hf_s2l.store import TrajectoryStore

    rng = np.random.default_rng(seed)
    store = TrajectoryStore.create(
        path, n, model_name_or_path="synthetic", dataset_fingerprint="bench"
    )
    cols = [store.add_column(s, e, k) for s, e, k in SCHEDULE_12]
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        m = stop - start
        base = rng.gamma(4.0, 0.6, size=m).astype(np.float32)
        rate = rng.uniform(0.05, 0.6, size=m).astype(np.float32)
        for j, c in enumerate(cols):
            v = base * np.exp(-rate * j) + 0.05 * rng.standard_normal(m).astype(np.float32)
            store.write(c, np.arange(start, stop), v)
    for c in cols:
        store.mark_complete(c)
    sources = np.array(["gsm8k", "math", "aqua", "camel", "theoremqa", "numglue", "mathqa"])
    codes = rng.choice(len(sources), n, p=[0.3, 0.2, 0.15, 0.15, 0.05, 0.05, 0.1]).astype(np.int8)
    # 7 strings per row would be 3.6 GB at N = 100M: big stores keep the int8 codes
    store.set_metadata("source", sources[codes] if n <= 20_000_000 else codes)
    return store


def peak_rss_kb() -> float:
    """This process' peak resident set (KiB): ``VmHWM`` of ``/proc/self/status`` on Linux.

    Not ``ru_maxrss``: Linux keeps it across ``execve``, so a child started by a big
    parent would report the parent's peak at fork time.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def child(store_path: str, method: str, budget: float) -> None:
    from hf_s2l.selection import select

    t0 = time.perf_counter()
    sel = select(store_path, method, budget, seed=0)
    dt = time.perf_counter() - t0
    rss_kb = peak_rss_kb()
    print(
        json.dumps(
            {
                "seconds": dt,
                "selected": len(sel),
                "kmeans_s": sel.stats.get("kmeans_seconds"),
                "peak_rss_mb": rss_kb / 1024,
            }
        )
    )


def run_child(store_path: Path, method: str, budget: float) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(store_path), method, str(budget)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=262_144)
    p.add_argument("--big-rows", type=int, default=10_000_000)
    p.add_argument("--big-methods", default="s2l", help="comma-separated methods for --big-rows")
    p.add_argument("--skip-mid", action="store_true", help="skip the --rows run")
    p.add_argument("--budget", type=float, default=0.3)
    p.add_argument("--workdir", default=None)
    p.add_argument("--keep", action="store_true", help="keep the big store")
    p.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child[0], args.child[1], float(args.child[2]))
        return

    from hf_s2l.selection import available_methods, select

    work = Path(args.workdir or tempfile.mkdtemp(prefix="hf-s2l-bench-"))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    rows = []
    if not args.skip_mid:
        t0 = time.perf_counter()
        store = make_store(work / "mid", args.rows)
        print(f"built {args.rows} x 12 store in {time.perf_counter() - t0:.1f} s")
        for method in available_methods():
            t0 = time.perf_counter()
            sel = select(store, method, args.budget, seed=0)
            dt = time.perf_counter() - t0
            rows.append((method, args.rows, len(sel), dt, ""))
            print(f"  {method}: {dt:.2f} s", flush=True)
        t0 = time.perf_counter()
        sel = select(store, "s2l", args.budget, seed=0, by_column="source")
        rows.append(("s2l --by-column source", args.rows, len(sel), time.perf_counter() - t0, ""))

    if args.big_rows:
        big = work / "big"
        t0 = time.perf_counter()
        make_store(big, args.big_rows)
        size_gb = (big / "losses.npy").stat().st_size / 1e9
        print(
            f"built {args.big_rows} x 12 store ({size_gb:.1f} GB losses.npy) in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        try:
            for method in args.big_methods.split(","):
                res = run_child(big, method, args.budget)
                note = f"peak RSS {res['peak_rss_mb']:.0f} MB"
                if res.get("kmeans_s") is not None:
                    note += f"; k-means {res['kmeans_s']:.1f} s"
                rows.append(
                    (
                        f"{method} (memmap, subprocess)",
                        args.big_rows,
                        res["selected"],
                        res["seconds"],
                        note,
                    )
                )
                print(f"  {method}: {res['seconds']:.1f} s, {note}", flush=True)
        finally:
            if not args.keep:
                shutil.rmtree(big, ignore_errors=True)

    print()
    print("| method | N | selected | seconds | note |")
    print("| --- | ---: | ---: | ---: | --- |")
    for m, n, k, dt, note in rows:
        print(f"| {m} | {n:,} | {k:,} | {dt:.2f} | {note} |")


if __name__ == "__main__":
    main()
