"""Dataset cards with hostile user strings (issue 12.7): escaped, rendered as plain text.

The card body is rendered by a real CommonMark+tables renderer (markdown-it-py) with raw HTML
*allowed* (the worst case); the resulting HTML is parsed (lxml) and checked: no element, link
or table cell that the user strings could have added, and each string reads back verbatim.
"""

from __future__ import annotations

import datasets
import numpy as np
import pytest

from hf_s2l import SelectedDataset, add_example_ids
from hf_s2l.data import card_provenance
from hf_s2l.hub.card import build_card, parse_card, render_body
from hf_s2l.hub.markdown import md_escape

from ..data.helpers import make_selection, make_store

HOSTILE = [
    "<script>alert(1)</script>",
    "a|b",
    "two\nlines",
    "[click](javascript:alert(1))",
    "```\n# not a heading",
    "<img src=x onerror=alert(1)>",
    "*bold* _it_ `code` & ~~s~~",
]


def _render(markdown: str):
    import lxml.html
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")
    return lxml.html.fromstring(f"<div>{md.render(markdown)}</div>")


@pytest.fixture(scope="module")
def hostile_card(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("card")
    n = 28
    sources = [HOSTILE[i % len(HOSTILE)] for i in range(n)]
    raw = add_example_ids(
        datasets.Dataset.from_dict({"text": [f"row {i}" for i in range(n)], "source": sources})
    )
    proxy = raw.map(lambda r: {"input_ids": [1, 2]}, remove_columns=["text", "source"])
    store = make_store(tmp / "store", proxy)
    w = type(store).open(store.path, "r+")
    w.set_metadata("source", np.array(sources))
    store = type(store).open(store.path)
    sel = make_selection(
        store,
        list(range(0, n, 2)),
        method="s2l",
        params={"by_column": "<b>x</b>", "note": "p|q\n```"},
        provenance={"store": str(store.path), "model": "<script>m</script>", "command": None},
    )
    sd = SelectedDataset(raw, sel, store=store, id_column="example_id")
    prov = card_provenance(sd, source_dataset="evil|<script>\n```")
    return sources, prov, str(build_card(prov))


def test_md_escape_makes_plain_text():
    for s in HOSTILE:
        out = md_escape(s)
        assert "<" not in out.replace("<br>", "") and "\n" not in out
        assert "|" not in out.replace("\\|", "")
        node = _render(f"| h |\n|---|\n| {out} |")
        cells = node.xpath("//td")
        assert len(cells) == 1, s  # one cell: no pipe split it, no newline ended the row
        assert cells[0].text_content() == s.replace("\n", "")  # <br> renders as a line break
        assert not node.xpath("//script|//img|//a|//em|//strong|//code|//del"), s


def test_card_body_renders_user_strings_as_text(hostile_card):
    sources, prov, _ = hostile_card
    body = render_body(prov)
    assert "<script>" not in body and "<img" not in body and "<b>" not in body
    node = _render(body)
    assert not node.xpath("//script|//img|//b"), "user strings became HTML elements"
    hrefs = [a.get("href") for a in node.xpath("//a")]
    assert hrefs == ["https://github.com/hf-s2l/hf-s2l"]  # only the card's own link
    # every table keeps its column count in every row
    for table in node.xpath("//table"):
        widths = {len(tr.xpath("./th|./td")) for tr in table.xpath(".//tr")}
        assert len(widths) == 1, widths
    # the counts table of 'source' lists each hostile value once, verbatim
    h3 = [h for h in node.xpath("//h3") if h.text_content() == "source"]
    assert h3, "no counts table for 'source'"
    table = h3[0].getnext()
    values = [tr.xpath("./td")[0].text_content() for tr in table.xpath(".//tr")[1:]]
    assert sorted(values) == sorted(s.replace("\n", "") for s in set(sources))
    # fenced blocks were not broken out of: exactly the card's own code blocks
    assert [p.get("class") for p in node.xpath("//pre/code")] == [
        "language-json",
        "language-json",
        "language-bash",
        "language-python",
    ]
    assert not [h for h in node.xpath("//h1") if "not a heading" in h.text_content()]


def test_card_metadata_keeps_the_raw_strings(hostile_card):
    sources, prov, text = hostile_card
    meta, _ = parse_card(text)  # YAML carries the exact values (machine readable)
    assert set(meta["hf_s2l"]["counts"]["source"]) == set(sources)
    assert meta["hf_s2l"]["proxy_model"] == "<script>m</script>"
    assert meta["hf_s2l"]["source_dataset"] == "evil|<script>\n```"


def test_build_card_rejects_incomplete_provenance():
    with pytest.raises(ValueError, match="provenance lacks fields"):
        build_card({"method": "s2l"})
