"""``benchmarks/device_check.py --tiny``: the GPU check runs end to end at toy size on CPU."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _load():
    spec = importlib.util.spec_from_file_location(
        "device_check", REPO / "benchmarks" / "device_check.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_device_check_tiny(tmp_path, capsys):
    dc = _load()
    out = tmp_path / "dc.json"
    assert dc.main(["--tiny", "--out", str(out), "--threads", "1"]) == 0
    res = json.loads(out.read_text())
    assert res["tiny"] and res["device_type"] == "cpu" and res["device"].startswith("CPU")
    tp = res["throughput"]["tiny"]
    for key in ("probe_ex_per_s", "bare_forward_ex_per_s", "batch_size_1_ex_per_s"):
        assert tp[key] > 0
    assert tp["max_rel_diff_probe_vs_bs1"] < 1e-4  # the probe's losses are bs-1 losses
    o = res["in_step_overhead"]
    assert o["steps_with"] > 0 and o["steps_without"] > 0 and o["overhead_ratio"] > 0
    t = res["transfer"]
    for pair in (
        "proxy_to_target",
        "proxy_to_target_in_step",
        "ceiling_proxy_seed1_to_proxy",
        "floor_proxy_to_shuffled_target",
    ):
        for key in ("spearman", "variance_explained", "variance_explained_random", "k"):
            assert key in t[pair]
        assert 0.9 * res["rows"] <= t[pair]["n_aligned"] <= res["rows"]  # NaN rows left out
    # probe stores have LP's columns, in-step stores do not
    assert t["proxy_to_target"]["lp_hardest_overlap"] is not None
    assert t["proxy_to_target_in_step"]["lp_hardest_overlap"] is None
    # the floor (target rows shuffled) is well below the real pair
    assert t["floor_proxy_to_shuffled_target"]["spearman"] < t["proxy_to_target"]["spearman"]
    # the full configuration's models are >= 10x the CPU benchmark's
    full = dc.FULL
    assert dc.pt.PYTHIA[full["proxy"]]["hidden_size"] >= 512
    printed = capsys.readouterr().out
    assert "device: CPU" in printed and "| proxy_to_target |" in printed
