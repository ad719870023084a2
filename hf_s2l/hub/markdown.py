"""Markdown for dataset cards: escaping user text, tables, fenced code/JSON blocks, token redaction.

Every user string that reaches a card (source names, dataset paths, commands) goes through
:func:`md_escape` (or a fenced block whose fence cannot be closed from inside), so a value such
as ``<script>`` or ``a|b`` renders as that text and cannot add markup, links, cells or rows.
Used by the selected-dataset card (:mod:`hf_s2l.hub.card`) and the trajectory-store card
(:mod:`hf_s2l.hub.trajectories`).
"""

from __future__ import annotations

import html
import json
import re
import shlex
from typing import Any

__all__ = [
    "Formatted",
    "code_block",
    "fmt",
    "json_block",
    "md_escape",
    "redact",
    "table",
]

MD_SPECIAL = re.compile(r"([\\`*_\[\]~|])")
SAFE_CODE = re.compile(r"^[A-Za-z0-9 _.,:;/=+@%-]*$")
TOKEN_RE = re.compile(r"\bhf_[A-Za-z0-9]{8,}\b")


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
        out.append(TOKEN_RE.sub("<redacted>", p))
    return shlex.join(out)


def md_escape(value: Any) -> str:
    """``value`` as inert text for a Markdown table cell or heading.

    Newlines become ``<br>``, Markdown inline syntax (`` ` * _ [ ] ~ | \\ ``) is
    backslash-escaped and HTML (``< > & " '``) becomes entities, so a user string such as a
    source name ``<script>`` or ``a|b`` renders as that text and cannot add markup, links,
    cells or rows.
    """
    text = MD_SPECIAL.sub(r"\\\1", str(value))
    text = html.escape(text, quote=True)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def json_block(obj: Any) -> str:
    """Fenced JSON whose strings cannot close the fence or carry HTML (``<>&`\\u`` escapes)."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=str)[:20000]
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("`", "\\u0060")):
        text = text.replace(ch, esc)
    return "```json\n" + text + "\n```"


def code_block(text: str, lang: str) -> str:
    """A fenced block whose fence is longer than any backtick run inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


class Formatted(str):
    """Markdown built by :func:`fmt` from escaped parts (inserted into a table as is)."""

    @property
    def text(self) -> str:
        return str(self)


def table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    """A Markdown table; every cell is escaped with :func:`md_escape` unless :class:`Formatted`."""

    def cell(x: Any) -> str:
        return x.text if isinstance(x, Formatted) else md_escape(x)

    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(cell(x) for x in r) + " |")
    return "\n".join(lines)


def fmt(v: Any) -> Formatted:
    """A value for a table cell: a code span when it is plain (ids, numbers), else escaped text."""
    if v is None:
        return Formatted("unknown")
    text = json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else str(v)
    if SAFE_CODE.match(text) and text.strip():
        return Formatted(f"`{text}`")
    return Formatted(md_escape(text))
