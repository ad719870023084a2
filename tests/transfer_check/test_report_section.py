"""The report's transfer section, through build_report and ``hf-s2l report --target-store``."""

from __future__ import annotations

import json

import numpy as np

from hf_s2l.cli import main
from hf_s2l.report import build_report

from .conftest import latent_curves, write_store


def test_report_section_renders(related_pair, tmp_path):
    proxy, target = related_pair
    rep = build_report(proxy, out=tmp_path / "rep", target_store=target, num_clusters=6)
    fig = rep.figures["transfer"]
    assert fig.path.is_file() and fig.path.stat().st_size > 5000
    assert fig.xlabel == "training progress of the target (fraction of its run)"
    assert fig.ylabel == "target loss"
    page = rep.html.read_text()
    assert "Does the proxy stand for the target?" in page
    assert "The proxy stands for the target:" in page
    assert "transfer.png" in page
    summary = json.loads((tmp_path / "rep" / "report.json").read_text())["summary"]["transfer"]
    assert summary["spearman"] > 0.9 and summary["k"] == 100
    assert 1 <= len(summary["clusters_shown"]) <= 4


def test_report_section_says_why_when_stores_do_not_align(tmp_path, capsys):
    start, speed = latent_curves(n=40)
    p = write_store(tmp_path / "p", start, speed, [10, 20], fingerprint="a")
    t = write_store(tmp_path / "t", start, speed, [10, 20], fingerprint="b", ids=np.arange(40))
    out = tmp_path / "rep"
    rep = build_report(p, out=out, target_store=t)  # the library: a section saying why
    assert "cannot align" in rep.skipped["transfer"]
    page = (out / "index.html").read_text()
    assert "Not computed: cannot align the proxy and target stores" in page
    assert not (out / "transfer.png").exists()
    # the command was asked for the transfer section: an error saying why, nothing written
    cli_out = tmp_path / "cli-rep"
    assert main(["report", str(p), "--out", str(cli_out), "--target-store", str(t)]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 1 and "cannot align the proxy and target stores" in err
    assert not cli_out.exists()


def test_cli_report_when_the_check_fails_after_aligning(tmp_path, capsys):
    """Aligned, but too few rows to compare: the report is written, the command fails."""
    start, speed = latent_curves(n=40)
    ids = np.arange(40)
    p = write_store(tmp_path / "p", start, speed, [10, 20], ids=ids)
    t = write_store(tmp_path / "t", start[:2], speed[:2], [10, 20], ids=ids[:2])
    out = tmp_path / "rep"
    assert main(["report", str(p), "--out", str(out), "--target-store", str(t)]) == 2
    err = capsys.readouterr().err
    assert "error: --target-store" in err and "only 2 examples" in err, err
    assert str(out / "index.html") in err  # where the rest of the report is
    assert "Not computed: only 2 examples" in (out / "index.html").read_text()
