"""Recipe configs, model/dataset errors, results tables (fast; the smoke runs are in test_smoke)."""

from __future__ import annotations

import importlib.util

import pytest
import yaml

from tests.recipes.conftest import RECIPES

RECIPE_DIRS = ["math_pythia_to_phi2", "clinical_summarization", "lp_instruction_tuning"]
CONFIGS = sorted(RECIPES.glob("*/configs/*.yaml"))
# the real Hub ids the recipes reproduce the papers with
HUB_MODELS = {
    "EleutherAI/pythia-70m-deduped",
    "EleutherAI/pythia-160m-deduped",
    "EleutherAI/pythia-410m-deduped",
    "openai-community/gpt2",
    "microsoft/phi-2",
    "facebook/opt-350m",
    "facebook/opt-13b",
    "meta-llama/Llama-2-13b-hf",
}
HUB_DATASETS = {"TIGER-Lab/MathInstruct", "tatsu-lab/alpaca"}


@pytest.fixture
def hub_offline(monkeypatch):
    """Offline for real: huggingface_hub/datasets read HF_HUB_OFFLINE at import, so patch both."""
    import datasets.config
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    if hasattr(datasets.config, "HF_DATASETS_OFFLINE"):
        monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)


def test_every_recipe_has_readme_configs_and_accelerate_configs():
    """One entry point (recipes/run.py) for all recipes; a recipe is configs + a README."""
    assert (RECIPES / "README.md").is_file() and (RECIPES / "run.py").is_file()
    assert sorted(p.parent.name for p in RECIPES.glob("*/run.py")) == []
    for name in RECIPE_DIRS:
        d = RECIPES / name
        assert (d / "README.md").is_file()
        assert (d / "configs" / "smoke.yaml").is_file()
        accel = {p.stem for p in (d / "accelerate").glob("*.yaml")}
        assert {"single_gpu", "multi_gpu", "fsdp", "deepspeed_zero3", "smoke_cpu"} <= accel


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_configs_parse_and_name_real_hub_ids(path):
    from common.config import parse_config

    cfg = parse_config(["--config", str(path)])
    assert cfg.model.proxy_model in HUB_MODELS
    assert cfg.model.target_model in HUB_MODELS
    if cfg.run.task != "clinical":
        assert cfg.data.train_dataset in HUB_DATASETS
    assert cfg.run.smoke == (path.name == "smoke.yaml")


def test_config_cli_overrides_and_unknown_keys(tmp_path):
    from common.config import parse_config

    cfg = parse_config(
        [
            "--config",
            str(RECIPES / "math_pythia_to_phi2" / "configs" / "pythia70m_to_phi2.yaml"),
            "--proxy_model",
            "/models/pythia-160m",
            "--budgets",
            "0.1",
            "50000",
        ]
    )
    assert cfg.model.proxy_model == "/models/pythia-160m"
    assert cfg.selection.budgets == [0.1, 50000]
    assert cfg.selection.num_clusters == 100 and cfg.data.max_length == 512
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"task": "math", "num_cluster": 3}))
    with pytest.raises(ValueError, match="unknown config keys"):
        parse_config(["--config", str(bad)])


def test_every_config_names_its_task_and_one_without_is_refused(tmp_path):
    """The config is the recipe: its task picks the pipeline (no run.py per recipe sets it)."""
    from common.config import TASKS, parse_config

    for path in CONFIGS:
        assert yaml.safe_load(path.read_text())["task"] in TASKS, path
    tasks = {p.parent.parent.name: parse_config(["--config", str(p)]).run.task for p in CONFIGS}
    assert tasks == {
        "math_pythia_to_phi2": "math",
        "clinical_summarization": "clinical",
        "lp_instruction_tuning": "instruction",
    }
    no_task = tmp_path / "mine.yaml"
    no_task.write_text(yaml.safe_dump({"budgets": [0.1]}))
    with pytest.raises(ValueError, match="no task; a recipe config names its pipeline"):
        parse_config(["--config", str(no_task)])
    assert parse_config(["--config", str(no_task), "--task", "clinical"]).run.task == "clinical"


def test_run_py_takes_the_config_and_lists_the_recipes_without_one(tmp_path, monkeypatch):
    """``recipes/run.py CONFIG`` is ``--config CONFIG``; without a config it names them all."""
    import common.pipeline as pipeline

    seen = []
    monkeypatch.setattr(pipeline, "run_recipe", lambda argv: seen.append(argv))
    config = "recipes/math_pythia_to_phi2/configs/smoke.yaml"
    pipeline.recipe_main([config, "--stages", "proxy"])
    pipeline.recipe_main(["--config", config])
    assert seen == [["--config", config, "--stages", "proxy"], ["--config", config]]
    with pytest.raises(SystemExit) as err:
        pipeline.recipe_main(["--smoke"])
    msg = str(err.value)
    assert msg.startswith("usage: recipes/run.py CONFIG.yaml")
    assert "lp_instruction_tuning/configs/smoke.yaml" in msg
    assert "math_pythia_to_phi2/configs/pythia70m_to_phi2.yaml" in msg


@pytest.mark.parametrize("path", sorted(RECIPES.glob("*/accelerate/*.yaml")), ids=str)
def test_accelerate_configs_are_valid(path):
    cfg = yaml.safe_load(path.read_text())
    assert cfg["distributed_type"] in {"NO", "MULTI_GPU", "FSDP", "DEEPSPEED"}
    assert isinstance(cfg["num_processes"], int)
    if path.stem == "fsdp":
        assert cfg["fsdp_config"]["fsdp_sharding_strategy"] == "FULL_SHARD"
    if path.stem == "deepspeed_zero3":
        assert cfg["deepspeed_config"]["zero_stage"] == 3


def test_missing_hub_model_gives_clear_error(hub_offline):
    from common.models import ModelNotAvailableError, load_causal_lm, load_tokenizer

    with pytest.raises(ModelNotAvailableError) as err:
        load_tokenizer("EleutherAI/pythia-70m-deduped", role="proxy")
    msg = str(err.value)
    assert "huggingface-cli download EleutherAI/pythia-70m-deduped" in msg
    assert "--proxy_model /path/to/model" in msg and "HF_HUB_OFFLINE=1" in msg
    with pytest.raises(ModelNotAvailableError, match="--target_model"):
        load_causal_lm("microsoft/phi-2", role="target")
    with pytest.raises(ModelNotAvailableError, match="gated"):
        load_causal_lm("meta-llama/Llama-2-13b-hf", role="target")


def test_missing_local_model_dir_gives_clear_error(tmp_path):
    from common.models import ModelNotAvailableError, load_causal_lm

    with pytest.raises(ModelNotAvailableError, match="not a model directory"):
        load_causal_lm(str(tmp_path), role="target")


def test_recipe_with_uncached_model_fails_clearly(tmp_path, shared_data, hub_offline):
    """A real (non-smoke) config whose proxy is not cached: clear error before training."""
    from common.models import ModelNotAvailableError
    from common.pipeline import run_recipe

    argv = [
        "--config",
        str(RECIPES / "math_pythia_to_phi2" / "configs" / "pythia70m_to_phi2.yaml"),
        "--train_dataset",
        "math_mix",
        "--data_root",
        str(shared_data),
        "--max_train_samples",
        "16",
        "--stages",
        "proxy",
        "--output_dir",
        str(tmp_path / "out"),
    ]
    with pytest.raises(ModelNotAvailableError, match="pythia-70m-deduped"):
        run_recipe(argv)


def test_missing_hub_dataset_gives_clear_error(hub_offline):
    from common.data import _load_any

    with pytest.raises(OSError, match="huggingface-cli download --repo-type dataset"):
        _load_any("TIGER-Lab/MathInstruct", "train")


def test_importing_recipes_downloads_nothing(monkeypatch):
    import huggingface_hub

    def boom(*a, **k):
        raise AssertionError("download at import time")

    for name in ("hf_hub_download", "snapshot_download"):
        monkeypatch.setattr(huggingface_hub, name, boom)
    spec = importlib.util.spec_from_file_location("recipes_run", RECIPES / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert callable(module.main)
    for m in ("config", "data", "models", "pipeline", "evaluation", "results"):
        importlib.import_module(f"common.{m}")


def test_run_names_and_budgets():
    from common.config import parse_config
    from common.pipeline import run_names

    cfg = parse_config(["--config", str(RECIPES / "lp_instruction_tuning/configs/smoke.yaml")])
    assert [r[0] for r in run_names(cfg)] == ["lp1-10pct", "lp_app-10pct", "random-10pct"]
    cfg = parse_config(
        ["--config", str(RECIPES / "math_pythia_to_phi2/configs/pythia70m_to_phi2.yaml")]
    )
    runs = run_names(cfg)
    assert [r[0] for r in runs] == ["s2l-30000", "s2l-50000", "s2l-100000"]
    assert all(isinstance(r[3], int) for r in runs)


def test_results_table_and_comparison(tmp_path):
    from common.results import compare_runs, results_table, write_results

    res = {
        "full": {"examples": 100, "a": 50.0, "b": 30.0},
        "s2l-50pct": {"examples": 50, "a": 40.0, "b": 35.0},
    }
    md = results_table(res, columns=["examples", "a", "b"], average=["a", "b"])
    assert "| full | 100 | 50.0000 | 30.0000 | 40.0000 |" in md
    assert "| s2l-50pct | 50 | 40.0000 | 35.0000 | 37.5000 |" in md
    path = write_results(tmp_path, res, columns=["examples", "a", "b"], average=["a", "b"])
    assert path.read_text().startswith("# Results") and (tmp_path / "results.json").is_file()
    cmp = compare_runs(res)
    assert "40.0000 (-10.0000)" in cmp and "35.0000 (+5.0000)" in cmp
    with pytest.raises(KeyError):
        compare_runs(res, baseline="nope")


def test_math_eval_set_loader(shared_data, tmp_path):
    from common.data import load_math_eval_set

    ds = load_math_eval_set(shared_data, "numglue", limit=5)
    assert len(ds) == 5 and set(ds.column_names) >= {"question", "answer"}
    with pytest.raises(FileNotFoundError, match="MAmmoTH"):
        load_math_eval_set(tmp_path, "math")
    (tmp_path / "math_eval" / "math").mkdir(parents=True)
    (tmp_path / "math_eval" / "math" / "MATH.json").write_text(
        '[{"question": "1+1?", "solution": "So $\\\\boxed{2}$."}]'
    )
    assert load_math_eval_set(tmp_path, "math")[0]["answer"] == "2"


def test_smoke_family_mapping():
    from common.models import smoke_family

    assert smoke_family("EleutherAI/pythia-70m-deduped") == "gpt_neox"
    assert smoke_family("microsoft/phi-2") == "phi"
    assert smoke_family("facebook/opt-13b") == "opt"
    with pytest.raises(ValueError):
        smoke_family("google/t5-small")
