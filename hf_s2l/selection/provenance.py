"""Provenance of a selection: parameters as JSON and the CLI command that reproduces it.

Both are thin: the JSON summary is :func:`hf_s2l.store.jsonable.to_jsonable`
(``arrays="summary"``), the command :func:`hf_s2l.store.commandline.hf_s2l_command`.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from ..store.commandline import hf_s2l_command
from ..store.jsonable import MAX_LIST, to_jsonable


def jsonable(value: Any) -> Any:
    """Params as JSON: arrays become a short summary (shape, dtype, sha1)."""
    return to_jsonable(value, arrays="summary")


def is_arraylike(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (
        isinstance(value, (list, tuple)) and len(value) > MAX_LIST
    )


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
    group_quotas: Any = None,
) -> str:
    """The ``hf-s2l select`` command line that reproduces a selection.

    ``group_quotas`` (with ``by_column``): ``--group-quotas`` (a mapping as JSON)."""
    options: list[tuple[str, Any]] = [
        ("--method", method),
        ("--budget", repr(budget)),
        ("--seed", str(seed)),
        ("--out", out),
        ("--by-column", by_column or None),
        ("--no-stratify", bool(by_column) and not stratify),
        (
            "--group-quotas",
            None
            if group_quotas is None or not by_column
            else group_quotas
            if isinstance(group_quotas, str)
            else json.dumps(group_quotas, separators=(",", ":")),
        ),
        ("--embeddings", embeddings_file or None),
        ("--official", bool(official)),
    ]
    options += [
        ("--param", f"{k}={v if isinstance(v, str) else json.dumps(v)}") for k, v in params.items()
    ]
    return hf_s2l_command("select", [str(store_path)], options)
