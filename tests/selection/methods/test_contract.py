"""The method contract: one file per built-in method, registered by importing the package.

Each method file imports only the selection's shared modules (never the engine, the registry
or the official helper that runs ``select``), so adding a method is one file plus one line in
``methods/__init__.py`` and the registry has no hidden import list.
"""

import ast
from pathlib import Path

import numpy as np

import hf_s2l.selection.methods as methods_pkg
from hf_s2l.selection import (
    MethodResult,
    available_methods,
    base,
    register_method,
    registry,
    select,
)
from hf_s2l.store import TrajectoryStore

METHODS_DIR = Path(methods_pkg.__file__).parent
ALLOWED = {"base", "context", "columns", "column_roles", "quota", "_common", "kmeans", "embeddings"}
ALLOWED_OUTSIDE = {"hf_s2l.store.kinds", "hf_s2l.store"}
BUILTIN = {
    "cartography",
    "curriculum",
    "facility_location",
    "high_learnability",
    "least_confidence",
    "lp",
    "middle_perplexity",
    "random",
    "s2l",
}


def _relative_imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            out.append((node.level, node.module or ""))
        elif isinstance(node, ast.Import):
            out += [(0, a.name) for a in node.names]
    return out


def test_method_files_import_only_the_shared_modules():
    files = sorted(p for p in METHODS_DIR.glob("*.py") if p.name != "__init__.py")
    assert len(files) >= len(BUILTIN)
    for path in files:
        for level, mod in _relative_imports(path):
            if level == 2:  # hf_s2l.selection.<mod>
                assert mod.split(".")[0] in ALLOWED, f"{path.name} imports selection.{mod}"
            elif level == 3:  # hf_s2l.<mod>
                assert f"hf_s2l.{mod}" in ALLOWED_OUTSIDE, f"{path.name} imports hf_s2l.{mod}"
            elif level == 0:
                assert not mod.startswith("hf_s2l"), f"{path.name}: absolute import {mod}"


def test_every_method_file_is_listed_in_the_package():
    listed = set(methods_pkg.__dict__)
    for path in METHODS_DIR.glob("*.py"):
        if path.stem not in ("__init__", "lp_clusters"):
            assert path.stem in listed, f"methods/__init__.py does not import {path.stem}"


def test_registry_holds_the_builtins_and_base_is_the_one_contract():
    assert BUILTIN <= set(available_methods())
    assert registry.MethodResult is base.MethodResult is MethodResult
    assert "importlib" not in Path(registry.__file__).read_text()


def test_a_user_method_runs_through_the_engine(tmp_path):
    store = TrajectoryStore.create(tmp_path / "s", 10)
    c = store.add_column(5, 1.0, "point")
    store.write(c, np.arange(10), np.arange(10, dtype=np.float32)[::-1].copy())
    store.mark_complete(c)

    def highest_loss(ctx, budget, cfg):
        """Highest final loss (test method)."""
        loss = ctx.column(ctx.complete_columns[-1])
        return MethodResult(indices=np.argsort(-loss, kind="stable")[:budget])

    register_method("wp4_test_highest_loss", highest_loss, min_columns=1, overwrite=True)
    try:
        assert "wp4_test_highest_loss" in available_methods()
        sel = select(store, "wp4_test_highest_loss", 3)
        assert sel.indices.tolist() == [0, 1, 2]
    finally:
        base._REGISTRY.pop("wp4_test_highest_loss", None)
