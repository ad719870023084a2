"""``hf-s2l info STORE``: print a store's shape, columns and provenance."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="show a trajectory store's shape, columns and provenance")
    p.add_argument(
        "store", help="trajectory store directory, or hf://datasets/<owner>/<name> on the Hub"
    )
    p.add_argument("--json", action="store_true", help="print meta.json as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..hub.trajectories import open_store

    store = open_store(args.store)
    if args.json:
        print(json.dumps(store.meta, indent=2))
        return 0
    print(repr(store))
    losses = store.losses
    for i, c in enumerate(store.columns):
        col = np.asarray(losses[:, i])
        nan = int(np.isnan(col).sum())
        mean = float(np.nanmean(col)) if nan < len(col) else float("nan")
        print(
            f"  column {i:3d}  step {c['global_step']:7d}  epoch {c['epoch']:7.3f}  "
            f"{c.get('kind', ''):12s} complete={c['complete']!s:5s}  mean loss {mean:.4f}  NaN {nan}"
        )
    return 0
