"""``hub`` depends on ``data`` and ``store``, never the reverse (issue 11.9: no data <-> hub cycle).

Two checks: (1) static: no module of ``hf_s2l/data`` imports ``hf_s2l.hub`` anywhere (module
level, inside functions or under TYPE_CHECKING), read with ``ast``; ``hf_s2l/store`` only
inside the two thin ``TrajectoryStore.push_to_hub``/``from_hub`` entry points; (2) dynamic:
importing each data/store module in a fresh interpreter loads no ``hf_s2l.hub`` module.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "hf_s2l"
LOWER = ("data", "store")  # packages below hub


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


HUB_ENTRY_POINTS = {"push_to_hub", "from_hub"}  # thin TrajectoryStore methods (store -> hub)


def _imports(path: Path, *, skip_functions: set[str] = frozenset()) -> list[tuple[int, str]]:
    """Every absolute module name imported anywhere in ``path`` (relative imports resolved),
    except inside functions named in ``skip_functions``."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped = {
        id(n)
        for f in ast.walk(tree)
        if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name in skip_functions
        for n in ast.walk(f)
    }
    out = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant):
                out.append((node.lineno, str(node.args[0].value)))
    return out


def _lower_modules() -> list[Path]:
    return sorted(p for pkg in LOWER for p in (PKG / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _lower_modules(), ids=lambda p: _module_name(p))
def test_lower_packages_never_import_hub(path):
    skip = HUB_ENTRY_POINTS if path.parent.name == "store" else set()
    bad = [
        (line, m)
        for line, m in _imports(path, skip_functions=skip)
        if m == "hf_s2l.hub" or m.startswith("hf_s2l.hub.")
    ]
    assert not bad, f"{path.relative_to(PKG.parent)} imports the hub package: {bad}"


def test_hub_imports_data():
    """The direction is hub -> data (the SelectedDataset card and publishing live in data)."""
    mods = {m for p in (PKG / "hub").rglob("*.py") for _, m in _imports(p)}
    assert any(m.startswith("hf_s2l.data") for m in mods)


def test_fresh_interpreter_loads_no_hub_module():
    names = [_module_name(p) for p in _lower_modules()]
    code = (
        "import importlib, json, sys\n"
        "out = {}\n"
        f"for name in {names!r}:\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        "    out[name] = sorted(m for m in sys.modules if m.startswith('hf_s2l.hub'))\n"
        "print(json.dumps(out))\n"
    )
    # one fresh interpreter per module would cost ~1 s each; one interpreter that checks after
    # every import is as strict (a hub module once loaded stays in sys.modules)
    env = {**os.environ, "PYTHONPATH": str(PKG.parent)}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
    loaded = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(loaded) == set(names)
    assert all(v == [] for v in loaded.values()), {k: v for k, v in loaded.items() if v}
