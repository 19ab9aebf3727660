"""The package's imports go only down the layers of STYLE.md, form no circle, and
never take a private name from another module.

Every module's imports are read with ``ast``, imports inside functions
included: a function-level import still ties the two modules together. Imports
under ``if TYPE_CHECKING:`` are exempt: they never run, and exist only so that
annotations can name a type of a higher layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "hzlogistics"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

#: The layer of every module, by module name or package prefix (higher imports lower;
#: modules of one layer may import each other, without circles). A module missing here
#: fails :func:`test_every_module_has_a_layer`.
LAYERS: dict[str, int] = {
    # the package itself: at import time it reads only _errors (the rest is loaded
    # lazily by name), so any module may import from it (e.g. __version__)
    "hzlogistics": 0,
    "hzlogistics._errors": 0,
    "hzlogistics.settings": 0,
    "hzlogistics.projection": 1,
    "hzlogistics._validate": 1,
    "hzlogistics.countries": 2,
    "hzlogistics.io": 2,
    "hzlogistics.orlib": 2,  # reads OR-Library instance files
    "hzlogistics.scenario": 2,
    "hzlogistics.databuild": 2,  # rebuilds the country data files that countries reads
    "hzlogistics.coverage": 3,
    "hzlogistics.network": 3,
    "hzlogistics.solvers": 4,
    "hzlogistics.models": 5,
    # maps and the report read a Plan (imported for annotations only) and never build one
    "hzlogistics.maps": 6,
    "hzlogistics.report": 6,
    "hzlogistics.report_landed": 6,  # the landed-cost parts of a plan's files
    "hzlogistics.rollout_report": 6,  # the roll-out part of report.md and its chart
    "hzlogistics.plan": 7,
    "hzlogistics.plan_landed": 7,  # the landed objective's inputs, and any plan's landed cost
    "hzlogistics.phased_plan": 7,  # a scenario's [phasing] to the model and back; read by plan
    "hzlogistics.saved_plan": 7,  # a plan folder read back into a Plan
    "hzlogistics.sweep": 7,
    "hzlogistics.cli": 8,
}

def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    """The layer of ``module``: its own entry, else the longest package prefix."""
    if module in LAYERS:
        return LAYERS[module]
    best: tuple[int, int] | None = None
    for prefix, rank in LAYERS.items():
        if prefix != PACKAGE and module.startswith(prefix + "."):
            if best is None or len(prefix) > best[0]:
                best = (len(prefix), rank)
    return None if best is None else best[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of a module, outside ``if TYPE_CHECKING:`` blocks."""
    out: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def imports_of(module: str) -> list[tuple[str, str | None, int]]:
    """``(target module, imported name or None, line)`` for every import of the package."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: list[tuple[str, str | None, int]] = []
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names
                     if a.name == PACKAGE or a.name.startswith(PACKAGE + ".")]
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        if base != PACKAGE and not base.startswith(PACKAGE + "."):
            continue
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in MODULES:  # a module imported from its package
                out.append((sub, None, node.lineno))
            else:
                out.append((base, alias.name, node.lineno))
    return out


def _target(name: str) -> str:
    """The module of the package that an import of ``name`` runs."""
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def find_violations() -> set[str]:
    """Every upward import, every private name taken from another module, every circle."""
    found: set[str] = set()
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        own = layer_of(module)
        for name, imported, _line in imports_of(module):
            target = _target(name)
            if target == module:
                continue
            graph[module].add(target)
            theirs = layer_of(target)
            if own is not None and theirs is not None and theirs > own:
                found.add(f"{module} imports {target} (layer {theirs} > {own})")
            if imported and imported.startswith("_") and not (
                    imported.startswith("__") and imported.endswith("__")):
                found.add(f"{module} imports the private name {target}.{imported}")
    for cycle in _cycles(graph):
        found.add("import circle: " + " -> ".join(cycle))
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if layer_of(m) is None)
    assert missing == [], f"give these modules a layer in LAYERS: {missing}"


def test_imports_go_down_the_layers_without_circles_or_private_names():
    found = sorted(find_violations())
    assert found == [], "\n".join(found)


# ----------------------------------------------------------------------------- the checker
@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package of a few modules, standing in for hzlogistics."""
    root = tmp_path / PACKAGE
    (root / "models").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "settings.py": "X = 1\n",
        "solvers.py": "from typing import TYPE_CHECKING\n"
                      "if TYPE_CHECKING:\n    from hzlogistics.models import M\n"
                      "def f():\n    from hzlogistics.models.cost import _private\n",
        "models/__init__.py": "from hzlogistics import settings\nM = 1\n",
        "models/cost.py": "from . import median\n_private = 1\n",
        "models/median.py": "from .cost import _private\n",
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    modules = {module_name_in(root, p): p for p in sorted(root.rglob("*.py"))}
    monkeypatch.setitem(globals(), "ROOT", root)
    monkeypatch.setitem(globals(), "MODULES", modules)
    return modules


def module_name_in(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_the_checker_finds_upward_private_and_circular_imports(fake_package):
    found = find_violations()
    assert found == {
        # a function-level import counts; the TYPE_CHECKING one does not
        "hzlogistics.solvers imports hzlogistics.models.cost (layer 5 > 4)",
        "hzlogistics.solvers imports the private name hzlogistics.models.cost._private",
        "hzlogistics.models.median imports the private name hzlogistics.models.cost._private",
        "import circle: hzlogistics.models.cost -> hzlogistics.models.median",
    }


# ----------------------------------------------------------------------------- sizes
#: Longest module, in lines.
MAX_MODULE_LINES = 1000
#: Longest function body, in lines of code (its docstring excluded). A longer one says why
#: in a comment starting ``# long:`` on the line just above its ``def``.
MAX_FUNCTION_LINES = 100


def _function_lengths(path: Path) -> list[tuple[str, int, int]]:
    """``(name, first line, lines of code)`` of every function of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = node.body
        first = body[0]
        has_doc = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                   and isinstance(first.value.value, str))
        start = first.end_lineno + 1 if has_doc and len(body) > 1 and first.end_lineno \
            else body[0].lineno
        end = node.end_lineno or node.lineno
        out.append((node.name, node.lineno, end - start + 1))
    return out


def test_no_module_is_too_long():
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}, f"split these modules (over {MAX_MODULE_LINES} lines): {long}"


def test_no_function_is_too_long_without_a_reason():
    found = []
    for module, path in MODULES.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for name, line, n in _function_lengths(path):
            comments = []  # the comment block just above the def (decorators skipped)
            for text in reversed(lines[:line - 1]):
                text = text.strip()
                if text.startswith("@"):
                    continue
                if not text.startswith("#"):
                    break
                comments.append(text)
            if n > MAX_FUNCTION_LINES and not any(c.startswith("# long:") for c in comments):
                found.append(f"{module}.{name} (line {line}): {n} lines of code")
    assert found == [], "split these functions, or say why above them:\n" + "\n".join(found)


def test_the_size_checks_see_a_long_function(tmp_path):
    body = "\n".join(f"    x{k} = {k}" for k in range(MAX_FUNCTION_LINES + 1))
    path = tmp_path / "m.py"
    path.write_text(f'def f():\n    """Doc."""\n{body}\n', encoding="utf-8")
    assert _function_lengths(path) == [("f", 1, MAX_FUNCTION_LINES + 1)]
