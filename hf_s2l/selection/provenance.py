"""Provenance of a selection: parameters as JSON and the CLI command that reproduces it."""

from __future__ import annotations

import hashlib
import os
import shlex
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Params as JSON: arrays become a short summary (shape, dtype, sha1)."""
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value) > 64):
        arr = np.asarray(value)
        digest = hashlib.sha1(np.ascontiguousarray(arr).tobytes()).hexdigest()[:12]
        return {"array": list(arr.shape), "dtype": str(arr.dtype), "sha1": digest}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def is_arraylike(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and len(value) > 64)


def cli_command(
    store_path: str | os.PathLike,
    method: str,
    budget: int | float,
    seed: int,
    by_column: str | None,
    stratify: bool,
    params: dict[str, Any],
    out: str = "OUT_DIR",
    embeddings_file: str | None = None,
    official: bool = False,
) -> str:
    """The ``hf-s2l select`` command line that reproduces a selection."""
    import json

    cmd = ["hf-s2l", "select", str(store_path), "--method", method, "--budget", repr(budget)]
    cmd += ["--seed", str(seed), "--out", out]
    if by_column:
        cmd += ["--by-column", by_column]
        if not stratify:
            cmd += ["--no-stratify"]
    if embeddings_file:
        cmd += ["--embeddings", embeddings_file]
    if official:
        cmd += ["--official"]
    for k, v in params.items():
        cmd += ["--param", f"{k}={v if isinstance(v, str) else json.dumps(v)}"]
    return shlex.join(cmd)
