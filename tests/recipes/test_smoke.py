"""Every recipe's smoke mode, for real, under ``accelerate launch`` with two CPU processes.

The command is read from each recipe's README (the bash line with ``--smoke``), run from the
folder its ``cd`` line names; only the output folder and the interpreter are substituted. Data:
the committed slices in ``tests/fixtures/data`` (the smoke default).

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
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.recipes.conftest import RECIPES

REPO = RECIPES.parent
TIME_LIMIT_S = 180


def _repo_status() -> str:
    """``git status`` of the repository's recipes/ (untracked files included), or "" outside git."""
    proc = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "recipes"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return proc.stdout if proc.returncode == 0 else ""


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


def readme_smoke_commands(readme: Path) -> tuple[Path, str, list[str]]:
    """The smoke commands of a recipe README, as written: ``(cwd, output_dir, lines)``.

    ``cwd`` comes from the block's ``cd`` line, ``output_dir`` from the ``--output_dir`` of
    the line that runs ``configs/smoke.yaml``, ``lines`` are every line of that bash block
    that uses ``output_dir``.
    """
    for block in re.findall(r"```bash\n(.*?)```", readme.read_text(), flags=re.S):
        block = block.replace("\\\n", " ")  # line continuations
        lines = [ln.strip() for ln in block.splitlines()]
        lines = [ln for ln in lines if ln and not ln.startswith("#")]
        smoke = [ln for ln in lines if "configs/smoke.yaml" in shlex.split(ln)]
        if not smoke:
            continue
        argv = shlex.split(smoke[0])
        out = argv[argv.index("--output_dir") + 1]
        cds = [shlex.split(ln)[1] for ln in lines if ln.startswith("cd ")]
        cwd = REPO / cds[0] if cds else REPO
        return cwd, out, [ln for ln in lines if out in shlex.split(ln)]
    raise AssertionError(f"{readme} has no bash block running configs/smoke.yaml")


def _argv(line: str, readme_out: str, out: Path) -> list[str]:
    """One README line as argv: only the output folder and the interpreter are substituted."""
    argv = [str(out) if a == readme_out else a for a in shlex.split(line)]
    if argv[:2] == ["accelerate", "launch"]:
        argv = [sys.executable, "-m", "accelerate.commands.launch", *argv[2:]]
    elif argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    return argv


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1",
        TOKENIZERS_PARALLELISM="false",
        WANDB_DISABLED="true",
    )
    return env


def _launch(
    recipe: str, out: Path, extra: list[str] | None = None
) -> tuple[subprocess.CompletedProcess, float, list[subprocess.CompletedProcess]]:
    """Run the recipe README's smoke command (first line) and the lines after it."""
    cwd, readme_out, lines = readme_smoke_commands(RECIPES / recipe / "README.md")
    t0 = time.perf_counter()
    proc = subprocess.run(
        _argv(lines[0], readme_out, out) + (extra or []),
        env=_env(),
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - t0
    after = [
        subprocess.run(
            _argv(ln, readme_out, out), env=_env(), cwd=str(cwd), capture_output=True, text=True
        )
        for ln in lines[1:]
        if proc.returncode == 0
    ]
    return proc, seconds, after


def test_readme_smoke_commands_are_found():
    """Each recipe README has a smoke command run from the recipe folder, and the recipes
    index shows the same command from the repository root."""
    index = (RECIPES / "README.md").read_text()
    for recipe in EXPECTED:
        cwd, out, lines = readme_smoke_commands(RECIPES / recipe / "README.md")
        assert cwd == RECIPES / recipe
        argv = shlex.split(lines[0])
        assert argv[:4] == ["accelerate", "launch", "--config_file", "accelerate/smoke_cpu.yaml"]
        assert argv[4:6] == ["../run.py", "configs/smoke.yaml"]  # the one entry point
        if recipe == "math_pythia_to_phi2":
            from_root = lines[0].replace("accelerate/", f"recipes/{recipe}/accelerate/")
            from_root = from_root.replace(" ../run.py", " recipes/run.py")
            from_root = from_root.replace(" configs/", f" recipes/{recipe}/configs/")
            assert " ".join(from_root.split()) in " ".join(index.replace("\\\n", " ").split())


@pytest.mark.slow
@pytest.mark.parametrize("recipe", list(EXPECTED))
def test_recipe_smoke(recipe, tmp_path):
    import numpy as np

    import hf_s2l

    out = tmp_path / "out"
    before = _repo_status()
    proc, seconds, after = _launch(recipe, out)
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

    for p in after:  # the README's follow-up commands (lp: compare.py)
        assert p.returncode == 0, p.stderr[-3000:]
    if recipe == "lp_instruction_tuning":
        assert len(after) == 1
        assert "Δ vs full" in after[0].stdout and "lp1-10pct" in after[0].stdout
    assert _repo_status() == before, "the smoke run wrote into the repository"


@pytest.mark.slow
def test_math_smoke_with_lora_target(tmp_path):
    """``--use_lora true``: the target is a peft LoRA adapter, saved and loaded back for eval."""
    out = tmp_path / "out"
    proc, seconds, _ = _launch(
        "math_pythia_to_phi2",
        out,
        extra=["--use_lora", "true", "--lora_r", "8", "--methods", "s2l"],
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert seconds < TIME_LIMIT_S
    assert (out / "target" / "s2l-50pct" / "adapter_config.json").is_file()
    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"full", "s2l-50pct"}


def test_smoke_reads_the_committed_fixtures_and_full_runs_need_data_root(tmp_path):
    """--smoke defaults to tests/fixtures/data; a full run without --data_root stops before
    loading any model, naming the flag (no path of one machine as a default)."""
    from common.config import FIXTURE_DATA, check_data_root, parse_config
    from common.pipeline import run_recipe

    smoke = parse_config(["--config", str(RECIPES / "math_pythia_to_phi2/configs/smoke.yaml")])
    assert Path(smoke.data.data_root) == FIXTURE_DATA == REPO / "tests" / "fixtures" / "data"
    check_data_root(smoke)
    full = RECIPES / "math_pythia_to_phi2/configs/pythia70m_to_phi2.yaml"
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="--data_root DIR: the math eval sets"):
        run_recipe(["--config", str(full), "--output_dir", str(out)])
    assert not out.exists()  # stopped before writing anything
    check_data_root(parse_config(["--config", str(full), "--data_root", "data"]))
    # no local data needed: proxy + select on a Hub dataset
    check_data_root(parse_config(["--config", str(full), "--stages", "proxy", "select"]))
    clinical = RECIPES / "clinical_summarization/configs/iu_pythia70m_to_phi2.yaml"
    with pytest.raises(ValueError, match="--reports_csv"):
        check_data_root(parse_config(["--config", str(clinical)]))
    check_data_root(parse_config(["--config", str(clinical), "--reports_csv", "reports.csv"]))
