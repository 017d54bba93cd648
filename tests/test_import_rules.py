"""The dependency rules of DESIGN.md: core never imports Qt; gui never imports TF at module level."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "gui")
TF_MODULES = ("tensorflow", "keras")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _root(name: str) -> str:
    return name.split(".")[0]


def test_core_never_imports_qt_or_gui():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imported_modules(path) if _root(m) in QT_MODULES
        )
        for path in (ROOT / "core").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_gui_imports_no_tensorflow_at_module_level():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _module_level_imports(path) if _root(m) in TF_MODULES
        )
        for path in (ROOT / "gui").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_every_gui_module_leaves_tensorflow_unloaded():
    """Catches indirect imports too (gui -> a heavy core module -> tensorflow); the Feature
    map's layout and search libraries (umap, numba, openTSNE, faiss, scikit-learn) too."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "gui").rglob("*.py")
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras',"
        " 'umap', 'numba', 'openTSNE', 'faiss', 'sklearn'))\n"
        "print(','.join(heavy[:5]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def _module_level_targets(path: Path) -> set[str]:
    """Modules imported at module level, ``from package import module`` included."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_no_import_circles_between_modules():
    """Module-level imports inside core and gui form no cycle (a cycle is two modules that
    cannot be understood, or imported, one without the other)."""
    modules = {
        _module_name(path): path for top in ("core", "gui") for path in (ROOT / top).rglob("*.py")
    }
    graph = {
        name: {m for m in _module_level_targets(path) if m in modules and m != name}
        for name, path in modules.items()
    }
    # A package's __init__ re-exporting its own modules is not a circle of its modules.
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    cycles, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target) :] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
