"""The package's layers (issue 21): no import cycle, no import from a lower layer into a higher
one, no module over ``MAX_LINES`` lines.

The import graph of ``hf_s2l/`` is read with ``ast``: every ``import``/``from ... import``
anywhere in a module (module level, ``TYPE_CHECKING``, inside functions, methods, nested
functions, classes, ``try``/``if`` blocks: a lazy import is an edge like any other),
relative and absolute, and ``importlib.import_module(...)`` calls
whose argument is a string, an f-string over ``__package__``/``__name__`` or over a loop
variable of a module-level tuple of strings, or a lookup in a module-level dict of strings
(any other dynamic import is itself a violation, so the graph cannot silently miss edges).
Importing ``a.b.c`` from outside package ``a.b`` also runs ``a/b/__init__.py``: that implicit
edge is in the graph too. ``hf_s2l/__init__.py`` (lazy attributes only) and ``version.py`` are
left out.

Layers, lowest first (a module may import its own layer and lower ones only)::

    0 store, compat
    1 record, selection, hub
    2 data, report, transfer
    3 commands, experiments, cli, assets

There is no exemption: a lower layer that needs a higher one's function gets it injected
(``TrajectoryStore.push_to_hub``/``from_hub`` are bound to ``hf_s2l.hub`` by
``hf_s2l/__init__.py``, issue 27).

``KNOWN_VIOLATIONS`` lists what the code of before the redesign breaks; the test tolerates
those but fails when one of them no longer exists (remove it from the list as you fix it).
``python tests/test_layers.py`` prints the current violations in the list's format.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "hf_s2l"
ROOT = "hf_s2l"
MAX_LINES = 450
REPO = PKG.parent
# Also held to MAX_LINES: every .py file under these folders of the repository.
LENGTH_CHECKED_DIRS = ("benchmarks", "recipes")
# Modules over MAX_LINES outside hf_s2l/ that are being split: none (issue 27 item 3 split
# the data-efficiency benchmark's report and runner by job). Keep it empty.
OVERSIZED_UNTIL_SPLIT: set[str] = set()
EXCLUDED = {"hf_s2l", "hf_s2l.version"}
LAYERS: dict[str, int] = {
    "compat": 0,  # the version differences (issue 24): usable by every layer
    "store": 0,
    "record": 1,
    "selection": 1,
    "hub": 1,
    "data": 2,
    "report": 2,
    "transfer_check": 2,
    "commands": 3,
    "experiments": 3,
    "cli": 3,
    "assets": 3,
}

# Found on the code of before the redesign (h-plan, 2026-12-03). Formats:
#   "cycle: A, B, ..."        a strongly connected set of modules (sorted); tolerated while
#                             every current cycle lies inside a known one
#   "layer: A -> B"           module A (lower layer) imports module B (higher layer)
#   "length: path"            a module over MAX_LINES lines
#   "dynamic: path:line"      an importlib call the test cannot resolve
KNOWN_VIOLATIONS: list[str] = [
    # empty since the issue-21 redesign: a new violation is fixed, not listed here
]


# --------------------------------------------------------------------------- graph
def module_name(path: Path, pkg: Path = PKG) -> str:
    parts = list(path.relative_to(pkg.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(pkg: Path = PKG) -> dict[str, Path]:
    return {module_name(p, pkg): p for p in sorted(pkg.rglob("*.py"))}


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _str_constants(node: ast.AST | None) -> list[str] | None:
    """Strings of a tuple/list/set literal, or the values of a dict literal of strings."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        elts = node.elts
    elif isinstance(node, ast.Dict):
        elts = node.values
    else:
        return None
    if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elts):
        return [e.value for e in elts]  # type: ignore[attr-defined]
    return None


def _module_constants(tree: ast.Module) -> dict[str, list[str]]:
    out = {}
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for t in targets:
            vals = _str_constants(value)
            if isinstance(t, ast.Name) and vals is not None:
                out[t.id] = vals
    return out


def _loop_values(tree: ast.Module, consts: dict[str, list[str]], var: str) -> list[str] | None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.comprehension)):
            if (
                isinstance(node.target, ast.Name)
                and node.target.id == var
                and isinstance(node.iter, ast.Name)
                and node.iter.id in consts
            ):
                return consts[node.iter.id]
    return None


def _dynamic_targets(
    arg: ast.AST, tree: ast.Module, name: str, package: str, consts: dict[str, list[str]]
) -> list[str] | None:
    """Module names an ``import_module(arg)`` call can load, or None when unknown."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
        return consts.get(arg.value.id)
    if isinstance(arg, ast.JoinedStr):
        options = [""]
        for part in arg.values:
            if isinstance(part, ast.Constant):
                vals = [str(part.value)]
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                var = part.value.id
                if var == "__package__":
                    vals = [package]
                elif var == "__name__":
                    vals = [name]
                else:
                    vals = _loop_values(tree, consts, var)
                    if vals is None:
                        return None
            else:
                return None
            options = [o + v for o in options for v in vals]
        return options
    return None


def imports_of(name: str, path: Path) -> tuple[list[tuple[int, str]], list[int]]:
    """``(line, imported name)`` for every import anywhere in the file (``ast.walk``: module
    level and inside any function, method, class or block), and the lines of dynamic imports
    that cannot be resolved. Imported names may be modules or attributes."""
    package = _package_of(name, path)
    tree = ast.parse(path.read_text(), filename=str(path))
    consts = _module_constants(tree)
    out: list[tuple[int, str]] = []
    unresolved: list[int] = []

    for node in ast.walk(tree):
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
        elif isinstance(node, ast.Call):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if fname not in ("import_module", "__import__") or not node.args:
                continue
            targets = _dynamic_targets(node.args[0], tree, name, package, consts)
            if targets is None:
                unresolved.append(node.lineno)
                continue
            for t in targets:
                if t.startswith("."):  # import_module(".x", package=...)
                    level = len(t) - len(t.lstrip("."))
                    base = package.split(".")
                    t = ".".join(base[: len(base) - (level - 1)] + [t.lstrip(".")])
                out.append((node.lineno, t))
    return out, unresolved


def _resolve(imported: str, modules: dict[str, Path]) -> str | None:
    """The module an imported name loads: itself, or its longest module prefix."""
    parts = imported.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in modules:
            return cand
        parts.pop()
    return None


def import_graph(pkg: Path = PKG) -> tuple[dict[str, dict[str, int]], list[str]]:
    """``{module: {imported module: first line}}`` over ``hf_s2l`` and the unresolved dynamic
    imports as ``"path:line"``."""
    root = pkg.name
    excluded = {root, f"{root}.version"}
    modules = all_modules(pkg)
    graph: dict[str, dict[str, int]] = {m: {} for m in modules if m not in excluded}
    dynamic: list[str] = []
    for name in graph:
        path = modules[name]
        package = _package_of(name, path)
        imported, unresolved = imports_of(name, path)
        rel = path.relative_to(pkg.parent).as_posix()
        dynamic += [f"{rel}:{line}" for line in unresolved]
        for line, imp in imported:
            if imp != root and not imp.startswith(root + "."):
                continue
            target = _resolve(imp, modules)
            if target is None or target in excluded or target == name:
                continue
            # importing a.b.c runs a/b/__init__.py (and a/__init__.py) first, unless the
            # importer sits inside that package (then its __init__ is already running)
            parents = target.split(".")[:-1]
            hops = [".".join(parents[:i]) for i in range(2, len(parents) + 1)]
            for t in [*hops, target]:
                if t in excluded or t == name or package == t or package.startswith(t + "."):
                    continue
                if t in graph:
                    graph[name].setdefault(t, line)
    return graph, dynamic


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def cycle_path(graph: dict[str, dict[str, int]], comp: list[str]) -> list[str]:
    """The shortest cycle through ``comp[0]`` inside a strongly connected set (for messages)."""
    members = set(comp)
    start = comp[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w in members and w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp


def layer_of(module: str) -> int | None:
    top = module.split(".")[1] if module.count(".") else module
    return LAYERS.get(top)


def current_violations(pkg: Path = PKG) -> tuple[list[str], dict[str, str]]:
    """Every violation in ``KNOWN_VIOLATIONS`` format and, for each, a longer explanation."""
    graph, dynamic = import_graph(pkg)
    modules = all_modules(pkg)
    found: list[str] = []
    why: dict[str, str] = {}
    for comp in strongly_connected(graph):
        key = "cycle: " + ", ".join(comp)
        found.append(key)
        why[key] = "e.g. " + " -> ".join(cycle_path(graph, comp))
    for src, targets in sorted(graph.items()):
        ls = layer_of(src)
        for dst, line in sorted(targets.items()):
            ld = layer_of(dst)
            if ls is None or ld is None:
                continue
            if ld > ls:
                key = f"layer: {src} -> {dst}"
                found.append(key)
                why[key] = (
                    f"{modules[src].relative_to(pkg.parent)}:{line} (layer {ls} imports layer {ld})"
                )
    for path in modules.values():
        n = len(path.read_text().splitlines())
        if n > MAX_LINES:
            key = f"length: {path.relative_to(pkg.parent).as_posix()}"
            found.append(key)
            why[key] = f"{n} lines > {MAX_LINES}"
    for d in dynamic:
        key = f"dynamic: {d}"
        found.append(key)
        why[key] = "importlib call with an argument the test cannot resolve"
    return found, why


def _tolerated(violation: str, known: list[str]) -> bool:
    if violation in known:
        return True
    if violation.startswith("cycle: "):
        members = set(violation[7:].split(", "))
        return any(k.startswith("cycle: ") and members <= set(k[7:].split(", ")) for k in known)
    return False


def _still_present(known: str, found: list[str]) -> bool:
    if known in found:
        return True
    if known.startswith("cycle: "):
        members = set(known[7:].split(", "))
        # a cycle through two of its modules remains (possibly grown: then it is also "new")
        return any(
            f.startswith("cycle: ") and len(set(f[7:].split(", ")) & members) >= 2 for f in found
        )
    return False


# --------------------------------------------------------------------------- tests
def test_every_top_level_module_has_a_layer():
    tops = {m.split(".")[1] for m in all_modules() if m.count(".") and m not in EXCLUDED}
    assert not sorted(tops - set(LAYERS)), (
        f"give these parts of hf_s2l a layer in tests/test_layers.py LAYERS: "
        f"{sorted(tops - set(LAYERS))}"
    )


FAKE = {
    "__init__.py": "import importlib\n",
    "version.py": "",
    "store/__init__.py": "from .core import Store\n",
    "store/core.py": (
        "from typing import TYPE_CHECKING\n"
        "from ..version import v\n"
        "if TYPE_CHECKING:\n"
        "    from ..data.rows import Rows\n"
        "class Store:\n"
        "    def push(self):\n"
        "        from hf_s2l.hub import up\n"
    ),
    "store/lazy.py": (
        "import importlib\n"
        "_LAZY = {'a': 'hf_s2l.store.core', 'b': 'hf_s2l.data.rows'}\n"
        "def get(name):\n"
        "    return importlib.import_module(_LAZY[name])\n"
    ),
    "hub/__init__.py": "def up():\n    pass\n",
    "hub/loader.py": (
        "import importlib\n"
        "NAMES = ('up_a', 'up_b')\n"
        "def load(x):\n"
        "    for n in NAMES:\n"
        "        importlib.import_module(f'{__package__}.{n}')\n"
        "    importlib.import_module('hf_s2l.store')\n"
        "    importlib.import_module(x)\n"
    ),
    "hub/up_a.py": "from . import loader\n",
    "hub/up_b.py": "",
    "data/__init__.py": "",
    "data/rows.py": "import hf_s2l.store.core\n" + "x = 1\n" * (MAX_LINES + 1),
}


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """On a small fake package: each kind of import is an edge, each rule is reported."""
    pkg = tmp_path / "hf_s2l"
    for rel, text in FAKE.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    graph, dynamic = import_graph(pkg)
    assert "hf_s2l" not in graph and "hf_s2l.version" not in graph
    assert graph["hf_s2l.store"] == {"hf_s2l.store.core": 1}  # relative, module level
    # TYPE_CHECKING, function level (absolute) and the implicit parent-package edges
    assert set(graph["hf_s2l.store.core"]) == {"hf_s2l.data", "hf_s2l.data.rows", "hf_s2l.hub"}
    # importlib over a module-level dict, over an f-string loop, and a constant
    assert set(graph["hf_s2l.store.lazy"]) == {
        "hf_s2l.store.core",
        "hf_s2l.data",
        "hf_s2l.data.rows",
    }
    assert set(graph["hf_s2l.hub.loader"]) == {"hf_s2l.hub.up_a", "hf_s2l.hub.up_b", "hf_s2l.store"}
    assert dynamic == ["hf_s2l/hub/loader.py:7"]
    found, why = current_violations(pkg)
    assert "cycle: hf_s2l.data.rows, hf_s2l.store, hf_s2l.store.core" in found
    assert "cycle: hf_s2l.hub.loader, hf_s2l.hub.up_a" in found
    assert "layer: hf_s2l.store.core -> hf_s2l.data.rows" in found
    assert "layer: hf_s2l.store.core -> hf_s2l.hub" in found
    assert "layer: hf_s2l.store.lazy -> hf_s2l.data.rows" in found
    assert "length: hf_s2l/data/rows.py" in found
    assert "dynamic: hf_s2l/hub/loader.py:7" in found
    assert why["layer: hf_s2l.store.core -> hf_s2l.hub"] == (
        "hf_s2l/store/core.py:7 (layer 0 imports layer 1)"
    )


def test_function_level_imports_are_edges_at_any_depth(tmp_path):
    """A lazy import hidden in a method, a nested function, a class body, a ``try`` or an
    ``if`` inside a function is an edge like a module-level one (issue 27: the store's
    ``push_to_hub`` used to import the hub in its body)."""
    pkg = tmp_path / "hf_s2l"
    files = {
        "__init__.py": "",
        "store/__init__.py": "",
        "store/core.py": (
            "class Store:\n"
            "    def push(self):\n"
            "        from hf_s2l.hub import up\n"
            "    class Inner:\n"
            "        import hf_s2l.data.rows\n"
            "def outer():\n"
            "    def inner():\n"
            "        try:\n"
            "            from ..report import html\n"
            "        except ImportError:\n"
            "            pass\n"
            "    if True:\n"
            "        lam = lambda: __import__('hf_s2l.transfer_check')\n"
        ),
        "hub/__init__.py": "def up():\n    pass\n",
        "data/__init__.py": "",
        "data/rows.py": "",
        "report/__init__.py": "",
        "report/html.py": "",
        "transfer_check/__init__.py": "",
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    graph, _ = import_graph(pkg)
    assert graph["hf_s2l.store.core"] == {
        "hf_s2l.hub": 3,
        "hf_s2l.data": 5,
        "hf_s2l.data.rows": 5,
        "hf_s2l.report": 9,
        "hf_s2l.report.html": 9,
        "hf_s2l.transfer_check": 13,
    }
    found, _ = current_violations(pkg)
    assert {f for f in found if f.startswith("layer: hf_s2l.store.core")} == {
        "layer: hf_s2l.store.core -> hf_s2l.hub",
        "layer: hf_s2l.store.core -> hf_s2l.data",
        "layer: hf_s2l.store.core -> hf_s2l.data.rows",
        "layer: hf_s2l.store.core -> hf_s2l.report",
        "layer: hf_s2l.store.core -> hf_s2l.report.html",
        "layer: hf_s2l.store.core -> hf_s2l.transfer_check",
    }


def test_the_store_does_not_know_the_hub():
    """No import of ``hf_s2l.hub`` (or anything above the store) anywhere in ``store/``, and
    ``TrajectoryStore.push_to_hub``/``from_hub`` still reach the hub (bound by ``hf_s2l``)."""
    graph, _ = import_graph()
    above = {
        (src, dst)
        for src, targets in graph.items()
        if src.startswith("hf_s2l.store")
        for dst in targets
        if not dst.startswith("hf_s2l.store")
    }
    assert not above
    # bound whichever way the store is reached, without importing the hub (or transformers)
    code = (
        "import sys\n"
        "from hf_s2l.store.trajectory_store import TrajectoryStore\n"
        "hub = TrajectoryStore._hub_entry_points()\n"
        "assert hub.push.__module__ == hub.load.__module__ == 'hf_s2l'\n"
        "assert 'hf_s2l.hub' not in sys.modules and 'transformers' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_real_graph_is_read():
    graph, _ = import_graph()
    assert len(graph) > 60
    assert "hf_s2l.commands.select" in graph["hf_s2l.cli"]  # f-string over COMMANDS


def test_cycle_finder_and_tolerance_rules():
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1, "d": 1}, "d": {}, "e": {"e": 1}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert cycle_path(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    known = ["cycle: a, b, c", "layer: x -> y"]
    assert _tolerated("cycle: a, b", known) and not _tolerated("cycle: a, d", known)
    assert _still_present("cycle: a, b, c", ["cycle: b, c"])
    assert not _still_present("cycle: a, b, c", ["cycle: c, d"])
    assert _still_present("cycle: a, b, c", ["cycle: a, b, c, d"])
    assert not _still_present("layer: x -> y", ["layer: x -> z"])


def only_re_exports(tree: ast.Module) -> bool:
    """True when a module defines nothing: after its docstring only imports, ``__all__`` and
    ``name = other_name`` aliases (a shim that forwards another module's names)."""
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                continue
            if isinstance(node.value, (ast.Name, ast.Attribute)):
                continue
        return False
    return True


def _imports_only_outside(tree: ast.Module, package: str) -> bool:
    """Every import of the module comes from outside ``package`` (none from its own files)."""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").startswith(package + "."):
                return False
        elif isinstance(node, ast.Import):
            if any(a.name.startswith(package + ".") for a in node.names):
                return False
    return True


def re_export_shims(pkg: Path = PKG) -> list[str]:
    """Modules of ``pkg`` that only forward another package's names (issue 27: the old paths
    ``hf_s2l.tiny``/``corpora``/``demo``/``eval``). Allowed: ``hf_s2l/__init__.py`` and
    package faces (an ``__init__.py`` gathering its own package's modules); a face whose
    imports all come from elsewhere is a shim too."""
    out = []
    for name, path in all_modules(pkg).items():
        if name == pkg.name:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        if not only_re_exports(tree):
            continue
        if path.name == "__init__.py" and not _imports_only_outside(tree, name):
            continue
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body):
            out.append(path.relative_to(pkg.parent).as_posix())
    return sorted(out)


def test_no_module_only_re_exports_another_package():
    shims = re_export_shims()
    assert not shims, (
        f"{shims} only re-export names defined elsewhere; import those from where they are "
        "defined (e.g. hf_s2l.experiments.tiny) and delete the shim"
    )


def test_re_export_shims_are_recognised(tmp_path):
    pkg = tmp_path / "hf_s2l"
    files = {
        "__init__.py": "from .exp.tiny import f\n",  # the top face: allowed
        "exp/__init__.py": '"""Face."""\nfrom .tiny import f\n__all__ = ["f"]\n',  # allowed
        "exp/tiny.py": "def f():\n    pass\n",
        "tiny.py": '"""Old path."""\nfrom hf_s2l.exp.tiny import f\n_g = f\n__all__ = ["f"]\n',
        "old/__init__.py": "from hf_s2l.exp import f\n",  # a face of another package's names
        "data.py": "from hf_s2l.exp.tiny import f\nX = f()\n",  # does something: fine
        "empty.py": '"""Nothing."""\n',
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    assert re_export_shims(pkg) == ["hf_s2l/old/__init__.py", "hf_s2l/tiny.py"]


def test_no_long_module_in_benchmarks_or_recipes():
    """The MAX_LINES rule of hf_s2l/ holds in benchmarks/ and recipes/ too (issue 27)."""
    long = {}
    for folder in LENGTH_CHECKED_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            n = len(path.read_text().splitlines())
            if n > MAX_LINES:
                long[path.relative_to(REPO).as_posix()] = n
    new = {p: n for p, n in long.items() if p not in OVERSIZED_UNTIL_SPLIT}
    assert not new, f"modules over {MAX_LINES} lines (split them by job): {new}"
    split = sorted(OVERSIZED_UNTIL_SPLIT - set(long))
    assert not split, f"now short enough: remove {split} from OVERSIZED_UNTIL_SPLIT"


def test_layers():
    found, why = current_violations()
    new = [v for v in found if not _tolerated(v, KNOWN_VIOLATIONS)]
    stale = [k for k in KNOWN_VIOLATIONS if not _still_present(k, found)]
    msg = []
    if new:
        msg.append("new violations (fix them; the layers are in tests/test_layers.py):")
        msg += [f"  {v}\n      {why[v]}" for v in new]
    if stale:
        msg.append("fixed, remove from KNOWN_VIOLATIONS in tests/test_layers.py:")
        msg += [f"  {k}" for k in stale]
    assert not msg, "\n".join(msg)


if __name__ == "__main__":
    found, why = current_violations()
    for v in found:
        print(f"    {v!r},  # {why[v]}")
