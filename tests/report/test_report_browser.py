"""The report as a person sees it: rendered by a real headless Chromium (issue 13.7).

Chromium comes from the OS packages (``apt-get install chromium``; ``.ci/run`` installs it).
The test is skipped, with that reason, only where no Chromium/Chrome binary exists.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.xdist_group("report")  # shares the session's recorded store

BROWSERS = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")

PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images).map(i => ({
    src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight, complete: i.complete}));
  const pre = document.createElement('pre');
  pre.id = 'hf-s2l-probe';
  pre.textContent = JSON.stringify(imgs);
  document.body.appendChild(pre);
});
</script></body>"""


def _browser() -> str:
    found = os.environ.get("HF_S2L_BROWSER") or next(
        filter(None, map(shutil.which, BROWSERS)), None
    )
    if not found:
        pytest.skip(
            "no headless Chromium on this machine: install the OS package `chromium` "
            "(apt-get install chromium; .ci/run does) to run the browser-rendered report test"
        )
    return found


def _run_browser(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'chrome-profile'}",
        "--virtual-time-budget=15000",
        *args,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def _probe_page(browser: str, tmp: Path, report, name: str, script: str, pre_id: str):
    """The JSON that ``script`` (put before ``</body>`` of a copy of the report page, ``name``)
    writes into ``<pre id=pre_id>`` once Chromium has loaded the page."""
    probe = report.out_dir / name
    probe.write_text(report.html.read_text().replace("</body>", script, 1))
    res = _run_browser(browser, tmp, "--dump-dom", probe.resolve().as_uri())
    m = re.search(rf'<pre id="{pre_id}">(.*?)</pre>', res.stdout, re.S)
    assert m, f"the page's load script did not run; DOM tail: {res.stdout[-500:]}"
    return json.loads(html.unescape(m.group(1)))


@pytest.fixture(scope="module")
def browser() -> str:
    """The browser binary; skips before the (module-scoped) report is built."""
    return _browser()


@pytest.fixture(scope="module")
def full_report(recorded_store, tmp_path_factory):
    import hf_s2l

    out = tmp_path_factory.mktemp("browser") / "report"
    sel = hf_s2l.select(recorded_store, "s2l", 0.3, seed=0, by_column="source", num_clusters=3)
    report = hf_s2l.build_report(
        recorded_store,
        sel,
        out,
        compare_methods=["lp", "random"],
        results=[
            {"method": "s2l", "heldout_loss": 2.125},
            {"method": "random", "heldout_loss": 2.25},
            {"method": "full", "heldout_loss": 2.0},
        ],
        num_clusters=6,
    )
    return report


def test_report_images_render_in_a_real_browser(browser, full_report, tmp_path):
    """Every <img> of the page decodes in Chromium (naturalWidth = the PNG's width)."""
    from PIL import Image

    report = full_report
    images = _probe_page(browser, tmp_path, report, "_probe.html", PROBE, "hf-s2l-probe")
    assert sorted(i["src"] for i in images) == sorted(f.path.name for f in report.figures.values())
    for i in images:
        with Image.open(report.out_dir / i["src"]) as png:
            assert (i["w"], i["h"]) == png.size, i  # decoded by the browser at its true size
        assert i["complete"] and i["w"] > 0


TABLE_PROBE = """<script>
window.addEventListener('load', () => {
  const t = document.querySelector('table.comparison');
  const rows = t ? Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.innerText)) : null;
  const notes = t ? Array.from(document.querySelectorAll('table.comparison ~ p.note'))
    .map(p => p.innerText) : null;
  const pre = document.createElement('pre');
  pre.id = 'hf-s2l-table';
  pre.textContent = JSON.stringify({rows: rows, notes: notes});
  document.body.appendChild(pre);
});
</script></body>"""


def test_report_comparison_table_in_a_browser_is_the_results_md_table(
    browser, full_report, recorded_store, tmp_path
):
    """What Chromium renders as the comparison table (cells and closing notes) is what
    ``results.md`` prints: one table, built by ``comparison_table``."""
    from hf_s2l.report.outcomes import comparison_table

    report = full_report
    shown = _probe_page(browser, tmp_path, report, "_table_probe.html", TABLE_PROBE, "hf-s2l-table")
    table = comparison_table(report.summary["comparison"], recorded_store.num_examples)
    md = table.to_markdown().split("\n\n")[0].splitlines()
    md_rows = [[c.strip() for c in ln.strip("|").split(" | ")] for ln in md if "---|" not in ln]
    norm = [[c.replace("\u00a0", " ").strip() for c in r] for r in shown["rows"]]
    assert norm == [[c.replace("\u00a0", " ") for c in r] for r in md_rows]
    assert norm[0][:5] == [
        "method",
        "examples",
        "per source",
        "held-out loss (lower is better)",
        "vs random",
    ]
    assert shown["notes"][: len(table.notes)] == table.notes


def test_report_screenshot_shows_the_plots(browser, full_report, tmp_path):
    """A full-page screenshot of the unmodified page holds the plots' colours, not blank boxes."""
    from PIL import Image

    from hf_s2l.report import plots

    shot = tmp_path / "report.png"
    _run_browser(
        browser,
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1200,6000",
        full_report.html.resolve().as_uri(),
    )
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape[:2] == (6000, 1200)
    if os.environ.get("HF_S2L_KEEP_SCREENSHOT"):  # look at it yourself
        shutil.copy(shot, os.environ["HF_S2L_KEEP_SCREENSHOT"])

    def pixels_near(hex_color: str) -> int:
        rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(img - rgb).sum(axis=2) < 30).sum())

    # the page's CSS has none of these colours: only drawn plots can put them on screen
    assert pixels_near(plots.COLORS[0]) > 2000  # trajectories, cluster-size bars, coverage
    # the selection overlaid on the plots (drawn half-transparent: any strong orange)
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    assert plots.SELECTED_COLOR == "#D55E00"
    assert int(((r > 180) & (g > 60) & (g < 150) & (b < 90)).sum()) > 1000
    assert pixels_near(plots.FULL_COLOR) > 2000  # full-set bars and histogram
    rows_with_ink = int(((img < 200).any(axis=2)).any(axis=1).sum())
    assert rows_with_ink > 2500, "most of the page is empty"


def test_report_page_content(full_report, recorded_store):
    """Comparison table, method named on the plots, parameters as a table, proxy named."""
    report = full_report
    page = report.html.read_text()
    assert "<h2>Method comparison</h2>" in page
    table = page.split("<h2>Method comparison</h2>", 1)[1].split("</table>", 1)[0]
    for label in ("s2l", "lp", "random", "full"):
        assert f"<td>{label}</td>" in table, label
    assert "2.1250" in table and "2.0000" in table  # the joined outcome column
    assert "Overlap between selections (Jaccard)" in page
    comp = report.summary["comparison"]
    assert [r["label"] for r in comp["rows"]] == ["s2l", "lp", "random", "full"]
    n_sel = comp["rows"][0]["examples"]
    assert all(r["examples"] == n_sel for r in comp["rows"][:3])
    assert comp["overlap_jaccard"]["s2l"]["s2l"] == 1.0

    for name in ("groups", "cluster_sizes", "data_map"):
        assert "s2l" in report.figures[name].title, (name, report.figures[name].title)
    assert "lp" in report.figures["lp"].title  # the LP histogram overlays LP's own selection
    assert "lp" in report.figures["groups"].title and "random" in report.figures["groups"].title

    assert "<th>parameter</th><th>value</th>" in page
    assert "<td>num_clusters</td><td>3 per source (" in page  # S2L ran within each source
    assert '{"' not in page.split("<h2>Method comparison</h2>")[0]  # no raw JSON blob

    proxy_row = re.search(r"<td>proxy model</td><td>(.*?)</td>", page).group(1)
    assert proxy_row not in ("-", "") and "GPTNeoXForCausalLM" in proxy_row
    assert "built from a config" in proxy_row


def test_data_map_says_when_it_collapses(full_report):
    """At toy scale the map is nearly a line: the caption says why, axes fit the data."""
    import matplotlib.image as mpimg

    report = full_report
    assert report.summary["data_map_collapsed"] is True
    assert "never confident" in report.figures["data_map"].caption
    assert "never confident" in report.html.read_text()
    assert mpimg.imread(report.figures["data_map"].path).std() > 0.01


def test_out_is_the_parameter_and_out_dir_a_deprecated_alias(tmp_path):
    """``build_report(out=)`` matches the CLI's ``--out``; ``out_dir=`` still works, warned."""
    import hf_s2l

    store = hf_s2l.TrajectoryStore.create(tmp_path / "s", num_examples=10)
    c = store.add_column(global_step=0, epoch=0.0, kind="train_begin")
    store.write(c, np.arange(10), np.linspace(2.0, 3.0, 10))
    store.mark_complete(c)
    rep = hf_s2l.build_report(store, out=tmp_path / "a")
    assert rep.html == tmp_path / "a" / "index.html" and rep.html.is_file()
    with pytest.warns(FutureWarning, match="out_dir"):
        rep = hf_s2l.build_report(store, out_dir=tmp_path / "b")
    assert rep.html == tmp_path / "b" / "index.html" and rep.html.is_file()
    with pytest.raises(TypeError, match="once"):
        hf_s2l.build_report(store, out=tmp_path / "c", out_dir=tmp_path / "d")
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()
