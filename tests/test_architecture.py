"""The package is laid out along the data flow: a module imports only from its own layer or the
layers before it, and no two modules import each other, directly or through others (an AST walk
over every import, module level and inside functions alike; see docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import ksz_reports

PACKAGE = Path(ksz_reports.__file__).parent
#: The layers, in the order of the data flow; a layer may import from itself and those before it.
LAYERS = (
    "core",
    "geo",
    "ingest",
    "sample",
    "measures",
    "disclosure",
    "l10n",
    "charts",
    "report",
    "batch",
    "api",
    "cli",
    "demo",
    "__main__",
)
#: A module longer than this says in its docstring why it is one module.
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(["ksz_reports", *parts])] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """The ksz_reports modules ``path`` imports (a ``from pkg import name`` of a submodule counts as
    that submodule)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ksz_reports"))
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (use absolute ksz_reports imports)"
            if not (node.module or "").startswith("ksz_reports"):
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found - {"ksz_reports"}


def _layer(module: str) -> int:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else ""
    return LAYERS.index(name)


GRAPH = {m: _imports(p) for m, p in MODULES.items() if m != "ksz_reports"}


def test_every_module_belongs_to_a_layer():
    unknown = [m for m in GRAPH if m.split(".")[1] not in LAYERS and m.split(".")[1] != "data"]
    assert not unknown, f"modules outside the layers of docs/architecture.md: {unknown}"


def test_no_import_points_against_the_layer_order():
    wrong = sorted(
        f"{m} imports {t}"
        for m, targets in GRAPH.items()
        if m.split(".")[1] in LAYERS
        for t in targets
        if t.split(".")[1] in LAYERS and _layer(t) > _layer(m)
    )
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_cycle():
    # Tarjan's strongly connected components over the module graph
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                visit(w)
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
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_long_modules_say_why():
    long = []
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_LINES:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "One module because" not in doc:
                long.append(f"{module} ({text.count(chr(10))} lines)")
    assert not long, (
        f"modules over {MAX_LINES} lines without 'One module because …' in the docstring: {long}"
    )


def test_every_module_imports():
    """A moved name breaks its importers at once, not when ``make demo`` finally runs one."""
    import importlib

    for module in MODULES:
        if module != "ksz_reports.__main__":
            importlib.import_module(module)


def test_every_public_name_is_the_documented_object_after_every_module_is_imported():
    """``ksz_reports.ingest`` names both a package and a function: whichever Python binds last, the
    public name must still be callable as the API documents it."""
    import importlib

    for module in MODULES:
        if module != "ksz_reports.__main__":
            importlib.import_module(module)
    for name in ksz_reports.__all__:
        if name != "__version__":
            assert callable(getattr(ksz_reports, name)), name


def test_every_name_the_benchmarks_import_exists():
    """``make bench`` is not run by the suite; its imports (module level and inside functions)
    are, so a moved name fails here and not on the day someone measures."""
    import importlib

    bench = PACKAGE.parent / "bench"
    for path in sorted(bench.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ksz_reports"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"
                    ), f"{path.name}: from {node.module} import {alias.name}"
