"""The benchmark's selection methods: ONE table of how each is called.

Every entry becomes one ``hf_s2l.select(store, method, budget, seed=seed, ...)`` call in
:func:`selection_kwargs`; adapt here when the selection API changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MethodOption:
    """How one benchmark method calls :func:`hf_s2l.select`.

    Attributes:
        label: name in tables and plots.
        method: the registered hf-s2l method.
        by_source: split the budget by source, the official S2L source loop (on a
            single-source pool this changes nothing).
        quotas: with ``by_source``, how the budget is split over the sources
            (``group_quotas``): ``"equal"`` (the official rule, pinned so that a change of
            the library's default does not change a cached method) or ``"proportional"``
            (every source keeps its share of the pool).
        store: ``"probe"`` (the proxy's probe columns) or ``"in_step"`` (the free losses of
            the proxy's own training forwards, ``mode="both"``).
        embeddings: pass the MiniLM embeddings (LP's official per-cluster selection).
        params: the method's own parameters (``"{s2l_k}"``/``"{lp_k}"`` filled from the config).
        multi_source_only: skip on single-source pools (it would duplicate another row).
    """

    label: str
    method: str
    by_source: bool = False
    quotas: str = "equal"
    store: str = "probe"
    embeddings: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    multi_source_only: bool = False


METHODS: dict[str, MethodOption] = {
    "random": MethodOption("Random", "random"),
    "random_by_source": MethodOption(
        "Random by source", "random", by_source=True, multi_source_only=True
    ),
    "s2l": MethodOption(
        "S2L (by source)", "s2l", by_source=True, params={"num_clusters": "{s2l_k}"}
    ),
    "s2l_pooled": MethodOption(
        "S2L pooled", "s2l", params={"num_clusters": "{s2l_k}"}, multi_source_only=True
    ),
    "s2l_in_step": MethodOption(
        "S2L on in-step losses",
        "s2l",
        by_source=True,
        store="in_step",
        params={"num_clusters": "{s2l_k}"},
    ),
    "random_proportional": MethodOption(
        "Random by source (proportional)",
        "random",
        by_source=True,
        quotas="proportional",
        multi_source_only=True,
    ),
    "s2l_proportional": MethodOption(
        "S2L (by source, proportional)",
        "s2l",
        by_source=True,
        quotas="proportional",
        params={"num_clusters": "{s2l_k}"},
        multi_source_only=True,
    ),
    "lp": MethodOption("LP (clustered)", "lp", embeddings=True, params={"num_clusters": "{lp_k}"}),
    "lp_global": MethodOption("LP global", "lp", params={"unclustered": True}),
    "middle_perplexity": MethodOption("Middle perplexity", "middle_perplexity"),
    "least_confidence": MethodOption("Least confidence", "least_confidence"),
    "high_learnability": MethodOption("High learnability", "high_learnability"),
}
LABELS = {k: v.label for k, v in METHODS.items()} | {"full": "Full data"}


def methods_for(pool_multi_source: bool, names: tuple[str, ...]) -> list[str]:
    """The methods run on a pool (the by-source duplicates dropped on single-source pools)."""
    return [m for m in names if pool_multi_source or not METHODS[m].multi_source_only]


def selection_kwargs(
    name: str,
    *,
    seed: int,
    sources: Any,
    embeddings: Any,
    s2l_k: int,
    lp_k: int,
) -> tuple[str, str, dict[str, Any]]:
    """``(store kind, registered method, keyword arguments of select)`` for method ``name``."""
    opt = METHODS[name]
    fill = {"{s2l_k}": s2l_k, "{lp_k}": lp_k}
    kw: dict[str, Any] = {"seed": seed}
    kw.update({k: fill.get(v, v) if isinstance(v, str) else v for k, v in opt.params.items()})
    if opt.by_source:
        kw["group_quotas"] = opt.quotas
        if opt.store == "probe":
            kw["by_column"] = "source"
        else:  # the in-step store has no metadata columns; same labels, same row order
            kw["groups"] = sources
    if opt.embeddings:
        kw["embeddings"] = embeddings
    # S2L's default columns are the official ones: the points after training starts (never
    # the step-0 loss); on the in-step store, its one column per epoch
    return opt.store, opt.method, kw
