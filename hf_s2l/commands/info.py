"""``hf-s2l info STORE``: print a store's shape, trajectory columns, per-example metadata
columns (usable as ``--by-column``) and provenance."""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="show a trajectory store's shape, columns, metadata columns and provenance",
    )
    p.add_argument(
        "store", help="trajectory store directory, or hf://datasets/<owner>/<name> on the Hub"
    )
    p.add_argument("--json", action="store_true", help="print meta.json as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..hub.trajectories import open_store
    from ..store.caveats import recording_caveats

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
    names = store.metadata_columns
    print(f"metadata columns (for --by-column): {', '.join(names) if names else 'none'}")
    for name in names:
        print(f"  {name}: {_summary(store.metadata(name))}")
    ids = store.example_ids
    print(f"example ids: {'yes' if ids is not None else 'no'}")
    for line in recording_caveats(store.meta):
        print(f"training-mode values: {line}")
    return 0


def _summary(values, shown: int = 8) -> str:
    """``3 values: a 10, b 7, c 3`` (most frequent first, at most ``shown`` listed)."""
    import numpy as np

    uniq, counts = np.unique(np.asarray(values).astype(str), return_counts=True)
    order = np.lexsort((uniq, -counts))[:shown]
    listed = ", ".join(f"{uniq[i]} {counts[i]}" for i in order)
    more = f", ... ({len(uniq) - shown} more)" if len(uniq) > shown else ""
    return f"{len(uniq)} values: {listed}{more}"
