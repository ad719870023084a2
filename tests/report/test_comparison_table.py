"""The method comparison a user acts on (issue 28.5): one table for the page and results.md,
readable outcome columns with "vs random" and "lower is better", per-source counts beside the
losses with a note on subsets whose mix differs, parameters in words, K consistent with the
S2L selection, and the LP histogram overlaid with LP's own selection."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

pytestmark = pytest.mark.xdist_group("report")  # shares the session's recorded store


def _html_table(page: str) -> list[list[str]]:
    """The cells of the page's comparison table, as a reader sees them (unescaped)."""
    part = page.split("<h2>Method comparison</h2>", 1)[1].split("</table>", 1)[0]
    return [
        [html.unescape(c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", tr, re.S)]
        for tr in re.findall(r"<tr>(.*?)</tr>", part, re.S)
    ]


def _md_table(md: str) -> list[list[str]]:
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("|---")]
    return [[c.strip() for c in ln.strip().strip("|").split(" | ")] for ln in rows]


@pytest.fixture(scope="module")
def demo_like_report(recorded_store, tmp_path_factory):
    """The demo's call: labelled selections, its outcome rows (one failed selection)."""
    import hf_s2l

    store = recorded_store
    sels = {
        "S2L (by source)": hf_s2l.select(
            store, "s2l", 0.3, seed=0, by_column="source", num_clusters=3
        ),
        "random by source": hf_s2l.select(store, "random", 0.3, seed=0, by_column="source"),
        "random": hf_s2l.select(store, "random", 0.3, seed=0),
        "LP(1), unclustered": hf_s2l.select(store, "lp", 0.3, seed=0, unclustered=True),
    }
    sources = np.asarray(store.metadata("source")).astype(str)
    full = dict(zip(*np.unique(sources, return_counts=True)))
    results = [
        {
            "method": label,
            "examples": len(s.indices),
            "heldout_loss": 4.5 + 0.01 * i,
            "gsm8k_test_loss": 4.8 - 0.01 * i,
            "train_seconds": 155.56,
            "per_source": {},
        }
        for i, (label, s) in enumerate(sels.items())
    ] + [
        {
            "method": "full data",
            "examples": store.num_examples,
            "heldout_loss": 4.2,
            "gsm8k_test_loss": 4.3,
            "train_seconds": 400.0,
            "per_source": {str(k): int(v) for k, v in full.items()},
        },
        {"method": "middle perplexity", "error": "selection failed: no columns"},
    ]
    out = tmp_path_factory.mktemp("comparison") / "report"
    report = hf_s2l.build_report(store, sels, out, results=results, by_column="source")
    return report, sels, results


def test_the_page_and_results_md_show_one_table(demo_like_report, recorded_store):
    from hf_s2l.report.outcomes import comparison_table

    report, sels, _ = demo_like_report
    page = report.html.read_text()
    table = comparison_table(report.summary["comparison"], recorded_store.num_examples)
    md = table.to_markdown()
    cells = _html_table(page)
    assert cells == _md_table(md)  # the same header, rows and cells
    header = cells[0]
    assert header[:6] == [
        "method",
        "examples",
        "per source",  # beside the losses
        "held-out loss (lower is better)",
        "vs random",
        "GSM8K test loss (lower is better)",
    ]
    assert "target training time" in header
    assert not any(h in ("heldout loss", "train seconds") for h in header)  # no raw keys
    rows = {r[0]: dict(zip(header, r)) for r in cells[1:]}
    assert set(rows) == {*sels, "full data", "middle perplexity"}
    assert rows["random"]["vs random"] == ""
    assert rows["random by source"]["vs random"] == "-0.0100"  # 4.51 - random's 4.52
    assert rows["S2L (by source)"]["vs random"] == "-0.0200"
    assert rows["LP(1), unclustered"]["vs random"] == "+0.0100"
    assert rows["full data"]["vs random"] == "-0.3200"
    assert rows["random"]["target training time"] == "155.6 s"
    assert rows["middle perplexity"]["examples"] == "failed: selection failed: no columns"
    # per-source counts beside the losses, for every subset and the full data
    for label, s in sels.items():
        src = np.asarray(recorded_store.metadata("source")).astype(str)[s.indices]
        names, counts = np.unique(src, return_counts=True)
        assert rows[label]["per source"] == ", ".join(f"{k} {v}" for k, v in zip(names, counts))
    assert rows["full data"]["per source"].count(" 24") == 4
    # the closing sentences: on the page exactly as in results.md
    assert table.notes and table.notes[0].startswith("Lower is better for held-out loss")
    assert "negative = better than random" in table.notes[0] and "One seed" in table.notes[0]
    for note in table.notes:
        assert html.escape(note) in page
        assert note in md


def test_a_subset_with_another_mix_is_named():
    """The demo's LP subset took no MAWPS or ASDiv-A rows: the note says so, with the mix."""
    from hf_s2l.report.outcomes import comparison_table

    comp = {
        "rows": [
            {
                "label": "random",
                "method": "random",
                "examples": 30,
                "seed": 0,
                "mean_last_loss": 1.0,
                "unscored": 0,
                "groups": {"aqua": 3, "asdiv_a": 6, "gsm8k": 15, "mawps": 6},
                "results": {"heldout_loss": 4.0},
            },
            {
                "label": "LP",
                "method": "lp",
                "examples": 30,
                "seed": 0,
                "mean_last_loss": 2.0,
                "unscored": 0,
                "groups": {"aqua": 5, "gsm8k": 25},
                "results": {"heldout_loss": 4.1},
            },
        ],
        "group_column": "source",
        "group_sizes": {"aqua": 10, "asdiv_a": 20, "gsm8k": 50, "mawps": 20},
        "last_column_step": 12,
        "mean_last_loss_all": 1.5,
    }
    notes = comparison_table(comp, 100).notes
    mix = next(n for n in notes if n.startswith("Subsets whose source mix differs"))
    assert "LP is 83% gsm8k (the pool: 50%) and has no asdiv_a, mawps rows" in mix
    assert "random" not in mix.split(":")[1].split(".")[0]  # random keeps the pool's mix


def test_parameters_in_words_and_k_of_the_s2l_selection(demo_like_report):
    """num_clusters says "per source" and the clusters in all, the number the report's own
    k-means uses (the figures said 71 while the table said 10); no raw None."""
    report, sels, _ = demo_like_report
    page = report.html.read_text()
    params = page.split("<h3>Parameters</h3>", 1)[1].split("</table>", 1)[0]
    n_sources = len(report.summary["groups"])
    total = 3 * n_sources
    assert (
        f"<td>num_clusters</td><td>3 per source ({n_sources} source groups: {total} clusters "
        "in all)</td>" in params
    )
    assert report.summary["num_clusters"] == total
    caption = f"{total} k-means clusters (K: the S2L selection's 3 clusters per source"
    assert caption in report.figures["trajectories"].caption
    assert html.escape(caption) in page
    assert "<td>None</td>" not in page
    assert "<td>kmeans_seed</td><td>default: the selection&#x27;s seed (0)</td>" in params


def test_lp_histogram_overlays_the_lp_selection(demo_like_report):
    report, _, _ = demo_like_report
    assert report.summary["lp_selection"] == "LP(1), unclustered"
    assert "LP(1), unclustered" in report.figures["lp"].title
    assert "the rows the LP(1), unclustered selection took" in report.figures["lp"].caption
    # the other plots keep the first selection
    assert "S2L (by source)" in report.figures["cluster_sizes"].title


def test_a_column_has_one_precision():
    """A perplexity column spanning 80.5 and 145.7 is written with one decimal throughout
    (the demo once printed "145.7" beside "80.5020"), and the note's overall proxy loss is
    rounded like the table's."""
    from hf_s2l.report.outcomes import comparison_table

    rows = [
        {"label": "random", "method": "random", "examples": 3, "results": {"ppl": 145.66}},
        {"label": "full data", "method": "full", "results": {"ppl": 80.50201}},
    ]
    comp = {"rows": rows, "last_column_step": 7, "mean_last_loss_all": 4.224183}
    table = comparison_table(comp, num_examples=10)
    col = table.header.index("ppl")
    assert [r[col] for r in table.rows] == ["145.7", "80.5"]
    assert "all rows: 4.2242)" in table.notes[-1]
