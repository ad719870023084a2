"""The suite's own isolation: what one test leaves in the process must not change the next."""

from __future__ import annotations

import sys

from tests._train_script import run_subprocess, subprocess_env

_TWO_TESTS = """
import os

from transformers import TrainingArguments


def test_1_compile_arguments(tmp_path):
    TrainingArguments(output_dir=str(tmp_path), torch_compile=True, use_cpu=True, report_to=[])
    # with accelerate < 1.2 (the floor job's 1.1.1) transformers itself writes this variable
    os.environ["ACCELERATE_DYNAMO_BACKEND"] = "inductor"


def test_2_next_test_in_the_process():
    assert "ACCELERATE_DYNAMO_BACKEND" not in os.environ
"""


def test_torch_compile_arguments_do_not_compile_the_next_tests_trainer(tmp_path):
    """``TrainingArguments(torch_compile=True)`` writes ``ACCELERATE_DYNAMO_BACKEND`` into
    ``os.environ`` when accelerate < 1.2; the suite's conftest restores the environment after
    every test, so a later test's Trainer in the same worker is not compiled (run here with
    the suite's conftest as a plugin, in one process, in order)."""
    (tmp_path / "test_order.py").write_text(_TWO_TESTS)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
    command += ["-p", "tests.conftest", "--rootdir", tmp_path, tmp_path / "test_order.py"]
    _, out, _ = run_subprocess(command, env=subprocess_env(), cwd=tmp_path)
    assert "2 passed" in out
