"""``hf-s2l select STORE --method s2l --budget 0.3 --out DIR``: choose a training subset."""

from __future__ import annotations

import argparse
import json
from typing import Any


def _budget(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"budget must be an int count or a fraction in (0, 1], got {text!r}"
            ) from None


def _param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param expects key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        parsed: Any = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "select",
        help="select a training subset from a trajectory store (S2L, LP, baselines)",
        description="Select a training subset from a trajectory store and save it to --out.",
    )
    p.add_argument("store", help="trajectory store directory")
    p.add_argument("--method", default="s2l", help="selection method (default: s2l)")
    p.add_argument(
        "--budget", type=_budget, required=True, help="count (int) or fraction in (0, 1] (float)"
    )
    p.add_argument("--out", required=True, help="directory to write the Selection to")
    p.add_argument("--by-column", default=None, help="store metadata column to stratify by")
    p.add_argument(
        "--no-stratify",
        action="store_true",
        help="with --by-column: only report per-group counts, do not split the budget",
    )
    p.add_argument("--embeddings", default=None, help=".npy file of N x d example embeddings")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--param",
        action="append",
        type=_param,
        default=[],
        metavar="KEY=VALUE",
        help="method parameter; VALUE is parsed as JSON when it can be (repeatable)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..selection import select
    from ..selection.provenance import cli_command

    params = dict(args.param)
    embeddings = np.load(args.embeddings) if args.embeddings else None
    sel = select(
        args.store,
        args.method,
        args.budget,
        seed=args.seed,
        by_column=args.by_column,
        embeddings=embeddings,
        stratify=not args.no_stratify,
        **params,
    )
    sel.provenance["command"] = cli_command(
        args.store,
        args.method,
        args.budget,
        args.seed,
        args.by_column,
        not args.no_stratify,
        params,
        out=args.out,
        embeddings_file=args.embeddings,
    )
    out = sel.save(args.out)
    print(  # noqa: T201
        f"{sel.method}: selected {len(sel)} of {sel.num_examples} examples "
        f"({100 * sel.fraction:.1f}%), seed {sel.seed} -> {out}"
    )
    groups = sel.stats.get("groups")
    if groups:
        counts = groups.get("counts", groups)
        for name, c in counts.items():
            print(f"  {args.by_column}={name}: {c['selected']} / {c['size']}")  # noqa: T201
    print(f"  reproduce: {sel.provenance['command']}")  # noqa: T201
    return 0
