"""Recipe configuration: dataclasses parsed with ``HfArgumentParser`` from YAML + CLI flags.

A recipe is run as ``recipes/run.py recipes/<recipe>/configs/X.yaml [--flag value ...]``: the
YAML is the recipe (its ``task`` picks the pipeline) and gives the values, any flag on the
command line overrides it (e.g. ``--smoke``,
``--proxy_model /path/to/pythia-70m``, ``--budgets 30000 50000``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
RECIPES_DIR = REPO_ROOT / "recipes"
TASKS = ("math", "clinical", "instruction")
STAGES = ("proxy", "select", "target", "eval")


# the committed data slices that the tests use; --smoke reads them unless --data_root is given
FIXTURE_DATA = REPO_ROOT / "tests" / "fixtures" / "data"


@dataclass
class RunConfig:
    """What to run and where."""

    task: str = field(default="math", metadata={"help": f"one of {TASKS}"})
    output_dir: str = field(default="outputs/recipe", metadata={"help": "all artefacts go here"})
    stages: list[str] = field(
        default_factory=lambda: list(STAGES), metadata={"help": f"subset of {STAGES}"}
    )
    smoke: bool = field(
        default=False,
        metadata={"help": "CPU smoke mode: tiny local models of the same families, small slices"},
    )
    seed: int = 42
    overwrite: bool = field(default=False, metadata={"help": "delete output_dir's store first"})


@dataclass
class DataConfig:
    """Training and evaluation data."""

    train_dataset: str = field(
        default="TIGER-Lab/MathInstruct",
        metadata={"help": "hub id or local path (json/jsonl/csv/parquet or save_to_disk dir)"},
    )
    train_split: str = "train"
    data_root: str | None = field(
        default=None,
        metadata={
            "help": "local data folder with math_mix/, math_eval/, radiology_iu/ (the layout of "
            "tests/fixtures/data); needed for the local math mixture, the math eval sets and "
            "the IU reports. --smoke defaults to the committed tests/fixtures/data"
        },
    )
    reports_csv: str | None = field(
        default=None,
        metadata={"help": "clinical: IU indiana_reports.csv or a local MIMIC-III export"},
    )
    findings_column: str = "findings"
    impression_column: str = "impression"
    instruction_column: str = "instruction"
    input_column: str | None = None
    output_column: str = "output"
    group_column: str | None = field(
        default="source", metadata={"help": "per-example group (MathInstruct's source)"}
    )
    max_train_samples: int | None = None
    eval_holdout: int = field(
        default=0, metadata={"help": "rows held out of training for evaluation (clinical/LP)"}
    )
    eval_sets: list[str] = field(
        default_factory=lambda: ["gsm8k", "numglue", "simuleq", "deepmind"],
        metadata={"help": "math eval sets under data_root/math_eval (gsm8k from math_mix)"},
    )
    max_eval_samples: int | None = None
    max_length: int = 512


@dataclass
class ModelConfig:
    """Proxy and target models."""

    proxy_model: str = "EleutherAI/pythia-70m-deduped"
    target_model: str = "microsoft/phi-2"
    torch_dtype: str = field(default="auto", metadata={"help": "auto|float32|bfloat16|float16"})
    use_lora: bool = False
    lora_r: int = 64
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["all-linear"])
    smoke_hidden_size: int = 64
    smoke_num_layers: int = 2
    smoke_vocab_size: int = 1024


@dataclass
class SelectionConfig:
    """Recording schedule and selection methods/budgets."""

    methods: list[str] = field(default_factory=lambda: ["s2l"])
    budgets: list[float] = field(
        default_factory=lambda: [30000, 50000, 100000],
        metadata={"help": "counts (>= 1) or fractions in (0, 1)"},
    )
    num_clusters: int = 100
    stratify_by_group: bool = True
    lp_variants: list[str] = field(
        default_factory=lambda: ["lp1", "lp_app"], metadata={"help": "LP variants for method lp"}
    )
    lp_num_clusters: int = field(
        default=1000,
        metadata={"help": "LP: k-means clusters of the MiniLM embeddings (official: 1000)"},
    )
    lp_cluster_sizes: str = field(
        default="exact",
        metadata={"help": "LP: exact (the budget) or official (ceil per cluster, subset.py)"},
    )
    train_full: bool = field(default=False, metadata={"help": "also train on the full data"})
    record_num_points: int | None = 12
    record_at_train_begin: bool = True
    record_at_epoch_end: bool = False
    record_every_n_steps: int | None = None
    record_batch_size: int = 64


@dataclass
class TrainConfig:
    """Proxy and target training hyper-parameters (passed to ``TrainingArguments``)."""

    proxy_epochs: float = 3
    proxy_learning_rate: float = 2e-5
    proxy_batch_size: int = 16
    proxy_gradient_accumulation_steps: int = 1
    target_epochs: float = 3
    target_learning_rate: float = 2e-5
    target_batch_size: int = 4
    target_gradient_accumulation_steps: int = 8
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    lr_scheduler_type: str = "cosine"
    gradient_checkpointing: bool = False
    bf16: bool = False
    logging_steps: int = 10
    report_to: str = "none"


@dataclass
class EvalConfig:
    """Generation-based evaluation."""

    max_new_tokens: int = 512
    eval_batch_size: int = 16
    bertscore_model: str = "roberta-large"
    bertscore_num_layers: int | None = None


CONFIG_CLASSES = (RunConfig, DataConfig, ModelConfig, SelectionConfig, TrainConfig, EvalConfig)


@dataclass
class RecipeConfig:
    """All sections of a recipe's configuration."""

    run: RunConfig
    data: DataConfig
    model: ModelConfig
    selection: SelectionConfig
    train: TrainConfig
    eval: EvalConfig

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {f.name: asdict(getattr(self, f.name)) for f in fields(self)}


def check_data_root(cfg: RecipeConfig) -> None:
    """Fail before any training when a stage will need the local data folder and none is set."""
    d, run = cfg.data, cfg.run
    if d.data_root is not None:
        return
    needs = []
    if d.train_dataset in ("local", "math_mix") and "proxy" in run.stages:
        needs.append("the local math mixture (--train_dataset math_mix)")
    if run.task == "clinical" and not d.reports_csv:
        needs.append("the IU reports (or pass --reports_csv)")
    if run.task == "math" and "eval" in run.stages:
        needs.append(f"the math eval sets {d.eval_sets}")
    if needs:
        raise ValueError(
            f"pass --data_root DIR: {'; '.join(needs)} are read from a local folder with "
            "math_mix/, math_eval/, radiology_iu/ laid out like tests/fixtures/data (or run "
            "with --smoke, which uses those committed slices)"
        )


def _flat_yaml(path: str | os.PathLike) -> dict[str, Any]:
    import yaml

    with open(path) as f:
        raw = yaml.safe_load(f) or {}
    flat: dict[str, Any] = {}
    for key, value in raw.items():  # allow both flat keys and one level of sections
        if isinstance(value, dict) and key in {
            "run",
            "data",
            "model",
            "selection",
            "train",
            "eval",
        }:
            flat.update(value)
        else:
            flat[key] = value
    return flat


def parse_config(argv: list[str] | None = None) -> RecipeConfig:
    """Parse ``--config FILE.yaml`` plus CLI overrides into a :class:`RecipeConfig`.

    Unknown YAML keys are an error (a typo must not be silently ignored).
    """
    import argparse

    from transformers import HfArgumentParser

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", default=None)
    known, rest = pre.parse_known_args(argv)
    parser = HfArgumentParser(CONFIG_CLASSES)
    parser.add_argument("--config", default=None, help="YAML config file")
    if known.config:
        values = _flat_yaml(known.config)
        valid = {f.name for cls in CONFIG_CLASSES for f in fields(cls)}
        unknown = sorted(set(values) - valid)
        if unknown:
            raise ValueError(f"{known.config}: unknown config keys {unknown}")
        if "task" not in values and not any(a.split("=")[0] == "--task" for a in rest):
            raise ValueError(
                f"{known.config}: no task; a recipe config names its pipeline, task: one of {TASKS}"
            )
        parser.set_defaults(**values)
    *parts, _ = parser.parse_args_into_dataclasses(rest, return_remaining_strings=False)
    cfg = RecipeConfig(*parts)
    if cfg.data.data_root is None and cfg.run.smoke:
        cfg.data.data_root = str(FIXTURE_DATA)
    if cfg.run.task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {cfg.run.task!r}")
    bad = set(cfg.run.stages) - set(STAGES)
    if bad:
        raise ValueError(f"unknown stages {sorted(bad)}; available: {STAGES}")
    return cfg
