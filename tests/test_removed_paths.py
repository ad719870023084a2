"""No committed file names a removed module as if it could still be imported (issue 27).

The re-export shims ``hf_s2l.tiny``, ``hf_s2l.corpora``, ``hf_s2l.demo`` and ``hf_s2l.eval``
were removed: those modules live under ``hf_s2l.experiments``. Every file ``git ls-files``
lists is read (binary files skipped). A mention of an old path is allowed only in a
paragraph (lines between blank lines) that says the path was removed or is gone, such as the
notes in ``README.md`` and ``hf_s2l/experiments/__init__.py``; an ``import`` of one in a
Python file always fails. Files that must name an old path otherwise are in ``ALLOWED``,
each with its reason.
"""

from __future__ import annotations

import ast
import re

from .test_no_machine_paths import check_allowed, committed_texts

REMOVED = ("tiny", "corpora", "demo", "eval")
_NAMES = "|".join(REMOVED)
# Written in pieces so that this file's own examples are the only matches it has to spare.
OLD_PATH = re.compile(r"(?<![\w.])hf_s2l" + rf"[./](?:{_NAMES})(?!\w)")
OLD_FROM_IMPORT = re.compile(r"\bfrom\s+hf_s2l\s+" + rf"import\b[^\n#]*?\b(?:{_NAMES})\b(?!\.)")
SAYS_REMOVED = re.compile(r"\b(?:removed|gone)\b", re.IGNORECASE)

# {path: reason} — files that name an old path on purpose. Keep it small.
ALLOWED: dict[str, str] = {
    "tests/test_layers.py": "test_re_export_shims_are_recognised rebuilds the old tiny.py shim "
    "in a temporary package to check that the shim test catches it",
}


def old_path_mentions(text: str) -> list[tuple[int, str]]:
    """``(line number, match)`` of every old path outside a paragraph saying it was removed."""
    found = []
    lines = text.splitlines()
    start = 0
    for end in [i for i, line in enumerate(lines) if not line.strip()] + [len(lines)]:
        paragraph = lines[start:end]
        if not SAYS_REMOVED.search("\n".join(paragraph)):
            for i, line in enumerate(paragraph, start + 1):
                found += [
                    (i, m.group(0)) for p in (OLD_PATH, OLD_FROM_IMPORT) for m in p.finditer(line)
                ]
        start = end + 1
    return found


def old_imports(source: str) -> list[tuple[int, str]]:
    """``(line number, module)`` of every import of a removed module in Python ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    old = {f"hf_s2l.{name}" for name in REMOVED}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found += [
            (node.lineno, n) for n in names if any(n == o or n.startswith(o + ".") for o in old)
        ]
    return found


def test_the_patterns_catch_old_paths_and_spare_the_new_ones():
    pkg = "hf_" + "s2l"
    caught = [
        f"from {pkg}.tiny import tiny_model",
        f"tiny GPT-NeoX proxy ({pkg}.tiny, from scratch)",
        f":mod:`{pkg}.corpora.math`",
        f"python -m {pkg}.demo",
        f"see {pkg}/eval/metrics/bleu",
        f"from {pkg} import demo",
        f"from {pkg} import run_demo, tiny",
    ]
    for text in caught:
        assert old_path_mentions(text), text
    spared = [
        f"from {pkg}.experiments.tiny import tiny_model",
        f"{pkg}/experiments/demo/run.py",
        f"from {pkg} import run_demo",
        f"{pkg}.evaluation_helpers",
        "hf-s2l demo --out demo_out",
        f"The old paths {pkg}.tiny and {pkg}.eval were removed.",
        f"They were shims:\n{pkg}.demo re-exported the demo. All\nare gone now.",
    ]
    for text in spared:
        assert not old_path_mentions(text), text
    assert old_imports(f"import {pkg}.tiny\nfrom {pkg}.eval.clinical import f  # removed\n") == [
        (1, f"{pkg}.tiny"),
        (2, f"{pkg}.eval.clinical"),
        (2, f"{pkg}.eval.clinical.f"),
    ]
    assert old_imports(f"from {pkg} import eval\n") == [(1, f"{pkg}.eval")]
    assert not old_imports(f"from {pkg}.experiments import tiny\nfrom {pkg} import run_demo\n")


def test_no_committed_file_names_a_removed_module():
    found = {}
    for rel, text in committed_texts(skip=ALLOWED):
        hits = old_path_mentions(text)
        if rel.endswith(".py"):
            hits += old_imports(text)
        if hits:
            found[rel] = hits[:3]
    assert not found, (
        "removed modules are named as importable (use hf_s2l.experiments.<module>; a note "
        f"that the old path is gone must say 'removed' or 'gone' in its paragraph): {found}"
    )


def test_allowed_entries_are_needed():
    check_allowed(ALLOWED, lambda text: old_path_mentions(text) or old_imports(text))
