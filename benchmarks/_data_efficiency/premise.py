"""Plain words on the proxy -> target transfer figures and what they mean for S2L."""

from __future__ import annotations

import math
from typing import Any

from .methods import LABELS
from .summary import cluster_margin
from .tables import _f, transfer_table


def transfer_position(value: float | None, floor: float | None, ceiling: float | None) -> float:
    """Where ``value`` lies from ``floor`` (0) to ``ceiling`` (1); ``nan`` when a figure is
    missing or the ceiling is not above the floor."""
    vals = [value, floor, ceiling]
    if any(v is None or not math.isfinite(v) for v in vals):
        return math.nan
    if ceiling - floor <= 1e-9:
        return math.nan
    return (value - floor) / (ceiling - floor)


def premise_status(
    figs: dict[str, dict],
    pair: str = "proxy",
    ceiling: str = "ceiling",
    floor: str = "floor",
) -> tuple[str, float, float]:
    """``(status, rank position, cluster position)`` of the ``pair`` row between the
    ``floor`` and ``ceiling`` rows: ``"holds"`` when both positions are >= 2/3, ``"fails"``
    when both are < 1/3, ``"partly"`` otherwise, ``"unknown"`` without the three rows."""
    p, c, f = figs.get(pair), figs.get(ceiling), figs.get(floor)
    if not (p and c and f) or any("error" in x for x in (p, c, f)):
        return "unknown", math.nan, math.nan
    rank = transfer_position(p["spearman"], f["spearman"], c["spearman"])
    clus = transfer_position(cluster_margin(p), cluster_margin(f), cluster_margin(c))
    if not (math.isfinite(rank) and math.isfinite(clus)):
        return "unknown", rank, clus
    if rank >= 2 / 3 and clus >= 2 / 3:
        return "holds", rank, clus
    if rank < 1 / 3 and clus < 1 / 3:
        return "fails", rank, clus
    return "partly", rank, clus


def _verdict_of(v: Any) -> str:
    return v if isinstance(v, str) else v["verdict"]


def _diff_of(v: Any) -> str:
    if isinstance(v, str):
        return ""
    return f" ({_f(v['seeds']['mean'], True)} nats)"


def s2l_sentence(status: str, s2l: dict[str, Any]) -> str:
    """What the premise ``status`` means for S2L's held-out comparisons ``s2l``:
    ``{baseline: verdict or comparison dict}``, baselines ``random``/``random_by_source``,
    plus optionally ``"split"``: random by source vs random (the source loop's own effect)."""
    split = s2l.get("split")
    cmp = {b: v for b, v in s2l.items() if b != "split"}
    label = {b: LABELS.get(b, b).lower() for b in cmp}
    beats = [b for b, v in cmp.items() if _verdict_of(v) == "better"]
    loses = [b for b, v in cmp.items() if _verdict_of(v) == "worse"]
    names = " and ".join(label[b] for b in cmp)
    if beats and loses:
        won = " and ".join(label[b] + _diff_of(cmp[b]) for b in beats)
        lost = " and ".join(label[b] + _diff_of(cmp[b]) for b in loses)
        txt = f"On the held-out set S2L beats {won} but loses to {lost}."
        if "random_by_source" in beats and "random" in loses:
            txt += (
                " With the same per-source counts the clustering helps, so the proxy's view "
                "is usable; what loses to random is the source loop's budget split"
                + (
                    f" (random by source vs random{_diff_of(split)}: the pool's natural source "
                    "mix, which the held-out set follows, is distorted)"
                    if split is not None
                    else ""
                )
                + ". At this size the premise holds and S2L's own effect is real but "
                "smaller than what the split costs."
            )
        return txt
    if beats:
        return (
            f"S2L beats {' and '.join(label[b] for b in beats)} here, consistent with a proxy "
            "that stands for the target."
        )
    if status == "holds":
        return (
            f"Yet S2L does not beat {names} here: so at this scale it is the method (what "
            "sampling evenly over these clusters buys the target), not the proxy, that does "
            "not pay off."
        )
    if status == "fails":
        return (
            f"S2L does not beat {names} here, as expected when the proxy does not stand for "
            "the target: the premise, not the selection rule, is what fails first."
        )
    return (
        f"S2L does not beat {names} here: with a proxy that stands for the target only in "
        "part, the test cannot separate a weak method from a weak premise."
    )


def premise_reading(pool: str, figs: dict[str, dict], s2l: dict[str, Any] | None = None) -> str:
    """Plain words on one pool's transfer figures and, given S2L's held-out comparisons
    (``s2l``, see :func:`s2l_sentence`), on what they mean for the S2L result."""
    status, rank, clus = premise_status(figs)
    if status == "unknown":
        return f"`{pool}`: the transfer figures are incomplete (no verdict)."
    p, c, f = figs["proxy"], figs["ceiling"], figs["floor"]
    txt = (
        f"On `{pool}`, the target's per-example losses rank with the proxy's at Spearman "
        f"{_f(p['spearman'], nd=2)}, {rank:.0%} of the way from the shuffled floor "
        f"({_f(f['spearman'], nd=2)}) to the second-proxy ceiling ({_f(c['spearman'], nd=2)}); "
        f"the proxy's {p['k']} S2L clusters hold {p['variance_explained']:.0%} of the target's "
        f"trajectory variance vs {p['variance_explained_random']:.0%} for random clusters of "
        f"the same sizes, a margin {clus:.0%} of the way from the floor's to the ceiling's. "
    )
    txt += {
        "holds": "The premise holds at this size: the target finds hard what the proxy finds "
        "hard, and the proxy's clusters group examples the target also treats alike.",
        "fails": "The premise fails at this size: what the proxy learns says little more about "
        "the target than a random partition does.",
        "partly": "The premise holds only in part at this size: the proxy's view of the data "
        "carries over to the target, but clearly less than to another proxy.",
    }[status]
    st2, rank2, clus2 = premise_status(figs, "proxy_in_step", "ceiling_in_step")
    if st2 != "unknown":
        txt += (
            f" Like for like (the proxy's free in-step losses vs those of a target of another "
            f"seed, so another data order; both epoch means of training losses), the ranks sit "
            f"{rank2:.0%} and the cluster margin {clus2:.0%} of the way to the in-step ceiling "
            f"(Spearman {_f(figs['proxy_in_step']['spearman'], nd=2)} vs "
            f"{_f(figs['ceiling_in_step']['spearman'], nd=2)})."
        )
    tt = figs.get("target_seeds")
    if tt and "error" not in tt and math.isfinite(tt.get("spearman", math.nan)):
        cmp = "as well as" if p["spearman"] >= tt["spearman"] - 0.05 else "less well than"
        txt += (
            f" The proxy predicts the target's losses {cmp} another run of the target itself "
            f"does (target → target of another seed: Spearman {_f(tt['spearman'], nd=2)}, "
            f"margin {_f(cluster_margin(tt), True, 2)}): the target's own seed-to-seed noise "
            "is the practical ceiling."
        )
    same = figs.get("proxy_in_step_same_order")
    other = figs.get("proxy_in_step")
    if same and other and "error" not in same and "error" not in other:
        carry = same["spearman"] - other["spearman"] > 0.05
        head = " In-step losses carry the data order" if carry else " The data order hardly matters"
        txt += (
            f"{head}: against the target that shares the proxy's seed (and so its order) the "
            f"in-step Spearman is {_f(same['spearman'], nd=2)}, against another seed's "
            f"{_f(other['spearman'], nd=2)}."
        )
    if s2l:
        txt += " " + s2l_sentence(status, s2l)
    return txt


def transfer_block(res: dict, figs: dict[str, dict[str, dict]]) -> str:
    """Every pool's transfer table and reading (no header)."""
    parts = []
    for pool in res["pools"]:
        if pool not in figs:
            parts.append(f"`{pool}`: no transfer stores recorded.\n")
            continue
        parts.append(
            f"**`{pool}`** ({res['pools'][pool]['train_rows']:,} rows):\n\n"
            f"{transfer_table(figs[pool])}\n\n{premise_reading(pool, figs[pool])}\n"
        )
    return "\n".join(parts)
