"""``hf-s2l select STORE --method s2l --budget 0.3 --out DIR``: choose a training subset."""

from __future__ import annotations

import argparse
import json
from typing import Any

BUDGET_HELP = (
    "how many examples to keep: a count (300; 1 means ONE example), a fraction in (0, 1] "
    "(0.3; 1.0 means all) or a percentage (30%%, 100%%)"
)


def _budget(text: str) -> int | float:
    from ..selection.budget import parse_budget

    try:
        return parse_budget(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


class _MethodsHelpFormatter(argparse.HelpFormatter):
    """Fills ``{methods}`` in help texts with the registered methods, only when help is shown
    (listing them imports the selection package, which other commands do not need)."""

    def _expand_help(self, action: argparse.Action) -> str:
        text = super()._expand_help(action)
        if "{methods}" in text:
            from ..selection import available_methods

            text = text.replace("{methods}", ", ".join(available_methods()))
        return text


def _param(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param expects key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        parsed: Any = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return key.strip(), parsed


def _group_quotas(text: str) -> Any:
    from ..selection.group_quotas import parse_group_quotas_arg

    try:
        return parse_group_quotas_arg(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


# select() arguments the command sets from its own flags: never through --param
_FLAG_OF = {
    "official": "--official (give it to turn official mode on, leave it out for off)",
    "seed": "--seed",
    "by_column": "--by-column",
    "stratify": "--no-stratify",
    "embeddings": "--embeddings FILE.npy",
    "budget": "--budget",
    "method": "--method",
    "store": "the STORE argument",
    "groups": "--by-column (a store metadata column)",
    "group_quotas": "--group-quotas",
}


def _check_params(params: dict[str, Any]) -> None:
    for key, value in params.items():
        if key in _FLAG_OF:
            raise ValueError(
                f"--param {key}={json.dumps(value)}: {key} is not a method parameter; it is "
                f"set by {_FLAG_OF[key]}"
            )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "select",
        help="select a training subset from a trajectory store (S2L, LP, baselines)",
        description="Select a training subset from a trajectory store and save it to --out.",
        formatter_class=_MethodsHelpFormatter,
    )
    p.add_argument(
        "store", help="trajectory store directory, or hf://datasets/<owner>/<name> on the Hub"
    )
    p.add_argument(
        "--method", default="s2l", help="selection method, one of: {methods} (default: s2l)"
    )
    p.add_argument("--budget", type=_budget, required=True, help=BUDGET_HELP)
    p.add_argument("--out", required=True, help="directory to write the Selection to")
    p.add_argument(
        "--overwrite", action="store_true", help="replace a selection already saved in --out"
    )
    p.add_argument("--by-column", default=None, help="store metadata column to stratify by")
    p.add_argument(
        "--no-stratify",
        action="store_true",
        help="with --by-column: only report per-group counts, do not split the budget",
    )
    p.add_argument(
        "--group-quotas",
        type=_group_quotas,
        default=None,
        metavar="RULE",
        help="with --by-column: how the budget is split over the groups: equal (the official "
        "S2L rule, every group the same share), proportional (each group keeps its share of "
        "the pool), or the mix as JSON or value=share,value=share (shares summing to 1; "
        "integers are counts summing to the budget). Default: "
        "hf_s2l.selection.group_quotas.DEFAULT_GROUP_QUOTAS (equal); always equal with --official",
    )
    p.add_argument("--embeddings", default=None, help=".npy file of N x d example embeddings")
    p.add_argument(
        "--texts",
        default=None,
        metavar="FILE",
        help="lp: the training rows (json/jsonl/csv/parquet or save_to_disk folder) in the "
        "store's row order; their texts are embedded and clustered as the official LP code does",
    )
    p.add_argument(
        "--text-column",
        default=None,
        help="lp: column of --texts (or, without --texts, store metadata column) holding each "
        "example's text (default with --texts: the official instruction/input/output sentence)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--official",
        action="store_true",
        help="reproduce the method's official code: every official choice at once (s2l, "
        "lp; see docs/methods/); a --param contradicting one is an error",
    )
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

    from ..hub.trajectories import open_store
    from ..selection import Selection, select
    from ..selection.provenance import cli_command
    from . import check_out_dir

    check_out_dir(args.out)
    Selection.check_target(args.out, overwrite=args.overwrite)  # before the selection runs
    params = dict(args.param)
    _check_params(params)
    if args.texts:
        params["texts_file"] = args.texts
    if args.text_column:
        params["text_column"] = args.text_column
    _check_lp_inputs(args, params)
    embeddings = np.load(args.embeddings) if args.embeddings else None
    sel = select(
        open_store(args.store),
        args.method,
        args.budget,
        seed=args.seed,
        by_column=args.by_column,
        embeddings=embeddings,
        stratify=not args.no_stratify,
        official=args.official,
        **({"group_quotas": args.group_quotas} if args.group_quotas is not None else {}),
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
        official=args.official,
        group_quotas=None if args.official else sel.params.get("group_quotas"),
    )
    out = sel.save(args.out, overwrite=args.overwrite)
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


def _check_lp_inputs(args: argparse.Namespace, params: dict[str, Any]) -> None:
    """The official LP selection is per cluster of the texts: the CLI needs them."""
    given = {"texts_file", "text_column", "clusters", "texts", "unclustered"} & set(params)
    if args.method == "lp" and not given and not args.embeddings:
        raise ValueError(
            "hf-s2l select --method lp: the official Learning Percentage selection takes the "
            "lowest-LP share of each k-means cluster of the training texts; pass --texts FILE "
            "(the training rows in the store's row order, e.g. the Alpaca json), --text-column "
            "NAME (a store metadata column) or --embeddings FILE.npy, or --param unclustered=true "
            "to rank over the whole set"
        )
