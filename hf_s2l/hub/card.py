"""The dataset card (README.md) of a published selection: YAML ``hf_s2l`` block + Markdown body.

:func:`build_card` renders a :class:`~hf_s2l.hub.provenance.SelectionProvenance` (or its dict
form) into a ``huggingface_hub.DatasetCard``; :func:`parse_card` splits a README back into
metadata and body, :func:`read_provenance` reads its provenance back into the typed object.
Every user string in the body is escaped (:mod:`hf_s2l.hub.markdown`); the YAML keeps the
exact values. Plain inputs only: the rows and the selection are the data layer's business.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .markdown import Formatted, code_block, fmt, json_block, md_escape, table
from .provenance import PROVENANCE_FIELDS, PROVENANCE_KEY, SelectionProvenance

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import DatasetCard

__all__ = [
    "PROVENANCE_FIELDS",
    "PROVENANCE_KEY",
    "build_card",
    "parse_card",
    "read_provenance",
    "render_body",
]

MAX_TABLE_ROWS = 50


def _typed(provenance: SelectionProvenance | dict[str, Any]) -> SelectionProvenance:
    """The plain (JSON round-tripped) typed form, as it will read back from the YAML."""
    d = provenance.to_dict() if isinstance(provenance, SelectionProvenance) else provenance
    return SelectionProvenance.from_dict(d)


def render_body(
    provenance: SelectionProvenance | dict[str, Any], *, title: str | None = None
) -> str:
    """The Markdown body of the card."""
    p = _typed(provenance)
    title = title or f"hf-s2l selection ({p.method})"
    n_sel, n_all = p.num_selected, p.num_examples
    parts = [
        f"# {md_escape(title)}",
        "",
        f"{n_sel} of {n_all if n_all is not None else '?'} training examples selected with "
        f"**{md_escape(p.method)}** by [hf-s2l](https://github.com/hf-s2l/hf-s2l) from the "
        "per-example loss trajectories of a small proxy model.",
        "",
        "## Selection",
        "",
        table(
            [
                ("method", fmt(p.method)),
                ("parameters", fmt(p.params)),
                ("budget", fmt(p.budget)),
                ("selected / total", Formatted(f"{fmt(n_sel)} / {fmt(n_all)}")),
                ("fraction", fmt(p.fraction)),
                ("seed", fmt(p.seed)),
                ("source dataset", fmt(p.source_dataset)),
                ("content sha1 of these rows", fmt(p.content_sha1)),
            ],
            ("field", "value"),
        ),
        "",
        "## Proxy run",
        "",
        table(
            [
                ("proxy model", fmt(p.proxy_model)),
                ("store fingerprint", fmt(p.store_fingerprint)),
                ("dataset fingerprint", fmt(p.dataset_fingerprint)),
                ("alignment", fmt(p.alignment.to_dict() if p.alignment else None)),
                ("hf-s2l version", fmt(p.library_version)),
            ],
            ("field", "value"),
        ),
        "",
        "Recording schedule:",
        "",
        json_block(p.recording_schedule.to_dict() if p.recording_schedule else None),
        "",
        "## Counts before and after selection",
        "",
    ]
    if not p.counts:
        parts += ["No per-source or per-cluster counts were recorded.", ""]
    for group, counts in p.counts.items():
        items = list(counts.items())
        parts += [f"### {md_escape(group)}", ""]
        parts.append(
            table(
                [(k, c.before, c.after) for k, c in items[:MAX_TABLE_ROWS]],
                (str(group), "before", "after"),
            )
        )
        if len(items) > MAX_TABLE_ROWS:
            parts.append(f"\n({len(items) - MAX_TABLE_ROWS} more rows in the YAML metadata)")
        parts.append("")
    parts += _group_quotas_section(p.group_quotas)
    parts += [
        "## Selection statistics",
        "",
        json_block(p.selection_stats),
        "",
        "## How to reproduce",
        "",
    ]
    rep = p.reproduce
    bash = []
    if rep.selection_command:
        bash.append(f"# select\n{rep.selection_command}")
    if rep.command:
        bash.append(f"# publish\n{rep.command}")
    if not bash:
        bash.append("# the selection and publishing commands were not recorded")
    parts += [
        code_block("\n".join(bash), "bash"),
        "",
        code_block(rep.python or "", "python"),
        "",
    ]
    return "\n".join(parts)


def _group_quotas_section(gq: dict[str, Any] | None) -> list[str]:
    """How the budget was split over the ``by_column`` groups: the rule and the counts."""
    if not gq:
        return []
    rule = gq.get("rule")
    what = (
        {
            "equal": "every group the same share (the official S2L rule)",
            "proportional": "each group keeps its share of the pool",
        }.get(rule, "the mix given")
        if isinstance(rule, str)
        else "the mix given"
    )
    items = list((gq.get("groups") or {}).items())
    return [
        "## Group quotas",
        "",
        f"Budget split over {md_escape(gq.get('column'))} by rule {fmt(rule)}: {md_escape(what)}.",
        "",
        table(
            [
                (k, v.get("size"), v.get("quota"), v.get("selected"))
                for k, v in items[:MAX_TABLE_ROWS]
            ],
            (str(gq.get("column")), "pool", "quota", "selected"),
        ),
        "",
    ]


def build_card(
    provenance: SelectionProvenance | dict[str, Any],
    *,
    metadata: dict[str, Any] | None = None,
    title: str | None = None,
) -> DatasetCard:
    """A ``huggingface_hub.DatasetCard`` with YAML ``hf_s2l: provenance`` plus ``metadata``.

    ``metadata`` keys (e.g. ``configs``/``dataset_info`` written by ``datasets``) are kept;
    ``tags`` are merged. A dict ``provenance`` must have every key of
    :data:`PROVENANCE_FIELDS` (``ValueError`` otherwise).
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    if isinstance(provenance, dict):
        missing = [k for k in PROVENANCE_FIELDS if k not in provenance]
        if missing:
            raise ValueError(f"provenance lacks fields {missing}")
    prov = _typed(provenance)
    data = dict(metadata or {})
    tags = list(data.get("tags") or [])
    for t in ("hf-s2l", "data-selection", str(prov.method)):
        if t not in tags:
            tags.append(t)
    data["tags"] = tags
    data.setdefault("pretty_name", title or f"hf-s2l selection ({prov.method})")
    data[PROVENANCE_KEY] = prov.to_dict()
    card_data = DatasetCardData(**data)
    return DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n{render_body(prov, title=title)}")


def parse_card(text: str) -> tuple[dict[str, Any], str]:
    """Split README text into (YAML metadata dict, Markdown body)."""
    from huggingface_hub import DatasetCard

    card = DatasetCard(text)
    return card.data.to_dict(), card.text


def read_provenance(text: str) -> SelectionProvenance:
    """The typed provenance of a card's README text (``ValueError`` if it has no ``hf_s2l``)."""
    meta, _ = parse_card(text)
    block = meta.get(PROVENANCE_KEY)
    if not isinstance(block, dict):
        raise ValueError(f"not an hf-s2l selection card: no {PROVENANCE_KEY!r} block in its YAML")
    return SelectionProvenance.from_dict(block)
