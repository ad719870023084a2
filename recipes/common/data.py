"""Training and evaluation data of the recipes (real hub datasets or a local data folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from transformers.utils import logging

logger = logging.get_logger(__name__)

# MAmmoTH eval file names for sets beyond gsm8k/numglue/simuleq/deepmind (users download them)
_EVAL_FILES = {"math": "MATH.json", "svamp": "SVAMP.json", "gsm8k": "gsm8k.jsonl"}


def _load_any(name_or_path: str, split: str):
    """A hub dataset id or a local file/dir as one ``datasets.Dataset`` split."""
    import datasets

    p = Path(name_or_path)
    if p.is_dir() and (p / "dataset_info.json").exists():
        return datasets.load_from_disk(str(p))
    if p.is_file():
        ext = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
        return datasets.load_dataset(ext[p.suffix], data_files=str(p), split="train")
    try:
        return datasets.load_dataset(name_or_path, split=split)
    except Exception as err:  # noqa: BLE001 - datasets raises many types when offline
        raise OSError(
            f"Could not load the dataset {name_or_path!r} ({type(err).__name__}: {err}). "
            f"Download it with `huggingface-cli download --repo-type dataset {name_or_path}` "
            "on a machine with network access, or pass a local file with --train_dataset, "
            "or run with --smoke (uses the committed tests/fixtures/data)."
        ) from err


def load_train_data(cfg) -> Any:
    """The raw training set of the recipe's task, with the columns the recipe uses.

    math: instruction/output/source; clinical: instruction (findings)/output (impression);
    instruction: instruction/[input]/output. In smoke mode the local data folder is used
    (default: the committed ``tests/fixtures/data``): the math mixture (math, instruction)
    or the IU reports (clinical).
    """
    d, task = cfg.data, cfg.run.task
    if task == "clinical":
        from hf_s2l.experiments.corpora import load_radiology_reports

        csv = d.reports_csv or str(
            require_data_root(d.data_root, "the IU reports")
            / "radiology_iu"
            / "indiana_reports.csv"
        )
        ds = load_radiology_reports(csv, d.findings_column, d.impression_column)
        ds = ds.rename_columns({"findings": "instruction", "impression": "output"})
        return ds
    if cfg.run.smoke or d.train_dataset in ("local", "math_mix"):
        from hf_s2l.experiments.corpora import load_math_mixture

        root = require_data_root(d.data_root, "the local math mixture")
        if not (root / "math_mix").is_dir():
            raise FileNotFoundError(
                f"no math_mix/ folder under --data_root {root}; pass the folder holding "
                "math_mix/, math_eval/, radiology_iu/ (layout of tests/fixtures/data)"
            )
        return load_math_mixture(root / "math_mix")
    ds = _load_any(d.train_dataset, d.train_split)
    rename = {d.instruction_column: "instruction", d.output_column: "output"}
    if d.input_column:
        rename[d.input_column] = "input"
    ds = ds.rename_columns({k: v for k, v in rename.items() if k != v})
    return ds


def require_data_root(data_root: str | os.PathLike | None, what: str) -> Path:
    """``data_root`` as a Path, or a clear error naming ``--data_root`` when it is unset."""
    if data_root is None:
        raise ValueError(
            f"{what} is read from a local data folder: pass --data_root DIR (a folder with "
            "math_mix/, math_eval/, radiology_iu/ laid out like tests/fixtures/data), or run "
            "with --smoke to use the committed slices"
        )
    return Path(data_root)


def split_train_eval(ds, cfg):
    """Shuffle (seeded), cap at ``max_train_samples``, hold out ``eval_holdout`` rows."""
    d = cfg.data
    ds = ds.shuffle(seed=cfg.run.seed).flatten_indices()
    held = None
    if d.eval_holdout:
        held = ds.select(range(len(ds) - d.eval_holdout, len(ds)))
        ds = ds.select(range(len(ds) - d.eval_holdout))
    if d.max_train_samples and d.max_train_samples < len(ds):
        ds = ds.select(range(d.max_train_samples))
    if held is not None and d.max_eval_samples:
        held = held.select(range(min(d.max_eval_samples, len(held))))
    return ds.flatten_indices(), held


def load_math_eval_set(data_root: str | os.PathLike | None, name: str, limit: int | None = None):
    """A math evaluation set as ``question``/``answer`` rows.

    gsm8k, numglue, simuleq, deepmind are read in the layout of ``tests/fixtures/data``;
    others (MATH, SVAMP, …) are read from ``data_root/math_eval/<name>/`` in MAmmoTH's format (download its
    ``math_eval/dataset`` folder).
    """
    from datasets import Dataset

    from hf_s2l.experiments.corpora import load_math_eval
    from hf_s2l.experiments.eval import extract_answer

    root = require_data_root(data_root, f"the math eval set {name!r}")
    if name in ("gsm8k", "numglue", "simuleq", "deepmind"):
        return load_math_eval(root, name, limit=limit)
    folder = root / "math_eval" / name
    candidates = [folder / _EVAL_FILES.get(name, f"{name}.json"), folder / f"{name}.jsonl"]
    path = next((c for c in candidates if c.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            f"eval set {name!r} not found in {folder}; download MAmmoTH's math_eval/dataset "
            "folder (github.com/TIGER-AI-Lab/MAmmoTH) into data_root/math_eval"
        )
    text = path.read_text()
    rows = (
        [json.loads(x) for x in text.splitlines() if x.strip()]
        if path.suffix == ".jsonl"
        else json.loads(text)
    )
    out = []
    for r in rows:
        q = (
            r.get("question")
            or r.get("problem")
            or (f"{r.get('Body', '')} {r.get('Question', '')}".strip())
        )
        a = r.get("answer", r.get("Answer"))
        if a is None and "solution" in r:
            a = extract_answer(r["solution"])
        out.append({"question": str(q), "answer": str(a)})
    return Dataset.from_list(out[:limit] if limit else out)
