"""The card of the legacy export (``tests/fixtures/legacy/export``, written by the code of before
the issue-21 redesign) is reproduced byte for byte by today's code, and parses into the same
typed provenance that today's code builds for that selection."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hf_s2l.cli import main as cli_main

LEGACY = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
EXPORT_ARGS = [
    "export",
    "selection_s2l",
    "--dataset",
    "raw.jsonl",
    "--id-column",
    "example_id",
    "--store",
    "probe",
    "--group-column",
    "source",
    "--out",
    "export",
    "--format",
    "jsonl",
]


@pytest.fixture
def legacy(tmp_path, monkeypatch):
    """A copy of the legacy fixtures without the export, as the current folder."""
    work = tmp_path / "legacy"
    for name in ("probe", "selection_s2l", "raw.jsonl"):
        src = LEGACY / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    monkeypatch.chdir(work)
    return work


def test_export_card_is_byte_identical_to_the_legacy_card(legacy):
    assert cli_main(EXPORT_ARGS) == 0
    new = (legacy / "export" / "README.md").read_bytes()
    old = (LEGACY / "export" / "README.md").read_bytes()
    assert new == old
    assert (legacy / "export" / "data" / "train.jsonl").read_bytes() == (
        LEGACY / "export" / "data" / "train.jsonl"
    ).read_bytes()
