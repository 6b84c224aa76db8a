"""The package's shape: no import cycles, no module reaching into another's private names.

Read from the source with ``ast`` (every import, at module level or inside a function),
so a cycle hidden behind a late import counts too; so does a lazy one: a module calling
``importlib.import_module`` is taken to import each submodule of its package whose name
it spells out, and one calling ``pkgutil.iter_modules`` every module of its package
(the strategies' discovery).
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bench"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported bench module, imported name or None, line) for every import in ``module``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    found = []
    if "pkgutil.iter_modules" in ast.unparse(tree):  # discovery: every module of the package
        found += [(name, None, 0) for name in MODULES
                  if name.rsplit(".", 1)[0] == package and name != module]
    elif "importlib.import_module" in ast.unparse(tree):
        named = {node.value for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        found += [(f"{package}.{name}", None, 0) for name in sorted(named)
                  if f"{package}.{name}" in MODULES]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names
                      if alias.name.split(".")[0] == "bench"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            if base.split(".")[0] != "bench":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in MODULES:  # `from bench import aggregate`
                    found.append((submodule, None, node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return found


def import_graph() -> dict[str, set[str]]:
    return {module: {target for target, _, _ in imports(module)
                     if target in MODULES and target != module}
            for module in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (each a set of modules importing each other):\n" + \
        "\n".join(" <-> ".join(cycle) for cycle in found)


def test_no_module_imports_another_modules_private_names():
    reaching = [f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} imports "
                f"{target}.{name}"
                for module in MODULES for target, name, line in imports(module)
                if name and name.startswith("_") and not name.startswith("__")
                and target != module]
    assert not reaching, "private names used outside their module:\n" + "\n".join(reaching)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_code_passes_ruff_including_the_docstring_style():
    """``ruff check`` is clean, its "D" rules included: one docstring style (Google).

    pyproject.toml sets the rules; ruff is in the ``dev`` extra, which CI installs.
    """
    if importlib.util.find_spec("ruff") is not None:
        command = [sys.executable, "-m", "ruff"]
    elif shutil.which("ruff"):
        command = [shutil.which("ruff")]
    else:
        raise AssertionError("ruff is not installed: pip install -e '.[dev]'")
    result = subprocess.run([*command, "check", "bench", "tests", "scripts"],
                            cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


def test_the_registry_and_the_reports_import_no_torch():
    """The Snakefile's parse and the report jobs read the strategy registry; importing
    torch would cost each of those processes about 2 s (docs/PERFORMANCE.md), so only
    the code that computes imports it (bench.strategies.base says so)."""
    modules = ["bench.strategies", "bench.presentation", "bench.tuning", "bench.aggregate",
               "bench.figures", "bench.tuning_report"]
    check = f"import sys, {', '.join(modules)}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent).stdout
    assert out.strip() == "False"
