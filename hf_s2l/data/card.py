"""Dataset cards (README.md: YAML metadata + Markdown body) recording a selection's provenance.

Every card written by hf-s2l (Hub push, ``save_to_disk``, parquet/jsonl export) carries an
``hf_s2l`` block in its YAML header with these keys (``None`` when unknown):

``method``, ``params``, ``budget``, ``num_selected``, ``num_examples``, ``fraction``,
``seed``, ``proxy_model``, ``store_fingerprint``, ``dataset_fingerprint``,
``recording_schedule``, ``counts`` (``{group: {value: {before, after}}}``, per source /
cluster), ``selection_stats`` (the selection's own statistics, verbatim), ``alignment``,
``source_dataset``, ``content_sha1`` (:func:`hf_s2l.data.content_fingerprint` of the
published rows), ``library_version`` and ``reproduce`` (the selection command, the
publishing command and a Python snippet). The body renders the same information for humans.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
from transformers.utils import logging

from ..version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from huggingface_hub import DatasetCard

    from .selected_dataset import SelectedDataset

logger = logging.get_logger(__name__)

PROVENANCE_KEY = "hf_s2l"
PROVENANCE_FIELDS = (
    "method",
    "params",
    "budget",
    "num_selected",
    "num_examples",
    "fraction",
    "seed",
    "proxy_model",
    "store_fingerprint",
    "dataset_fingerprint",
    "recording_schedule",
    "counts",
    "selection_stats",
    "alignment",
    "source_dataset",
    "content_sha1",
    "library_version",
    "reproduce",
)
_MAX_GROUP_VALUES = 1000
_MAX_TABLE_ROWS = 50

_TOKEN_RE = re.compile(r"\bhf_[A-Za-z0-9]{8,}\b")


def redact(command: str | None) -> str | None:
    """Drop ``--token VALUE`` / ``--token=VALUE`` and anything shaped like an HF token."""
    if command is None:
        return None
    try:
        parts = shlex.split(command)
    except ValueError:
        parts = command.split()
    out: list[str] = []
    skip = False
    for p in parts:
        if skip:
            skip = False
            continue
        if p == "--token":
            skip = True
            continue
        if p.startswith("--token="):
            continue
        out.append(_TOKEN_RE.sub("<redacted>", p))
    return shlex.join(out)


def _plain(obj: Any) -> Any:
    """JSON/YAML-safe copy (numpy → Python, tuples → lists, Paths → str)."""

    def default(o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        return str(o)

    return json.loads(json.dumps(obj, default=default))


def _first_key(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def _counts_table(val: Any) -> dict[str, dict[str, int]] | None:
    """One ``{value: {before, after}}`` table from the shapes the selection engine writes."""
    if isinstance(val, dict):
        b, a = val.get("before"), val.get("after")
        if isinstance(b, dict) and isinstance(a, dict):  # {"before": {..}, "after": {..}}
            keys = sorted(set(map(str, b)) | set(map(str, a)))
            bs, as_ = {str(k): v for k, v in b.items()}, {str(k): v for k, v in a.items()}
            return {k: {"before": bs.get(k, 0), "after": as_.get(k, 0)} for k in keys}
        if val and all(isinstance(v, dict) for v in val.values()):
            if all("before" in v and "after" in v for v in val.values()):
                return {
                    str(k): {"before": v["before"], "after": v["after"]} for k, v in val.items()
                }
            if all("size" in v and "selected" in v for v in val.values()):  # {g: {size, selected}}
                return {
                    str(k): {"before": v["size"], "after": v["selected"]} for k, v in val.items()
                }
    if (
        isinstance(val, list)
        and val
        and all(isinstance(v, dict) and "size" in v and "selected" in v for v in val)
    ):  # [{cluster, size, selected}, ...]
        out = {}
        for i, v in enumerate(val):
            label = next((v[k] for k in ("cluster", "group", "label", "value") if k in v), i)
            out[str(label)] = {"before": v["size"], "after": v["selected"]}
        return out
    return None


def _counts_from_stats(stats: Any) -> dict[str, dict[str, dict[str, int]]]:
    """Pick ``{group: {value: {before, after}}}`` tables out of a selection's stats.

    Understood shapes (at the top level or one level down, e.g. ``stats["groups"]["counts"]``):
    ``{"before": {v: n}, "after": {v: n}}``, ``{v: {"before", "after"}}``,
    ``{v: {"size", "selected"}}``, ``[{"cluster": v, "size", "selected"}, ...]`` and the
    parallel lists ``cluster_sizes`` / ``cluster_selected``.
    """
    out: dict[str, dict[str, dict[str, int]]] = {}
    if not isinstance(stats, dict):
        return out
    top = _counts_table(stats)
    if top and "before" in stats:
        out["group"] = top
    sizes, chosen = stats.get("cluster_sizes"), stats.get("cluster_selected")
    if isinstance(sizes, list) and isinstance(chosen, list) and len(sizes) == len(chosen):
        out["clusters"] = {
            str(i): {"before": b, "after": a} for i, (b, a) in enumerate(zip(sizes, chosen))
        }
    for name, val in stats.items():
        table = _counts_table(val)
        if table is None and isinstance(val, dict):
            for sub in ("counts", "clusters"):
                table = _counts_table(val.get(sub))
                if table is not None:
                    break
        if table is not None:
            out[str(name)] = table
    return out


def _store_counts(store: Any, indices: np.ndarray) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for name in store.metadata_columns:
        try:
            values = np.asarray(store.metadata(name))
        except (KeyError, OSError, ValueError):
            continue
        if values.ndim != 1 or values.dtype.kind == "f":
            continue
        before = Counter(map(str, values.tolist()))
        if len(before) > _MAX_GROUP_VALUES:
            continue
        after = Counter(map(str, values[indices].tolist()))
        out[name] = {k: {"before": before[k], "after": after.get(k, 0)} for k in sorted(before)}
    return out


def _recording_schedule(prov: dict[str, Any], store: Any) -> Any:
    """The recorder's schedule (from the store's meta) and the recorded points."""
    sched = _first_key(prov, "schedule", "recording_schedule")
    points = None
    if store is not None:
        extra = store.meta.get("extra", {}) or {}
        recorder = extra.get("recorder") if isinstance(extra.get("recorder"), dict) else {}
        if sched is None:
            sched = (
                _first_key(recorder, "schedule")
                or _first_key(extra, "schedule", "recording_schedule")
                or (extra or None)
            )
        points = [
            {"global_step": c["global_step"], "epoch": c["epoch"], "kind": c.get("kind")}
            for c in store.columns
            if c.get("complete")
        ]
    elif isinstance(prov.get("columns"), list):
        points = [
            {"global_step": c.get("global_step"), "epoch": c.get("epoch"), "kind": c.get("kind")}
            for c in prov["columns"]
            if isinstance(c, dict) and c.get("complete", True)
        ]
    if sched is None and points is None:
        return None
    return {"schedule": sched, "points": points}


def card_provenance(
    selected: SelectedDataset,
    *,
    command: str | None = None,
    source_dataset: str | None = None,
    group_counts: dict[str, dict[str, dict[str, int]]] | None = None,
    content_sha1: str | None | bool = True,
) -> dict[str, Any]:
    """Collect the provenance block of a :class:`~hf_s2l.SelectedDataset`'s card.

    ``command`` is the publishing command (redacted of tokens); ``group_counts`` adds
    ``{group: {value: {before, after}}}`` tables (e.g. from :meth:`SelectedDataset.group_counts`);
    ``content_sha1=True`` hashes the rows (``False`` skips it, a string is used as is).
    """
    from .ids import content_fingerprint

    sel = selected.selection
    prov = dict(sel.provenance or {})
    store = selected.store()
    model = _first_key(prov, "model", "proxy_model", "model_name_or_path")
    if isinstance(model, dict):
        model = _first_key(model, "name_or_path", "name") or model
    if model is None and store is not None:
        model = store.model_name_or_path
    counts: dict[str, Any] = {}
    if store is not None:
        counts.update(_store_counts(store, sel.indices))
    counts.update(_counts_from_stats(sel.stats))
    counts.update(group_counts or {})
    if content_sha1 is True:
        cols = [c for c in selected.column_names if c != selected.weight_column]
        content_sha1 = content_fingerprint(selected, cols) if len(selected) else None
    elif content_sha1 is False:
        content_sha1 = None
    store_path = _first_key(prov, "store", "store_path") or getattr(store, "path", None)
    sel_cmd = redact(prov.get("command"))
    if sel_cmd is None and store_path is not None:
        sel_cmd = (
            f"hf-s2l select {shlex.quote(str(store_path))} --method {sel.method} "
            f"--budget {sel.budget} --seed {sel.seed} --out SELECTION_DIR"
        )
    id_col = selected.alignment.id_column
    python = (
        "from hf_s2l import Selection, SelectedDataset\n"
        "ds = SelectedDataset(raw_train, Selection.load('SELECTION_DIR')"
        + (f", id_column={id_col!r}" if id_col else "")
        + (", ordered=True" if selected.ordered else "")
        + ")"
    )
    out = {
        "method": sel.method,
        "params": sel.params,
        "budget": sel.budget,
        "num_selected": len(sel.indices),
        "num_examples": sel.num_examples or None,
        "fraction": round(sel.fraction, 6) if sel.num_examples else None,
        "seed": sel.seed,
        "proxy_model": model,
        "store_fingerprint": sel.store_fingerprint
        or (store.fingerprint if store is not None else None),
        "dataset_fingerprint": sel.dataset_fingerprint
        or (store.dataset_fingerprint if store is not None else None),
        "recording_schedule": _recording_schedule(prov, store),
        "counts": counts,
        "selection_stats": sel.stats,
        "alignment": {
            "method": selected.alignment.method,
            "id_column": id_col,
            "ordered": selected.ordered,
            "weight_column": selected.weight_column,
        },
        "source_dataset": source_dataset,
        "content_sha1": content_sha1,
        "library_version": __version__,
        "reproduce": {
            "selection_command": sel_cmd,
            "command": redact(command),
            "python": python,
        },
    }
    return _plain(out)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]~|])")
_SAFE_CODE = re.compile(r"^[A-Za-z0-9 _.,:;/=+@%-]*$")


def md_escape(value: Any) -> str:
    """``value`` as inert text for a Markdown table cell or heading.

    Newlines become ``<br>``, Markdown inline syntax (`` ` * _ [ ] ~ | \\ ``) is
    backslash-escaped and HTML (``< > & " '``) becomes entities, so a user string such as a
    source name ``<script>`` or ``a|b`` renders as that text and cannot add markup, links,
    cells or rows.
    """
    text = _MD_SPECIAL.sub(r"\\\1", str(value))
    text = html.escape(text, quote=True)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def _json_block(obj: Any) -> str:
    """Fenced JSON whose strings cannot close the fence or carry HTML (``<>&`\\u`` escapes)."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=str)[:20000]
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("`", "\\u0060")):
        text = text.replace(ch, esc)
    return "```json\n" + text + "\n```"


def _code_block(text: str, lang: str) -> str:
    """A fenced block whose fence is longer than any backtick run inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    """A Markdown table; every cell is escaped with :func:`md_escape` unless already formatted."""

    def cell(x: Any) -> str:
        return x.text if isinstance(x, _Formatted) else md_escape(x)

    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(cell(x) for x in r) + " |")
    return "\n".join(lines)


class _Formatted(str):
    """Markdown built by :func:`_fmt` from escaped parts (inserted as is)."""

    @property
    def text(self) -> str:
        return str(self)


def _fmt(v: Any) -> _Formatted:
    """A value for a table cell: a code span when it is plain (ids, numbers), else escaped text."""
    if v is None:
        return _Formatted("unknown")
    text = json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else str(v)
    if _SAFE_CODE.match(text) and text.strip():
        return _Formatted(f"`{text}`")
    return _Formatted(md_escape(text))


def render_body(prov: dict[str, Any], *, title: str | None = None) -> str:
    """The Markdown body of the card."""
    method = prov.get("method")
    title = title or f"hf-s2l selection ({method})"
    n_sel, n_all = prov.get("num_selected"), prov.get("num_examples")
    parts = [
        f"# {md_escape(title)}",
        "",
        f"{n_sel} of {n_all if n_all is not None else '?'} training examples selected with "
        f"**{md_escape(method)}** by [hf-s2l](https://github.com/hf-s2l/hf-s2l) from the per-example "
        "loss trajectories of a small proxy model.",
        "",
        "## Selection",
        "",
        _table(
            [
                ("method", _fmt(method)),
                ("parameters", _fmt(prov.get("params"))),
                ("budget", _fmt(prov.get("budget"))),
                ("selected / total", _Formatted(f"{_fmt(n_sel)} / {_fmt(n_all)}")),
                ("fraction", _fmt(prov.get("fraction"))),
                ("seed", _fmt(prov.get("seed"))),
                ("source dataset", _fmt(prov.get("source_dataset"))),
                ("content sha1 of these rows", _fmt(prov.get("content_sha1"))),
            ],
            ("field", "value"),
        ),
        "",
        "## Proxy run",
        "",
        _table(
            [
                ("proxy model", _fmt(prov.get("proxy_model"))),
                ("store fingerprint", _fmt(prov.get("store_fingerprint"))),
                ("dataset fingerprint", _fmt(prov.get("dataset_fingerprint"))),
                ("alignment", _fmt(prov.get("alignment"))),
                ("hf-s2l version", _fmt(prov.get("library_version"))),
            ],
            ("field", "value"),
        ),
        "",
        "Recording schedule:",
        "",
        _json_block(prov.get("recording_schedule")),
        "",
        "## Counts before and after selection",
        "",
    ]
    counts = prov.get("counts") or {}
    if not counts:
        parts += ["No per-source or per-cluster counts were recorded.", ""]
    for group, table in counts.items():
        items = list(table.items())
        parts += [f"### {md_escape(group)}", ""]
        parts.append(
            _table(
                [(k, v.get("before"), v.get("after")) for k, v in items[:_MAX_TABLE_ROWS]],
                (str(group), "before", "after"),
            )
        )
        if len(items) > _MAX_TABLE_ROWS:
            parts.append(f"\n({len(items) - _MAX_TABLE_ROWS} more rows in the YAML metadata)")
        parts.append("")
    parts += [
        "## Selection statistics",
        "",
        _json_block(prov.get("selection_stats")),
        "",
        "## How to reproduce",
        "",
    ]
    rep = prov.get("reproduce") or {}
    bash = []
    if rep.get("selection_command"):
        bash.append(f"# select\n{rep['selection_command']}")
    if rep.get("command"):
        bash.append(f"# publish\n{rep['command']}")
    if not bash:
        bash.append("# the selection and publishing commands were not recorded")
    parts += [
        _code_block("\n".join(bash), "bash"),
        "",
        _code_block(rep.get("python") or "", "python"),
        "",
    ]
    return "\n".join(parts)


def build_card(
    provenance: dict[str, Any],
    *,
    metadata: dict[str, Any] | None = None,
    title: str | None = None,
) -> DatasetCard:
    """A ``huggingface_hub.DatasetCard`` with YAML ``hf_s2l: provenance`` plus ``metadata``.

    ``metadata`` keys (e.g. ``configs``/``dataset_info`` written by ``datasets``) are kept;
    ``tags`` are merged.
    """
    from huggingface_hub import DatasetCard, DatasetCardData

    missing = [k for k in PROVENANCE_FIELDS if k not in provenance]
    if missing:
        raise ValueError(f"provenance lacks fields {missing}")
    data = dict(metadata or {})
    tags = list(data.get("tags") or [])
    for t in ("hf-s2l", "data-selection", str(provenance.get("method"))):
        if t not in tags:
            tags.append(t)
    data["tags"] = tags
    data.setdefault("pretty_name", title or f"hf-s2l selection ({provenance.get('method')})")
    data[PROVENANCE_KEY] = _plain(provenance)
    card_data = DatasetCardData(**data)
    return DatasetCard(f"---\n{card_data.to_yaml()}\n---\n\n{render_body(provenance, title=title)}")


def parse_card(text: str) -> tuple[dict[str, Any], str]:
    """Split README text into (YAML metadata dict, Markdown body)."""
    from huggingface_hub import DatasetCard

    card = DatasetCard(text)
    return card.data.to_dict(), card.text
