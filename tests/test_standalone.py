"""The repository stands alone: no machine's paths, data only from committed fixtures."""

from __future__ import annotations

import os

import pytest

from .conftest import FIXTURE_DATA, FORBIDDEN_DIRS, REPO, OutsideRepositoryError

SCANNED = ("hf_s2l", "tests", "recipes", "benchmarks", "docs", ".ci", "README.md", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini", ".sh", ""}
# spelled in pieces so that this file does not match itself
PATTERNS = (
    "../" + "shared",
    "/work" + "/",
    "HF_S2L_" + "SHARED_DATA",
    '"shared" / ' + '"data"',
    'parent / "' + 'shared"',
)


def _text_files():
    for entry in SCANNED:
        root = REPO / entry
        files = [root] if root.is_file() else root.rglob("*") if root.is_dir() else []
        for p in files:
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts:
                if FIXTURE_DATA in p.parents:
                    continue  # third-party data, copied unchanged
                yield p


def test_no_path_of_one_machine_in_the_repository():
    hits = []
    for p in _text_files():
        text = p.read_text(errors="replace")
        for pat in PATTERNS:
            if pat in text:
                hits.append(f"{p.relative_to(REPO)}: {pat!r}")
    assert not hits, "paths that exist on one machine only:\n" + "\n".join(hits)


def test_reading_a_shared_folder_beside_the_clone_fails():
    assert FORBIDDEN_DIRS and FORBIDDEN_DIRS[0] == os.path.join(REPO.parent, "shared")
    with pytest.raises(OutsideRepositoryError, match="tests/fixtures/data"):
        open(os.path.join(FORBIDDEN_DIRS[0], "data", "README.md"))
    with pytest.raises(OutsideRepositoryError):
        os.listdir(FORBIDDEN_DIRS[-1])


def test_fixtures_are_small_and_licensed():
    files = [p for p in FIXTURE_DATA.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 2_000_000
    names = {str(p.relative_to(FIXTURE_DATA)) for p in files}
    assert {
        "README.md",
        "math_mix/gsm8k/LICENSE",
        "math_mix/aqua/LICENSE",
        "math_eval/LICENSE",
    } <= names
    readme = (FIXTURE_DATA / "README.md").read_text()
    for source in ("GSM8K", "MAWPS", "ASDiv-A", "AQuA-RAT", "NumGLUE", "SimulEq", "Open-i"):
        assert source in readme


def test_ci_script_does_not_point_at_outside_data():
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    code = [ln for ln in lines if not ln.lstrip().startswith("#")]
    assert not [ln for ln in code if "shared" in ln or "HF_S2L_" in ln]
