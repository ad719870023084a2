"""The smallest configuration of ``benchmarks/data_efficiency.py`` (v2) end to end (CI)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location(
        "data_efficiency", REPO / "benchmarks" / "data_efficiency.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # dataclasses need the module registered
    spec.loader.exec_module(bench)
    return bench


@pytest.mark.slow
def test_data_efficiency_smoke(tmp_path, shared_data):
    bench = _load_bench()
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## Other section\n\nkept\n")
    out = tmp_path / "out"
    argv = ["--smoke", "--data", str(shared_data), "--out", str(out), "--write-docs"]
    assert bench.main([*argv, "--docs", str(docs)]) == 0

    res = json.loads((out / "results.json").read_text())
    assert res["version"] == 2 and res["failures"] == []
    cfg = res["config"]
    assert cfg["epochs"] == 3 and cfg["proxy_epochs"] == 3 and cfg["scheduler"] == "cosine"
    # every pool, every method (by-source duplicates only on the multi-source pool), full data
    got = {(r["pool"], r["method"], r["seed"]) for r in res["runs"]}
    single = [m for m in bench.METHODS if not bench.METHODS[m].multi_source_only]
    for pool, methods in [("mix", list(bench.METHODS)), ("gsm8k", single), ("radiology", single)]:
        for s in cfg["seeds"]:
            assert {(pool, m, s) for m in [*methods, "full"]} <= got, pool
    assert len(got) == len(res["runs"])
    for r in res["runs"]:
        assert set(r["metrics"]) == set(res["pools"][r["pool"]]["evals"])
        assert r["target_parameters"] > res["proxies"][r["pool"]]["parameters"]
    # random by source draws exactly S2L's per-source counts
    by = {(r["method"], r["seed"]): r["per_source"] for r in res["runs"] if r["pool"] == "mix"}
    for s in cfg["seeds"]:
        assert by[("random_by_source", s)] == by[("s2l", s)]
    # the proxy was recorded with the default schedule in mode="both"
    proxy = res["proxies"]["mix"]
    assert proxy["columns"][0] == {"step": 0, "kind": "train_begin"}
    assert len([c for c in proxy["columns"] if c["step"] > 0]) == 12
    assert proxy["in_step_columns"] == 3
    # s2l clustered on the 12 after-start probe columns (never step 0); in-step: 3 epochs
    s2l = json.loads((out / "mix" / "runs" / "s2l__0.3__s0.json").read_text())
    assert s2l["selection"]["columns_used"] == list(range(1, 13))
    free = json.loads((out / "mix" / "runs" / "s2l_in_step__0.3__s0.json").read_text())
    assert free["selection"]["store"] == "in_step"
    assert free["selection"]["columns_used"] == [0, 1, 2]

    summary = json.loads((out / "summary.json").read_text())
    pairs = {(c["a"], c["b"]) for c in summary["comparisons"]}
    assert {("s2l", "random"), ("s2l", "random_by_source"), ("s2l_in_step", "s2l")} <= pairs

    text = docs.read_text()
    assert "## Other section" in text and "kept" in text
    assert text.count(bench.DOCS_START) == 1 and "| S2L (by source) |" in text
    for pool, ev in [("mix", "heldout"), ("gsm8k", "gsm8k_test"), ("radiology", "rouge_l")]:
        png = tmp_path / f"data_efficiency_{pool}_{ev}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.name in text
    # every full-data target kept its free in-step store (ids stamped): the transfer figures
    assert "<!-- data-efficiency-transfer:start -->" in text
    tr = json.loads((out / "mix" / "transfer.json").read_text())
    assert {"proxy", "ceiling", "floor", "target_seeds"} <= set(tr)
    assert tr["ceiling"]["spearman"] > tr["floor"]["spearman"]
    assert (out / "mix" / "proxy_s1" / "proxy.json").exists()
    # resumable and regenerated, not appended: a second call trains nothing
    assert bench.main([*argv, "--docs", str(docs), "--report-only"]) == 0
    assert docs.read_text().count(bench.DOCS_START) == 1
    assert len((out / "invocations.jsonl").read_text().splitlines()) == 1
