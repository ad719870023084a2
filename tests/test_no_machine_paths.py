"""No committed file records an absolute path of the machine that wrote it (issue 27).

Paths such as a worktree under ``/work``, a home folder, a pytest temporary folder or a
Windows user folder leak the author's machine and break on every other one (the legacy
selections once recorded the generating worktree's absolute path as ``store_path``). Every
file ``git ls-files`` lists, this one included, is read (binary files, i.e. with a NUL byte
or not UTF-8, are skipped); documented examples are allowed only through ``ALLOWED`` below,
each with its reason.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# The patterns are written in pieces so that this file does not match itself.
MACHINE_PATH = re.compile(
    "|".join(
        [
            r"(?<![\w.~-])/" + "work/",  # this project's machines (worktrees, shared data)
            r"(?<![\w.~-])/" + "root/",
            r"(?<![\w.~-])/" + r"home/(?!user/|me/|you/|<)[A-Za-z0-9_.-]+/",
            r"(?<![\w.~-])/" + r"Users/(?!user/|me/|you/|<)[A-Za-z0-9_.-]+/",
            r"/" + r"tmp/pytest-of-",
            r"/" + r"tmp/pytest-\d",
            r"/" + r"private/var/folders/",
            r"\b[A-Za-z]:\\\\?" + r"Users\\\\?",  # a Windows user folder (also JSON-escaped)
            r"\b[A-Za-z]:/" + "Users/",
        ]
    ),
)

# {path: reason} — files that may show such a path, on purpose. Keep it small.
ALLOWED: dict[str, str] = {}


def committed_text_files() -> list[Path]:
    proc = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    out = []
    for rel in proc.stdout.decode().split("\0"):
        path = REPO / rel
        if rel and path.is_file():  # a file deleted in the working tree is not checked
            out.append(path)
    return out


def committed_texts(skip: Collection[str] = ()) -> Iterator[tuple[str, str]]:
    """``(path relative to the repository, text)`` of every committed UTF-8 text file whose
    path is not in ``skip`` (binary files, with a NUL byte or not UTF-8, are passed over)."""
    for path in committed_text_files():
        rel = path.relative_to(REPO).as_posix()
        if rel in skip:
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        try:
            yield rel, data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary


def check_allowed(allowed: dict[str, str], finds: Callable[[str], object]) -> None:
    """Every entry of an ``ALLOWED`` list has a reason and is still needed (``finds`` its
    file's text)."""
    for rel, reason in allowed.items():
        assert reason.strip(), rel
        path = REPO / rel
        assert path.is_file(), f"ALLOWED names {rel}, which is not in the repository"
        assert finds(path.read_text()), f"ALLOWED: {rel} needs it no more"


def machine_paths(text: str) -> list[tuple[int, str]]:
    """``(line number, match)`` of every absolute machine path in ``text``."""
    return [
        (i, m.group(0))
        for i, line in enumerate(text.splitlines(), 1)
        for m in MACHINE_PATH.finditer(line)
    ]


def test_the_pattern_catches_machine_paths_and_spares_examples():
    caught = [
        '"store_path": "/' + 'work/wt/plan/tests/fixtures/legacy/probe"',
        "cache at /" + "root/.cache/huggingface",
        "/" + "home/alice/src/hf-s2l",
        "/" + "Users/bob/Library/Caches",
        "/" + "tmp/pytest-of-runner/pytest-3/test_x0/store",
        "/" + "tmp/pytest-12/store",
        "/" + "private/var/folders/xy/T/store",
        r'"C:\\' + r'Users\\carol\\store"',
        "C:/" + "Users/carol/store",
    ]
    for text in caught:
        assert machine_paths(text), text
    spared = [
        "--output_dir /tmp/math_smoke",  # a documented example folder
        "hf://datasets/me/math-s2l",
        "~/" + "work/notes",
        "/" + "home/user/models/phi-2",  # placeholder user names are fine
        "https://example.org/" + "work/x",
        "recipes/math_pythia_to_phi2/run.py",
        "store_path: probe",
    ]
    for text in spared:
        assert not machine_paths(text), text


def test_no_absolute_machine_path_is_committed():
    found = {}
    for rel, text in committed_texts(skip=ALLOWED):
        hits = machine_paths(text)
        if hits:
            found[rel] = hits[:3]
    assert not found, (
        "absolute paths of a machine are committed (make them relative to the repository, "
        f"or a placeholder; documented examples go in ALLOWED with a reason): {found}"
    )


def test_allowed_entries_are_needed():
    check_allowed(ALLOWED, machine_paths)
