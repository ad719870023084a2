"""Every recipe's smoke mode, for real, under ``accelerate launch`` with two CPU processes.

Whole pipeline: tiny GPT-NeoX / OPT proxy (built from a config + a tokenizer trained on the
spot, saved, loaded back with ``from_pretrained(path)``) trained with TrajectoryCallback →
selection → tiny Phi / OPT target trained on a SelectedDataset → generation-based
evaluation → results table. ``accelerate launch --cpu --num_processes 2`` would start ONE
process, so ``accelerate/smoke_cpu.yaml`` uses accelerate's multi-process (torchrun)
launcher and ``--smoke`` puts both ranks on the CPU (gloo).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.recipes.conftest import RECIPES

REPO = RECIPES.parent
TIME_LIMIT_S = 180

EXPECTED = {
    "math_pythia_to_phi2": {
        "runs": {"full", "s2l-50pct", "random-50pct"},
        "columns": {"gsm8k", "numglue", "simuleq", "deepmind"},
        "budget": 100,
    },
    "clinical_summarization": {
        "runs": {"full", "s2l-50pct", "random-50pct"},
        "columns": {"bleu", "rouge_l", "bertscore_f1"},
        "budget": 100,
    },
    "lp_instruction_tuning": {
        "runs": {"full", "lp1-10pct", "lp_app-10pct", "random-10pct"},
        "columns": {"bleu", "rouge_l"},
        "budget": 20,
    },
}


def _launch(
    recipe: str, out, shared_data, extra: list[str] | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        HF_S2L_SHARED_DATA=str(shared_data),
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
        WANDB_DISABLED="true",
    )
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(RECIPES / recipe / "accelerate" / "smoke_cpu.yaml"),
        str(RECIPES / recipe / "run.py"),
        "--smoke",
        "--output_dir",
        str(out),
        *(extra or []),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, env=env, cwd=str(out.parent), capture_output=True, text=True, timeout=600
    )
    return proc, time.perf_counter() - t0


@pytest.mark.slow
@pytest.mark.parametrize("recipe", list(EXPECTED))
def test_recipe_smoke(recipe, tmp_path, shared_data):
    import numpy as np

    import hf_s2l

    out = tmp_path / "out"
    proc, seconds = _launch(recipe, out, shared_data)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert seconds < TIME_LIMIT_S, f"{recipe} smoke run took {seconds:.0f}s"
    assert "2 process(es), MULTI_CPU" in log  # really two ranks

    exp = EXPECTED[recipe]
    # proxy: tiny stand-ins saved locally and a complete trajectory store over all 200 rows
    assert (out / "models" / "proxy" / "config.json").is_file()
    store = hf_s2l.TrajectoryStore.open(out / "store")
    assert store.num_examples == 200
    complete = store.complete_columns()
    assert len(complete) >= 4
    assert np.isfinite(store.trajectories(complete)).any(axis=1).mean() > 0.95
    if recipe == "lp_instruction_tuning":  # P0 + the 3 epoch ends
        assert 0 in set(store.steps.tolist())
        assert len(complete) == 4
    # selections and the targets trained on them
    for run in exp["runs"] - {"full"}:
        sel = hf_s2l.Selection.load(out / "selections" / run)
        assert len(sel) == exp["budget"]
        assert (out / "target" / run / "config.json").is_file()
    # the results table
    results = json.loads((out / "results.json").read_text())
    assert set(results) == exp["runs"]
    for row in results.values():
        assert exp["columns"] <= set(row)
        assert all(0 <= row[c] <= 100 for c in exp["columns"])
    md = (out / "results.md").read_text()
    assert all(f"| {run} |" in md for run in exp["runs"])
    generations = list((out / "eval").glob("*.jsonl"))
    assert generations and all(p.stat().st_size > 0 for p in generations)

    if recipe == "lp_instruction_tuning":
        compare = subprocess.run(
            [sys.executable, str(RECIPES / recipe / "compare.py"), "--output_dir", str(out)],
            capture_output=True,
            text=True,
        )
        assert compare.returncode == 0, compare.stderr
        assert "Δ vs full" in compare.stdout and "lp1-10pct" in compare.stdout


@pytest.mark.slow
def test_math_smoke_with_lora_target(tmp_path, shared_data):
    """``--use_lora true``: the target is a peft LoRA adapter, saved and loaded back for eval."""
    out = tmp_path / "out"
    proc, seconds = _launch(
        "math_pythia_to_phi2",
        out,
        shared_data,
        extra=["--use_lora", "true", "--lora_r", "8", "--methods", "s2l"],
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert seconds < TIME_LIMIT_S
    assert (out / "target" / "s2l-50pct" / "adapter_config.json").is_file()
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"full", "s2l-50pct"}
