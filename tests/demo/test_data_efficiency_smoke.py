"""The reduced configuration of ``benchmarks/data_efficiency.py`` (CI)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_data_efficiency_smoke(tmp_path, shared_data):
    spec = importlib.util.spec_from_file_location(
        "data_efficiency", REPO / "benchmarks" / "data_efficiency.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses need the module registered
    spec.loader.exec_module(bench)
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Other section\n\nkept\n")
    out = tmp_path / "out"
    argv = [
        "--smoke",
        "--data",
        str(shared_data),
        "--out",
        str(out),
        "--write-docs",
        "--docs",
        str(docs),
    ]
    assert bench.main(argv) == 0

    res = json.loads((out / "results.json").read_text())
    assert res["failures"] == []
    got = {(r["method"], r["budget"]) for r in res["runs"]}
    assert got == {(m, 0.3) for m in bench.METHODS} | {("full", 1.0)}
    for r in res["runs"]:
        assert set(r["loss"]) == set(bench.EVAL_SETS)
        assert all(v > 0 for v in r["loss"].values())
    assert res["target"]["parameters"] >= 1.5 * res["proxy"]["parameters"]
    assert (out / "data_efficiency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    text = docs.read_text()
    assert "## Other section" in text and "kept" in text
    assert text.count(bench.DOCS_START) == 1 and "| 30% | S2L (by source) |" in text
    # idempotent: a second write replaces the section
    bench.write_docs(bench.docs_section(res, "cmd", "data_efficiency.png", 1.0), docs)
    assert docs.read_text().count(bench.DOCS_START) == 1
