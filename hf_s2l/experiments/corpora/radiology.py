"""Radiology report summarisation data: findings → impression."""

from __future__ import annotations

import csv
import os
from pathlib import Path


def load_radiology_reports(
    path: str | os.PathLike,
    findings_column: str = "findings",
    impression_column: str = "impression",
    limit: int | None = None,
):
    """Load a CSV of reports (IU ``indiana_reports.csv`` or a local MIMIC-III export).

    Rows without both findings and impression are dropped. Returns a ``datasets.Dataset``
    with ``findings``, ``impression`` and ``uid`` (the CSV's ``uid`` or row number).
    """
    from datasets import Dataset

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"radiology reports not found at {path}; pass the IU indiana_reports.csv or a local "
            "MIMIC-III radiology export (credentialed; hf-s2l never downloads it)"
        )
    rows = []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = {findings_column, impression_column} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path} lacks columns {sorted(missing)}; has {reader.fieldnames}")
        for i, r in enumerate(reader):
            fnd, imp = (r[findings_column] or "").strip(), (r[impression_column] or "").strip()
            if fnd and imp:
                rows.append({"uid": str(r.get("uid", i)), "findings": fnd, "impression": imp})
    return Dataset.from_list(rows[:limit] if limit else rows)
