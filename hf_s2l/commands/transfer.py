"""``hf-s2l transfer PROXY_STORE TARGET_STORE``: does the proxy stand for the target?"""

from __future__ import annotations

import argparse
import json


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transfer",
        help="check whether a proxy's loss trajectories stand for a target's (two stores)",
        description=(
            "Compare a small proxy's trajectory store with a target's over the same examples "
            "(the target may cover a subset; aligned by example ids or the dataset "
            "fingerprint, columns matched by training progress): rank correlation of the "
            "losses, the target's variance between the proxy's S2L clusters vs random "
            "clusters, overlap of the hardest examples by LP(1), and a verdict."
        ),
    )
    p.add_argument("proxy", metavar="PROXY_STORE", help="the proxy's trajectory store")
    p.add_argument("target", metavar="TARGET_STORE", help="the target's trajectory store")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--k", type=int, default=None, help="S2L clusters (default: S2L's, 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of k-means and random partitions")
    p.add_argument(
        "--id-column",
        default=None,
        help="align by example ids (a store metadata column of that name, else the stores' "
        "example ids); default: ids when both stores have them, else the dataset fingerprint",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..hub.trajectories import open_store
    from ..transfer import transfer

    report = transfer(
        open_store(args.proxy),
        open_store(args.target),
        k=args.k,
        seed=args.seed,
        id_column=args.id_column,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    print(format_report(report))
    return 0


def format_report(report) -> str:
    """The figures and the verdict as a few plain lines."""
    lp = report.lp_hardest_overlap
    lines = [
        f"proxy:  {report.proxy_path} ({report.n_proxy} examples)",
        f"target: {report.target_path} ({report.n_target} examples)",
        f"aligned by {report.alignment}: {report.n_aligned} examples",
        f"spearman (mean over {len(report.spearman_pairs)} matched columns): {report.spearman:.3f}",
    ]
    for p in report.spearman_pairs:
        lines.append(
            f"  proxy column {p['proxy_column']:3d} (progress {p['proxy_progress']:.2f}) ~ "
            f"target column {p['target_column']:3d} (progress {p['progress']:.2f}): "
            f"rho {p['rho']:.3f}"
        )
    lines += [
        f"variance explained by the proxy's {report.k} S2L clusters: "
        f"{report.variance_explained:.3f}",
        f"  random clusters of the same sizes (mean of {report.n_random}): "
        f"{report.variance_explained_random:.3f}",
        f"hardest {report.lp_fraction:.0%} by LP(1), Jaccard overlap: "
        + (f"{lp:.3f}" if lp is not None else "n/a (needs before-training and epoch-end columns)"),
        f"verdict: {report.verdict}",
    ]
    return "\n".join(lines)
