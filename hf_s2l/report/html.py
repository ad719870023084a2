"""The report's HTML page: store and selection tables, the comparison, the figures in order.

Plain strings (every value ``html.escape``-d), one self-contained page beside its PNGs.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ..store.caveats import recording_caveats
from .figures import Report
from .outcomes import comparison_table
from .params import param_rows

if TYPE_CHECKING:  # pragma: no cover
    from ..selection.selection import Selection
    from ..store.trajectory_store import TrajectoryStore


def _proxy_model(store: TrajectoryStore) -> str:
    """The proxy's name/path, else the recorded model class (a model built from a config)."""
    name = store.model_name_or_path
    meta = store.meta
    revision = (meta.get("model") or {}).get("revision")
    if name:
        return f"{name} (revision {revision})" if revision else str(name)
    recorder = (meta.get("extra") or {}).get("recorder") or {}
    cls = recorder.get("model_class") if isinstance(recorder, dict) else None
    if cls:
        return f"{cls} (no name or path: built from a config, not loaded from the Hub or a folder)"
    return "not recorded"


def _table(rows: list[list[Any]], header: list[str] | None = None) -> str:
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left}th{background:#f4f4f4}figure{margin:1em 0}img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}.skip{color:#a33}code{background:#f4f4f4;padding:0 3px}
.note{font-size:.8em;color:#555}h3{font-size:1em}
"""

_ORDER = [
    ("trajectories", "Loss trajectories by cluster"),
    ("cluster_sizes", "Cluster sizes"),
    ("groups", "Groups: full set vs selection"),
    ("lp", "Learning Percentage"),
    ("data_map", "Data map (cartography)"),
    ("columns", "Recording points, NaN and coverage"),
]


def _render_comparison(comp: dict[str, Any], n: int) -> list[str]:
    """The method comparison table (the demo's ``results.md`` has the same one) and the
    overlap matrix, as HTML parts."""
    parts = ["<h2>Method comparison</h2>", comparison_table(comp, n).to_html()]
    overlap = comp.get("overlap_jaccard") or {}
    if len(overlap) > 1:
        labels = list(overlap)
        parts += [
            "<h3>Overlap between selections (Jaccard)</h3>",
            _table([[a] + [f"{overlap[a][b]:.2f}" for b in labels] for a in labels], [""] + labels),
        ]
    return parts


def render_html(
    store: TrajectoryStore,
    sel: Selection | None,
    report: Report,
    col_rows: list[dict[str, Any]],
    title: str | None,
    sel_label: str | None = None,
) -> str:
    from ..version import __version__

    meta = store.meta
    s = report.summary
    info = [
        ["store", str(store.path)],
        ["examples (N)", s["num_examples"]],
        ["columns (T)", f"{s['num_columns']} ({s['complete_columns']} complete)"],
        ["proxy model", _proxy_model(store)],
        ["dataset fingerprint", store.dataset_fingerprint or "-"],
        ["store fingerprint", store.fingerprint],
        ["metadata columns", ", ".join(store.metadata_columns) or "-"],
        ["NaN cells in complete columns", s["nan_cells_complete_columns"]],
        ["rows with no loss at all", "-" if s["rows_all_nan"] is None else s["rows_all_nan"]],
        [
            "recorded with",
            f"hf-s2l {meta.get('library_version', '?')} ({meta.get('mode', '?')} mode)",
        ],
    ]
    for line in recording_caveats(meta):
        info.append(["training-mode values (in-step)", line])
    if s["plotted_rows"] < s["num_examples"]:
        info.append(["rows plotted", f"{s['plotted_rows']} (random sample)"])
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title or 'hf-s2l report')}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title or 'hf-s2l trajectory report')}</h1>",
        "<h2>Store</h2>",
        _table(info),
    ]
    if sel is not None:
        srows = [
            ["method", sel.method],
            [
                "budget",
                f"{len(sel.indices)} of {s['num_examples']} "
                f"({100.0 * len(sel.indices) / max(s['num_examples'], 1):.1f}%)",
            ],
            ["seed", sel.seed],
        ]
        heading = "Selection" + (f": {sel_label}" if sel_label else "")
        parts += [f"<h2>{html.escape(heading)}</h2>", _table(srows)]
        prows = param_rows(sel)
        parts.append(
            "<h3>Parameters</h3>"
            + (_table(prows, ["parameter", "value"]) if prows else "<p>defaults (none given)</p>")
        )
    if "groups" in s:
        header = ["group", "full set"] + (["selected"] if sel is not None else [])
        grows = [
            [k, v["full"]] + ([v.get("selected", 0)] if sel is not None else [])
            for k, v in s["groups"].items()
        ]
        parts += [
            f"<h3>Examples per {html.escape(str(s.get('group_column', 'group')))}</h3>",
            _table(grows, header),
        ]
    if "comparison" in s:
        parts += _render_comparison(s["comparison"], s["num_examples"])
    if "transfer" in s:
        from .transfer_section import render_transfer_section  # a section: imports no builder

        parts.append(render_transfer_section(s["transfer"], report.figures.get("transfer")))
    for name, heading in _ORDER:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if name in report.figures:
            f = report.figures[name]
            parts.append(
                f"<figure><img src='{html.escape(f.path.name)}' alt='{html.escape(f.title)}'>"
                f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
            )
        else:
            parts.append(
                f"<p class='skip'>Not drawn: {html.escape(report.skipped.get(name, ''))}</p>"
            )
        if name == "columns":
            parts.append(
                _table(
                    [
                        [
                            r["column"],
                            r["global_step"],
                            f"{r['epoch']:.3f}",
                            r["kind"] + (" (before training)" if r["before_training"] else ""),
                            r["complete"],
                            r["nan"],
                            "-" if r["mean_loss"] is None else f"{r['mean_loss']:.4f}",
                        ]
                        for r in col_rows
                    ],
                    ["column", "step", "epoch", "kind", "complete", "NaN rows", "mean loss"],
                )
            )
    parts.append(
        f"<p style='font-size:.8em;color:#777'>hf-s2l {html.escape(__version__)} - "
        f"generated in {s['seconds']}s</p></body></html>"
    )
    return "\n".join(parts)
