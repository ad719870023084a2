"""Load the ``--dataset`` argument of the CLI: a saved dataset, a data file, or a Hub name."""

from __future__ import annotations

import os
from pathlib import Path

import datasets

_FILE_BUILDERS = {
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".arrow": "arrow",
}


def load_any_dataset(
    path_or_name: str | os.PathLike, *, split: str = "train", config: str | None = None
) -> datasets.Dataset:
    """Load one split from a ``save_to_disk`` directory, a json/jsonl/csv/parquet file, or the Hub.

    A directory saved with ``save_to_disk`` holding a ``DatasetDict`` yields ``split``;
    anything else not on disk is passed to ``datasets.load_dataset(name, config, split=split)``.
    """
    p = Path(path_or_name)
    if p.is_dir() and ((p / "state.json").is_file() or (p / "dataset_dict.json").is_file()):
        ds = datasets.load_from_disk(str(p))
        if isinstance(ds, datasets.DatasetDict):
            if split not in ds:
                raise KeyError(f"{p} has splits {list(ds)}, not {split!r}")
            ds = ds[split]
        return ds
    if p.is_file():
        builder = _FILE_BUILDERS.get(p.suffix.lower())
        if builder is None:
            raise ValueError(f"unsupported data file {p}: expected one of {sorted(_FILE_BUILDERS)}")
        return datasets.load_dataset(builder, data_files={split: str(p)}, split=split)
    return datasets.load_dataset(str(path_or_name), config, split=split)
