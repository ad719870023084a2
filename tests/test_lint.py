"""ruff lint and format are part of the test suite, so CI enforces them."""

import shutil
import subprocess
import sys

import pytest

from .conftest import REPO


@pytest.mark.skipif(shutil.which("ruff") is None and sys.platform != "linux", reason="ruff missing")
@pytest.mark.parametrize("cmd", [["check", "."], ["format", "--check", "."]])
def test_ruff_clean(cmd):
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *cmd], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
